"""Integrity: a build's files are checked against the sha256 its manifest holds, and the manifest
against a seal of itself, so a truncated or altered file is refused, never half-read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qa.errors import IndexCorrupt
from qa.index.layout import ENCODER, MANIFEST, encoder_folder, is_checked, is_encoder
from qa.models.onnx_embedding import export_problem


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a build but its manifest and its encoder, by relative path.

    The ONNX encoder's files have checksums of their own (encoder_checksums): a damaged encoder
    does not fail the index (queries fall back to sentence-transformers, with a notice), and the
    encoder checks its own files as it loads (qa/models/onnx_embedding.py), on another core."""
    return _digests(folder, is_checked)


def encoder_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a build's ONNX encoder, by relative path (none without one)."""
    return _digests(folder, is_encoder)


def encoder_damage(folder: Path, manifest: dict) -> str | None:
    """What is wrong with a build's encoder ("encoder/model.onnx does not match its checksum",
    or an export that cannot check its own files), or None when it is sound or the build has
    none (queries then use sentence-transformers)."""
    expected = manifest.get("encoder")
    if not isinstance(expected, dict):
        return None
    for relative, digest in expected.items():
        problem = _problem(folder, relative, digest)
        if problem is not None:
            return f"{relative} {problem}"
    if expected and (problem := export_problem(encoder_folder(folder))) is not None:
        return f"{ENCODER}/: {problem}"
    return None


def verify(root: Path, folder: Path, manifest: dict) -> None:
    """Refuse a build any of whose files is missing, truncated or altered since it was written."""
    expected = manifest.get("checksums")
    if not isinstance(expected, dict) or not expected:
        raise IndexCorrupt(f"index at {root} has no checksums: run `qa index --rebuild`")
    if manifest.get("seal") != seal(manifest):
        raise IndexCorrupt(
            f"index at {root} is damaged ({MANIFEST} was altered): run `qa index --rebuild`"
        )
    for relative, digest in expected.items():
        problem = _problem(folder, relative, digest)
        if problem is not None:
            raise IndexCorrupt(
                f"index at {root} is damaged ({relative} {problem}): run `qa index --rebuild`"
            )


def _problem(folder: Path, relative: str, digest: str) -> str | None:
    path = folder / relative
    if Path(relative).is_absolute() or ".." in Path(relative).parts or not path.is_file():
        return "is missing"
    if sha256(path) != digest:
        return "does not match its checksum"
    return None


def _digests(folder: Path, belongs) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and belongs(folder, p)
    }


def seal(manifest: dict) -> str:
    """sha256 of the manifest's own content, so that an edit to it is noticed too."""
    content = {key: value for key, value in manifest.items() if key != "seal"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
