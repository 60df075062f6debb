"""Child processes run the installed package, never a `qa/` in the folder they are started from."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qa.index.worker import build_in_child
from qa.settings import Settings

NOTE = "# Harbour note\n\nThe harbour walls of Tallinn were raised again in 2016 after the storm.\n"


def planted(folder: Path) -> Path:
    """A folder holding a `qa` package whose index worker leaves a mark when it runs."""
    mark = folder / "RAN"
    package = folder / "qa" / "index"
    package.mkdir(parents=True)
    (folder / "qa" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "worker.py").write_text(f"open({str(mark)!r}, 'w').write('x')\n")
    return mark


def corpus_with_a_note(folder: Path) -> Path:
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(NOTE)
    return corpus


def test_a_build_in_a_child_never_runs_a_qa_package_in_the_working_folder(tmp_path, monkeypatch):
    work = tmp_path / "work"
    mark = planted(work)
    corpus = corpus_with_a_note(tmp_path)
    monkeypatch.chdir(work)
    settings = Settings(corpus=corpus, index=tmp_path / "index", database=None, model=None)
    report = build_in_child(settings, 200)
    assert report.built and report.documents == 1
    assert not mark.exists()


def test_a_build_in_a_child_works_from_the_parent_of_a_clone_named_qa(tmp_path, monkeypatch):
    """`cd ~/src && qa serve --watch ...` where ~/src/qa is a clone: its folder is no package."""
    clone = tmp_path / "src" / "qa"
    (clone / "tests").mkdir(parents=True)
    (clone / "README.md").write_text("a clone\n")
    corpus = corpus_with_a_note(tmp_path)
    monkeypatch.chdir(clone.parent)
    settings = Settings(corpus=corpus, index=tmp_path / "index", database=None, model=None)
    assert build_in_child(settings, 200).built


def test_qa_serve_watch_never_runs_a_qa_package_in_its_working_folder(tmp_path):
    work = tmp_path / "work"
    mark = planted(work)
    corpus = corpus_with_a_note(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    command = [str(Path(sys.executable).parent / "qa"), "serve", "--watch", "--port", str(port)]
    command += ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    server = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while server.poll() is None and time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail(f"qa serve --watch did not start: {server.stderr.read()}")
        assert [d["source"] for d in health["documents"]] == ["note.md"]
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert not mark.exists(), err
    assert "Traceback" not in err
