"""Integrity: a build's files are checked against the sha256 its manifest holds, and the manifest
against a seal of itself, so a truncated or altered file is refused, never half-read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qa.errors import IndexCorrupt
from qa.index.layout import MANIFEST, is_checked


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a build but its manifest and its encoder, by relative path.

    The ONNX encoder is checked otherwise: it must reproduce the model's probe vectors, and a
    damaged one falls back to sentence-transformers rather than failing the index. Hashing its
    90 MB would also cost every `qa ask` a quarter of a second."""
    return {
        p.relative_to(folder).as_posix(): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and is_checked(folder, p)
    }


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
        path = folder / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts or not path.is_file():
            problem = "is missing"
        elif sha256(path) != digest:
            problem = "does not match its checksum"
        else:
            continue
        raise IndexCorrupt(
            f"index at {root} is damaged ({relative} {problem}): run `qa index --rebuild`"
        )


def seal(manifest: dict) -> str:
    """sha256 of the manifest's own content, so that an edit to it is noticed too."""
    content = {key: value for key, value in manifest.items() if key != "seal"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
