"""One log line per HTTP request (method, path, status, milliseconds), on the `qa.http` logger.

`qa serve --log-level info` shows them; at the default, warning, they are not even formatted.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("qa.http")


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
            logger.info("%s %s %d %.0f ms", scope["method"], scope["path"], status[0], ms)
