"""The request log holds what clients send as data: no line forged, no terminal cleared."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from qa.surfaces.access import printable

FORGED = "17:00:00 POST /ask 200 1 ms"


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("/ask", "/ask"),
        ("/x\n17:00:00 POST", "/x\\n17:00:00 POST"),
        ("/\x1b[2J", "/\\x1b[2J"),
        ("/a\rb\x00c\x7f", "/a\\rb\\x00c\\x7f"),
        ("/a\u2028b\u2029c\x85", "/a\\u2028b\\u2029c\\x85"),  # line separators, NEL
        ("/\u202eevil", "/\\u202eevil"),  # a right-to-left override
        ("/résumé/北京", "/résumé/北京"),  # printable text stays as it is
    ],
)
def test_printable_escapes_what_is_not_printable(text, logged):
    assert printable(text) == logged


def test_printable_cuts_a_long_name():
    assert printable("x" * 70_000, 500) == "x" * 500 + "…[69,500 more characters]"


def raw_get(port: int, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_forged_line_or_an_escape_in_a_path_stays_inside_its_own_log_line(
    brief_corpus, brief_index, tmp_path
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {"QA_CORPUS": str(brief_corpus), "QA_INDEX": str(brief_index)}
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "qa", "serve", "--port", str(port), "--log-level", "info"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()
            try:
                raw_get(port, "/health")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        forged = "/x%0a" + FORGED.replace(" ", "%20")
        assert raw_get(port, forged).startswith(b"HTTP/1.1 404")
        assert raw_get(port, "/y%1b[2J%1b]0;title%07%0d").startswith(b"HTTP/1.1 404")
        assert raw_get(port, "/z%e2%80%a8" + FORGED.replace(" ", "%20")).startswith(b"HTTP/1.1 404")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_bytes().decode("utf-8")
    lines = text.splitlines()
    assert not any(line.startswith(FORGED) for line in lines), text
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\u2028" not in text
    assert any(f"GET /x\\n{FORGED} 404 " in line for line in lines), text
    assert any("GET /y\\x1b[2J\\x1b]0;title\\x07\\r 404 " in line for line in lines), text
    assert any(f"GET /z\\u2028{FORGED} 404 " in line for line in lines), text


def test_an_error_naming_what_a_user_typed_is_one_line_on_the_terminal(brief_index):
    from typer.testing import CliRunner

    from qa.surfaces.cli import app

    result = CliRunner().invoke(app, ["show", "x\n\x1b[2Jy", "--index", str(brief_index)])
    assert result.exit_code == 1
    assert result.stderr == "error: no document x\\n\\x1b[2Jy in the index: `qa info` lists them\n"
