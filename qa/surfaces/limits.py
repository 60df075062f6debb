"""What a client can make the server hold, and for how long: the request body (size, nesting and
the time it takes to arrive), the time the request's headers take, and the connections open at
once. The body is checked by BodyLimit (pure ASGI, inside CORS, so that its 408, 413 and 422
carry CORS headers as the app's own answers do); headers and connections by Bounded, uvicorn's
HTTP/1.1 protocol with a deadline and a count, since no ASGI app runs before the headers are in.

1,000 clients that each send 120 KB of a 125,000-byte body and then stall (benchmarks/
slow_clients.py, benchmarks/RESULTS-load.md): before these bounds they held 1,000 connections for
as long as they liked and took the server from 216 to 339 MB RSS; now at most 256 are open, each
newcomer closing the one that has waited longest, none lasts past 21 s, RSS peaks at 274 MB, and
a normal POST /search is answered 200 in 9-22 ms throughout.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import anyio
import h11
import numpy as np
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_BODY_BYTES = 128 * 1024  # a question with its history (qa/answer/conversation.py) fits
DRAIN_BYTES = 1024 * 1024  # of a refused body, read and dropped so that the client hears its 413
# A good body nests 3 deep (the object, its history, a turn); past about 1,000 Python's parser
# hits its recursion limit, and a body is refused long before that.
MAX_DEPTH = 32
# A 128 KB body takes 16 s at 64 kbit/s; a browser on any working link sends it in well under 1.
BODY_SECONDS = 20.0
HEADER_SECONDS = 10.0  # from the connection (or the previous answer) to the request's headers
# Connections open at once. Each stalled one can hold a body of up to 128 KB: 256 of them took
# RSS 30 MB up, 1,000 closing each other in turn 60 MB (benchmarks/slow_clients.py); 8 busy
# clients (benchmarks/load.py) use 8.
MAX_CONNECTIONS = 256
REFUSED_SECONDS = 1.0  # a connection over the bound is kept this long to read its 503

logger = logging.getLogger("qa.http")


@dataclass(frozen=True)
class Limits:
    body_bytes: int = MAX_BODY_BYTES
    body_seconds: float = BODY_SECONDS
    header_seconds: float = HEADER_SECONDS
    connections: int = MAX_CONNECTIONS


class BodyLimit:
    """Pure ASGI middleware: the request body is read here, before the app sees it, up to
    body_bytes and within body_seconds. An oversized upload (a declared Content-Length or a
    chunked stream alike) gets its 413 without being kept (at most DRAIN_BYTES of it are read,
    and dropped), a body too slow to arrive a 408, one nested too deeply a 422."""

    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with anyio.move_on_after(self.limits.body_seconds) as reading:
            body = await self._read(scope, receive, send)
        if reading.cancelled_caught:
            seconds = f"{self.limits.body_seconds:g}"
            await _answer(scope, send, 408, f"the request body did not arrive within {seconds} s", close=True)  # fmt: skip
            return
        if body is None:  # answered already (413), or the client went away
            return
        if too_deep(body, MAX_DEPTH):
            message = f"the body nests arrays or objects more than {MAX_DEPTH} deep"
            await _answer(scope, send, 422, message)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body; None once a 413 is sent or the client has gone."""
        limit = self.limits.body_bytes
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            drained = int(length) <= DRAIN_BYTES and await _drain(receive, 0)
            await self._too_large(scope, send, drained)
            return None
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > limit:
                drained = not more or await _drain(receive, size)
                await self._too_large(scope, send, drained)
                return None
        return b"".join(chunks)

    async def _too_large(self, scope: Scope, send: Send, drained: bool) -> None:
        message = f"request body over {self.limits.body_bytes // 1024} KB"
        await _answer(scope, send, 413, message, close=not drained)


async def _answer(scope: Scope, send: Send, status: int, detail: str, close: bool = False) -> None:
    headers = {"Connection": "close"} if close else {}
    await JSONResponse({"detail": detail}, status, headers)(scope, _no_body, send)


async def _drain(receive: Receive, received: int) -> bool:
    """Read and drop the rest of a refused body while the whole stays under DRAIN_BYTES; True if
    it ended. A client still sending when the server closes the connection gets a reset, and
    with it may lose the 413 it was sent; past DRAIN_BYTES that is the lesser evil."""
    while received <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return False
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
    return False


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


