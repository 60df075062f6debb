"""The corpus folder: which of its files are documents, and which are skipped and why.

Nothing outside the folder is read: a symbolic link is followed only when its real path (after
every link along it) stays inside the folder, and a linked folder is never walked into. Files
over the size limit, empty files and anything that is not a regular file are skipped before a
byte of them is read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusEmpty
from qa.ingest.extract import SUFFIXES
from qa.settings import DEFAULT_MAX_FILE_MB


@dataclass(frozen=True)
class Skipped:
    source: str  # path relative to the corpus folder
    reason: str


@dataclass(frozen=True)
class Listing:
    files: list[Path]  # corpus / relative path, in sorted order; every one safe to read
    skipped: list[Skipped]


def max_file_bytes(max_file_mb: float | None = None) -> int:
    return int((DEFAULT_MAX_FILE_MB if max_file_mb is None else max_file_mb) * 2**20)


def scan(corpus: Path, max_bytes: int | None = None) -> Listing:
    """The documents under corpus (by suffix; hidden files and folders left out), and the
    candidates skipped, each with its reason."""
    if not corpus.is_dir():
        raise CorpusEmpty(f"no corpus folder at {corpus}: create it and add documents")
    max_bytes = max_file_bytes() if max_bytes is None else max_bytes
    root = Path(os.path.realpath(corpus))
    files: list[Path] = []
    skipped: list[Skipped] = []
    for folder, subfolders, names in os.walk(corpus, followlinks=False):
        here = Path(folder)
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        for name in subfolders:
            if (here / name).is_symlink() and not _inside(here / name, root):
                relative = (here / name).relative_to(corpus).as_posix()
                skipped.append(Skipped(relative + "/", "a link to a folder outside the corpus"))
        for name in names:
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            relative = path.relative_to(corpus).as_posix()
            reason = _unreadable(path, root, max_bytes)
            if reason:
                skipped.append(Skipped(relative, reason))
            else:
                files.append(path)
    return Listing(sorted(files), sorted(skipped, key=lambda s: s.source))


def _inside(path: Path, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def _unreadable(path: Path, root: Path, max_bytes: int) -> str | None:
    """Why path must not be read, or None."""
    if not _inside(path, root):
        return "a link to outside the corpus folder (not followed)"
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size == 0:
        return "empty"
    if info.st_size > max_bytes:
        return (
            f"{info.st_size / 2**20:.3g} MB, over the {max_bytes / 2**20:.3g} MB limit "
            "(--max-file-mb, QA_MAX_FILE_MB)"
        )
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None
