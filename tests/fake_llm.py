"""A stand-in for an external OpenAI-compatible chat server, on 127.0.0.1, whose replies tests
choose: fixed text, or text built from the numbered passages in the prompt; streamed or whole;
or a failure (an error status, garbage, silence)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def passages_of(request: dict) -> list[str]:
    """The numbered passages qa put in the last user message, in order."""
    content = request["messages"][-1]["content"]
    body = content.split("\n\nQuestion:")[0]
    parts = re.split(r"(?:^|\n\n)\[(\d+)\] ", body)
    return [parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)]


class FakeLLM:
    """`reply(request) -> str` writes the answer; `mode` says how it is sent."""

    def __init__(self) -> None:
        self.reply: Callable[[dict], str] = lambda request: "Nothing. [1]"
        self.mode = "stream"  # "stream", "json", "status", "garbage", "silent", "stall"
        self.requests: list[dict] = []
        self.stall_after = 3  # pieces sent before a "stall" goes quiet
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length))
                fake.requests.append(request)
                text = fake.reply(request)
                if fake.mode == "silent":
                    time.sleep(5)
                    return
                if fake.mode == "status":
                    self._send(500, "application/json", b'{"error": "model not loaded"}')
                elif fake.mode == "garbage":
                    self._send(200, "application/json", b"<html>not a model</html>")
                elif fake.mode == "json":
                    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}  # fmt: skip
                    self._send(200, "application/json", json.dumps(body).encode())
                else:
                    self._stream(text, stall=fake.mode == "stall")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, text: str, stall: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for i, piece in enumerate(re.findall(r"\S+\s*", text)):
                    chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if stall and i + 1 == fake.stall_after:
                        time.sleep(5)
                        return
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
