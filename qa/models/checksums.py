"""Checksums of model files: a model or an encoder whose files do not match the checksums they
were written with is never used (a flipped MiB in the middle of the weights can leave a model
that loads, and even passes a self-test, but ranks differently)."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def installed_checksums(package: str, folder: Path) -> dict[str, str]:
    """sha256 (hex) of each file of folder that the installed distribution package holds, by
    path relative to folder, as pip recorded them at install (its RECORD)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(package)
    except PackageNotFoundError:
        return {}
    folder, sums = folder.resolve(), {}
    for entry in dist.files or ():
        if entry.hash is None or entry.hash.mode != "sha256":
            continue
        path = Path(dist.locate_file(entry)).resolve()
        if path.is_relative_to(folder):
            raw = base64.urlsafe_b64decode(entry.hash.value + "=" * (-len(entry.hash.value) % 4))
            sums[path.relative_to(folder).as_posix()] = raw.hex()
    return sums


def model_damage(folder: Path, expected: dict[str, str]) -> str | None:
    """Which file of a model folder does not match its checksum ("model.safetensors does not
    match its checksum"), or None; about 70 ms for the default model's 90 MB."""
    for relative, digest in sorted(expected.items()):
        try:
            if file_sha256(folder / relative) != digest:
                return f"{relative} does not match its checksum"
        except OSError:
            return f"{relative} is missing or unreadable"
    return None


class Verification:
    """Files hashed against their checksums on a thread of their own, so that a command goes on
    loading meanwhile. sha256 of the encoder's 90 MB costs 60 to 100 ms of CPU on this 2-core
    machine (SHA extensions; blake2b 107 ms, crc32 25 ms); a cold `qa ask` asks for the result
    at its first encode, 0.2 s after the hash began, and waits 0 ms. With both cores busy with
    other work the CPU is not free: the cold `qa ask` took 0.895 s against 0.825 s unchecked
    (median of 12 each, /tmp trace and A/B runs, load average 2-3)."""

    def __init__(self, folder: Path, expected: dict[str, str]) -> None:
        self._problem: str | None = None
        self._thread = threading.Thread(
            target=self._check, args=(folder, expected), name="qa-verify", daemon=True
        )
        self._thread.start()

    def _check(self, folder: Path, expected: dict[str, str]) -> None:
        for name, digest in sorted(expected.items()):
            path = folder / name
            try:
                if Path(name).name != name or file_sha256(path) != digest:
                    self._problem = f"{name} does not match its checksum"
                    return
            except OSError:
                self._problem = f"{name} is missing or unreadable"
                return

    def problem(self) -> str | None:
        """What does not match (waiting for the check to end), or None."""
        self._thread.join()
        return self._problem
