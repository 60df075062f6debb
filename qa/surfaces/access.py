"""One log line per HTTP request (method, path, status, milliseconds), on the `qa.http` logger.

`qa serve --log-level info` shows them; at the default, warning, they are not even formatted.
Every field from outside is logged as data: a `%0a` or an ESC in a path forges no line and
clears no terminal.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("qa.http")
MAX_LOGGED = 500  # characters of a path in a log line (a 70 KB path floods no log)


def printable(text: str, limit: int | None = None) -> str:
    """text as one line of a log or a terminal may hold it: each character that is not printable
    (controls such as a line feed or ESC, line and paragraph separators, invisible format
    characters) written as its escape (`\\x0a`, `\\x1b`, `\\u2028`); cut to limit characters."""
    cut = ""
    if limit is not None and len(text) > limit:
        text, cut = text[:limit], f"…[{len(text) - limit:,} more characters]"
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text + cut


class AccessLog:
    """Pure ASGI middleware, outermost, so that every answer is logged (a 413 or a 401 too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]  # 0: the client left before an answer began

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            ms = (time.perf_counter() - started) * 1000
            method, path = printable(scope["method"], 20), printable(scope["path"], MAX_LOGGED)
            logger.info("%s %s %d %.0f ms", method, path, status[0], ms)
