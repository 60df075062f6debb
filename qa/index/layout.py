"""The index folder's layout: the one place that names its files, and reads and writes them.

    current -> build-<id>/       a symlink, swapped atomically when a build finishes
    build-<id>/manifest.json      format, model, dimension, chunking, fingerprint of every file,
                                  sha256 of every other file of the build (the encoder's apart),
                                  and a seal of itself
    build-<id>/passages.jsonl     passages with their exact spans and citations
    build-<id>/documents.json     each document's kept (extracted) text, title, date, page starts
                                  and what extraction kept of it
    build-<id>/dense.faiss        inner product over normalised embeddings
    build-<id>/lexical/           BM25 (bm25s arrays, no pickle)
    build-<id>/encoder/           the model's ONNX export (qa/models/onnx_embedding.py)
    .lock                         held while a build writes, so builds run one at a time

A build writes a staging folder beside the current build and only then repoints `current`, so a
failed or killed build leaves the previous index in use.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from qa.ingest.documents import Endnote
from qa.ingest.passages import Passage
from qa.models.onnx_embedding import ENCODER_DIR

CURRENT = "current"
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DOCUMENTS = "documents.json"
DENSE = "dense.faiss"
LEXICAL = "lexical"
ENCODER = ENCODER_DIR
LOCK = ".lock"
_STAGING = ".tmp-"
_BUILD = "build-"

__all__ = ["CURRENT", "DENSE", "DOCUMENTS", "ENCODER", "LEXICAL", "MANIFEST", "PASSAGES"]


def current(root: Path) -> Path:
    """The folder of the build in use (resolved once, so every file comes from the same build)."""
    return (root / CURRENT).resolve()


def has_manifest(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def read_documents(folder: Path) -> dict[str, dict]:
    return json.loads((folder / DOCUMENTS).read_text(encoding="utf-8"))


def read_passages(folder: Path) -> list[Passage]:
    return [passage_from_json(line) for line in _lines(folder / PASSAGES)]


def passage_records(folder: Path) -> Iterator[dict]:
    """Each stored passage as its JSON object (cheaper than Passage when only a field is wanted)."""
    for line in _lines(folder / PASSAGES):
        yield json.loads(line)


def read_dense(folder: Path):
    import faiss

    return faiss.read_index(str(folder / DENSE))


def lexical_folder(folder: Path) -> Path:
    return folder / LEXICAL


def encoder_folder(folder: Path) -> Path:
    return folder / ENCODER


def is_checked(folder: Path, path: Path) -> bool:
    """Whether a file of a build is covered by the manifest's checksums: all but the manifest and
    the encoder (whose files have checksums of their own, qa/index/integrity.py)."""
    return path != folder / MANIFEST and not is_encoder(folder, path)


def is_encoder(folder: Path, path: Path) -> bool:
    """Whether a file of a build belongs to its ONNX encoder."""
    return path.relative_to(folder).parts[0] == ENCODER


def copy_data(source: Path, staging: Path) -> None:
    """Copy a build's data files (all but its manifest and encoder) into staging."""
    for path in sorted(source.rglob("*")):
        if path.is_file() and is_checked(source, path):
            target = staging / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def passage_from_json(line: str) -> Passage:
    data = json.loads(line)
    data["endnotes"] = tuple(Endnote(**note) for note in data["endnotes"])
    return Passage(**data)


def write_build(
    staging: Path,
    passages: Iterable[Passage],
    documents: dict[str, dict],
    dense,
    lexical,
) -> None:
    """Write a build's data files into staging (the manifest and encoder are written apart)."""
    import faiss

    _write_lines(staging / PASSAGES, (json.dumps(asdict(p), ensure_ascii=False) for p in passages))
    (staging / DOCUMENTS).write_text(json.dumps(documents, ensure_ascii=False), encoding="utf-8")
    faiss.write_index(dense, str(staging / DENSE))
    lexical.save(staging / LEXICAL)


def write_manifest(staging: Path, manifest: dict) -> None:
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


@contextmanager
def build_lock(root: Path):
    """Hold root/.lock for writing; the lock goes with its process, even one killed with -9."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK).open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def new_staging(root: Path) -> Path:
    staging = root / f"{_STAGING}{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    return staging


def publish(root: Path, staging: Path) -> Path:
    """Make a fully written staging folder the current build; return its final folder."""
    _fsync_tree(staging)
    final = root / f"{_BUILD}{time.strftime('%Y%m%d%H%M%S')}-{staging.name[len(_STAGING) :]}"
    staging.rename(final)
    link = root / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(final.name, link)
    os.replace(link, root / CURRENT)
    _fsync_dir(root)
    return final


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def remove_old_builds(root: Path, keep: str) -> None:
    """Remove earlier builds and what killed builds left behind (staging folders, spare links).

    A process that loaded an earlier build keeps answering: it holds everything in memory."""
    for child in root.iterdir():
        if child.name.startswith(f".{CURRENT}-") and child.is_symlink():
            child.unlink(missing_ok=True)
        elif child.name != keep and child.name.startswith((_BUILD, _STAGING)):
            shutil.rmtree(child, ignore_errors=True)


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        yield from (line for line in f if line.strip())


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
