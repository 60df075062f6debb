"""`qa serve` as a process: a port in use, QA_PORT, the request log, waiting for documents."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(*args: str, env: dict | None = None, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", *args],
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def get(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no answer from {url}:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1"],
            env={**os.environ, "QA_PORT": str(port), "QA_INDEX": str(tmp_path / "none")},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: port {port} is in use: try `qa serve --port ")
    assert "serving" not in done.stderr and "Errno" not in done.stderr


def test_requests_are_logged_at_info_and_not_by_default(
    brief_corpus, brief_index, tmp_path
) -> None:
    env = {"QA_CORPUS": str(brief_corpus), "QA_INDEX": str(brief_index)}
    for level, logged in (("info", True), (None, False)):
        port = free_port()
        log = tmp_path / f"serve-{level}.log"
        options = ["--log-level", level] if level else []
        process = serve("--port", str(port), *options, env=env, log=log)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/health", process, log)
            assert get(base + "/search", {"query": "rail gauges"})[0] == 200
            assert get(base + "/ask", {"question": "   "})[0] == 422
        finally:
            stop(process)
        text = log.read_text()
        lines = [line for line in text.splitlines() if " ms" in line]
        if logged:
            assert any(" POST /search 200 " in line for line in lines), text
            assert any(" POST /ask 422 " in line for line in lines), text
        else:
            assert not lines, text


def test_watch_serves_an_empty_folder_until_documents_arrive(tmp_path, brief_corpus) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    port = free_port()
    log = tmp_path / "serve.log"
    env = {"QA_CORPUS": str(corpus), "QA_INDEX": str(tmp_path / "index")}
    process = serve("--port", str(port), "--watch", env=env, log=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", process, log)
        status, health = get(base + "/health")
        assert status == 200 and health["passages"] == 0 and health["documents"] == []
        status, refused = get(base + "/ask", {"question": "What slows military mobility?"})
        assert status == 200 and refused["answerable"] is False, refused
        assert refused["answer"].startswith("No documents yet") and str(corpus) in refused["answer"]
        assert get(base + "/ask", {"question": " "})[0] == 422
        assert get(base + "/search", {"query": "mobility"}) == (
            200,
            {"query": "mobility", "query_used": "mobility", "results": []},
        )
        assert get(base + "/documents/x.txt")[0] == 404

        brief = next(brief_corpus.iterdir())
        (corpus / brief.name).write_text(brief.read_text(encoding="utf-8"), encoding="utf-8")
        deadline = time.monotonic() + 240
        while get(base + "/health")[1]["passages"] == 0:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(1)
        status, answer = get(base + "/ask", {"question": "Why is information sharing problematic?"})
        assert status == 200 and answer["citations"], answer
    finally:
        stop(process)
