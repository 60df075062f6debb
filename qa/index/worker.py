"""A build in a child process, for the processes that live on (`qa serve --watch`, `qa index
--watch`): what only a build needs (the build encoder on every core with its memory arena, torch
for a model's first export) goes with the child, never into the long-lived process.

Building in the server's own process, `qa serve --watch` grew from 230 to 687 MB RSS over 5
corpus swaps; building in a child, to 253 MB (`benchmarks/watch_memory.py`, RESULTS-load.md).

    parent: build_in_child(settings, ...)  ->  python -P -m qa.index.worker, the request on stdin
    child:  progress lines on stderr (relayed one by one), then one JSON line on stdout:
            {"report": {...}} or {"error": "...", "kind": "CorpusEmpty"}
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from qa import errors
from qa.errors import QAError
from qa.settings import Settings


def build_in_child(
    settings: Settings, max_words: int, progress: Callable[[str], None] = lambda message: None
):
    """qa.index.store.build(settings, ...) run by a child process: its BuildReport, or the
    QAError it raised."""
    from qa.index.pipeline import BuildReport

    request = {
        "corpus": str(settings.corpus),
        "corpus_from": settings.corpus_from,
        "index": str(settings.index),
        "database": settings.database,
        "model": settings.model,
        "max_file_mb": settings.max_file_mb,
        "max_words": max_words,
    }
    child = subprocess.Popen(
        child_command("qa.index.worker"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        child.stdin.write(json.dumps(request))  # not in argv, where `ps` shows a password
        child.stdin.close()
        for line in child.stderr:
            said = line.rstrip("\n").split("\r")[-1]  # a progress bar: its last state
            if said.strip():
                progress(said)
        answer = child.stdout.read()
        child.wait()
    finally:
        if child.poll() is None:  # interrupted: a build killed mid-way leaves the index as it was
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    lines = answer.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    if "error" in result:
        kind = getattr(errors, str(result.get("kind")), QAError)
        raise (kind if isinstance(kind, type) and issubclass(kind, QAError) else QAError)(
            result["error"]
        )
    if child.returncode != 0 or "report" not in result:
        raise QAError(f"the index build stopped (exit status {child.returncode}): see above")
    report = result["report"]
    return BuildReport(**(report | {"folder": Path(report["folder"])}))


def child_command(module: str) -> list[str]:
    """The command that runs module of the installed package in a child Python. With `-P` the
    working folder is not put first on the import path, as `-m` alone puts it (pip runs its
    build hooks' `_in_process.py` apart in the same way): a `qa/` planted there never runs, and
    a clone named `qa` there hides nothing."""
    return [sys.executable, "-P", "-m", module]


def main() -> int:
    from qa.index.store import build
    from qa.models.onnx_embedding import BuildEncoder

    request = json.loads(sys.stdin.read())
    max_words = request.pop("max_words")
    settings = Settings(
        **(request | {"corpus": Path(request["corpus"]), "index": Path(request["index"])})
    )

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        report = build(settings, BuildEncoder(settings.model, notice=say), say, max_words=max_words)
    except QAError as exc:
        print(json.dumps({"error": str(exc), "kind": type(exc).__name__}), flush=True)
        return 1
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent says so
        return 130
    print(json.dumps({"report": asdict(report) | {"folder": str(report.folder)}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