# A JSON string, escapes and all; one left open runs to the end (so the scan stays linear).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\Z)', re.DOTALL)
_STEP = np.zeros(256, dtype=np.int32)  # by byte: +1 opens a level, -1 closes one
_STEP[[ord("["), ord("{")]], _STEP[[ord("]"), ord("}")]] = 1, -1


def too_deep(body: bytes, limit: int) -> bool:
    """Whether body, read as JSON, nests arrays and objects more than limit deep, by its brackets
    outside strings: no parser recurses into a hostile body (128 KB of them: a few ms)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    outside = np.frombuffer(_STRING.sub(b"", body), dtype=np.uint8)
    return int(np.cumsum(_STEP[outside]).max(initial=0)) > limit


def _raw(status: str, detail: str, extra: str = "") -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, for the protocol to write itself."""
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"x-content-type-options: nosniff\r\n{extra}connection: close\r\n\r\n"
    )
    return head.encode() + body


class Bounded(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, bounded: a connection over `limits.connections` is answered
    503 and closed before anything of it is read, and one whose request headers are not all in
    within `limits.header_seconds` (of its opening, or of its previous answer) is answered 408
    and closed. The body's own deadline is BodyLimit's."""

    limits = Limits()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers_due = None
        self._since = self.loop.time()  # since when it waits for a request
        over = len(self.connections) > self.limits.connections
        self._refused = over and not self._make_room()
        if self._refused:
            self.connections.discard(self)  # it holds nothing: not counted
            transport.write(_raw("503 Service Unavailable", self._busy(), "retry-after: 5\r\n"))
            # Closed at once, the client still sending its request would get a reset instead
            # of the answer: its side is shut, what it sends dropped, and it is closed soon.
            if transport.can_write_eof():
                transport.write_eof()
            self.loop.call_later(REFUSED_SECONDS, transport.close)
            return
        self._await_headers()

    def _busy(self) -> str:
        return f"the server has {self.limits.connections} connections open, its most: try again shortly"  # fmt: skip

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request it has not finished
        sending (a stalled client, or an idle one kept alive), so that a new client is served
        while slow ones hold every place; False when every other one is being answered."""
        waiting = [c for c in self.connections if c is not self and c._unanswered()]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._since)
        oldest.transport.write(_raw("503 Service Unavailable", self._busy()))
        oldest.transport.close()
        return True

    def _unanswered(self) -> bool:
        """Whether this connection waits for a request, or for the rest of one it has not been
        answered yet."""
        if self.transport.is_closing():
            return False
        state = self.conn.their_state
        if state is h11.IDLE:  # its first request, or the next one on a connection kept alive
            return True
        return state is h11.SEND_BODY and not self.cycle.response_started

    def _await_headers(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
        self._awaited = self.cycle  # the request before the one awaited (None: the first)
        self._headers_due = self.loop.call_later(self.limits.header_seconds, self._headers_late)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._headers_due is not None and self.cycle is not self._awaited:
            self._headers_due.cancel()  # the headers are in
            self._headers_due = None

    def on_response_complete(self) -> None:
        answered = self.cycle
        super().on_response_complete()
        if self.cycle is answered and not self.transport.is_closing():
            self._since = self.loop.time()
            self._await_headers()  # the next request's, on a connection kept alive

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_headers_due", None) is not None:
            self._headers_due.cancel()
            self._headers_due = None
        super().connection_lost(exc)

    def _headers_late(self) -> None:
        self._headers_due = None
        if self.cycle is not self._awaited or self.transport.is_closing():
            return
        seconds = f"{self.limits.header_seconds:g}"
        logger.info("- the request's headers did not arrive within %s s: closed", seconds)
        late = f"the request's headers did not arrive within {seconds} s"
        self.transport.write(_raw("408 Request Timeout", late))
        self.transport.close()


def protocol(limits: Limits) -> type[Bounded]:
    """Bounded, with these limits (uvicorn makes one per connection from the class)."""
    return type("Bounded", (Bounded,), {"limits": limits})


def uvicorn_options(limits: Limits) -> dict:
    """What `qa serve` passes uvicorn.run beside the app: the bounded protocol, and no
    WebSocket protocol, since the app has no WebSocket route."""
    return {"http": protocol(limits), "ws": "none"}
