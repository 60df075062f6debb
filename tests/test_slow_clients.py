"""Slow clients on a real server on 127.0.0.1: headers and bodies have deadlines, and the
connections open at once are bounded (qa/surfaces/limits.py), with short limits here."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time

import pytest
import uvicorn

from qa.surfaces.limits import Limits, uvicorn_options
from qa.surfaces.server import create_app

SHORT = Limits(body_seconds=1.0, header_seconds=1.0, connections=4)
ORIGIN = "https://allowed.example"


@pytest.fixture(scope="module")
def port(settings, assistant):
    shared = dataclasses.replace(settings, cors_origins=(ORIGIN,))
    app = create_app(shared, assistant, limits=SHORT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        number = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=number, log_level="warning", **uvicorn_options(SHORT))  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    yield number
    server.should_exit = True
    thread.join(timeout=10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    return got


def one_answer(sock: socket.socket) -> bytes:
    """One answer on a connection kept alive: its head, then as many bytes as it says."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536)
    head, rest = raw.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")))  # fmt: skip
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def request(port: int, head: str, body: bytes = b"") -> bytes:
    with connect(port) as sock:
        sock.sendall(head.encode() + body)
        return answer(sock)


def status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def body_of(raw: bytes) -> dict:
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])


def test_a_request_whose_headers_stall_is_answered_408_and_closed(port):
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # the blank line never comes
        started = time.monotonic()
        raw = answer(sock)
        waited = time.monotonic() - started
    assert status(raw) == 408 and 0.8 < waited < 5, (raw, waited)
    assert body_of(raw) == {"detail": "the request's headers did not arrive within 1 s"}


def test_a_connection_that_sends_nothing_is_closed(port):
    with connect(port) as sock:
        started = time.monotonic()
        assert status(answer(sock)) == 408
        assert time.monotonic() - started < 5


def test_a_body_that_stalls_is_answered_408_with_cors_headers(port):
    head = (
        "POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Origin: {ORIGIN}\r\nContent-Length: 125000\r\n\r\n"
    )
    with connect(port) as sock:
        sock.sendall(head.encode() + b'{"question": "' + b"x" * 100_000)  # then nothing
        started = time.monotonic()
        raw = answer(sock)
        waited = time.monotonic() - started
    assert status(raw) == 408 and waited < 5, raw[:300]
    assert f"access-control-allow-origin: {ORIGIN}".encode() in raw.lower()
    assert body_of(raw) == {"detail": "the request body did not arrive within 1 s"}


def test_a_request_that_keeps_to_the_deadlines_is_answered_and_kept_alive(port):
    body = json.dumps({"query": "rail gauges", "top_k": 2}).encode()
    head = (
        f"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with connect(port) as sock:
        for _ in range(2):  # the same connection, twice
            sock.sendall(head.encode() + body[:10])
            time.sleep(0.3)  # slow, but within the deadline
            sock.sendall(body[10:])
            raw = one_answer(sock)
            assert status(raw) == 200, raw[:300]
            assert body_of(raw)["results"]


def test_a_new_client_is_served_while_stalled_ones_hold_every_place(port):
    """At the bound, the connection that has waited longest for its request makes room."""
    stalled = [connect(port) for _ in range(SHORT.connections)]
    for n, sock in enumerate(stalled):  # in their headers, or in their bodies
        if n % 2:
            sock.sendall(b"POST /ask HTTP/1.1\r\nHost: x\r\nContent-Length: 125000\r\n\r\n" + b"x" * 100_000)  # fmt: skip
        else:
            sock.sendall(b"GET /health HTTP/1.1\r\n")
        time.sleep(0.05)
    served = []
    try:
        for _ in range(3):  # each makes room again, kept alive after its answer
            served.append(connect(port))
            served[-1].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status(one_answer(served[-1])) == 200
        for sock in stalled[:3]:  # the oldest waiting, closed in turn
            assert status(answer(sock)) == 503
    finally:
        for sock in stalled + served:
            sock.close()


def test_a_connection_over_the_bound_is_refused_while_all_are_being_answered(port):
    body = json.dumps({"question": "How do the EU and NATO share information?", "top_k": 50})
    head = (
        "POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )
    asking = [connect(port) for _ in range(SHORT.connections)]
    for sock in asking:  # answered two at a time: the others wait, their requests whole
        sock.sendall(head.encode())
    time.sleep(0.05)
    try:
        with connect(port) as extra:
            extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            started = time.monotonic()
            raw = answer(extra)
            assert time.monotonic() - started < 2
        assert status(raw) == 503 and b"retry-after: 5" in raw.lower(), raw[:300]
        assert body_of(raw) == {"detail": "the server has 4 connections open, its most: try again shortly"}  # fmt: skip
        assert all(status(answer(sock)) == 200 for sock in asking)  # none of them dropped
    finally:
        for sock in asking:
            sock.close()
    time.sleep(0.3)
    assert status(request(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200  # fmt: skip


def test_qa_serve_runs_the_bounded_protocol(brief_corpus, brief_index, monkeypatch):
    from typer.testing import CliRunner

    from qa.surfaces.cli import app
    from qa.surfaces.limits import MAX_CONNECTIONS, Bounded

    ran = []
    monkeypatch.setattr(uvicorn, "run", lambda server, **options: ran.append(options))
    where = ["--corpus", str(brief_corpus), "--index", str(brief_index)]
    assert CliRunner().invoke(app, ["serve", *where]).exit_code == 0
    http = ran[-1]["http"]
    assert issubclass(http, Bounded) and http.limits.connections == MAX_CONNECTIONS
    assert ran[-1]["ws"] == "none"
