"""The HTTP API and the chat page: a thin FastAPI layer over the assistant."""

from __future__ import annotations

import hmac
import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.answer.answering import Answer
from qa.answer.assistant import Assistant, check_query
from qa.errors import (
    BadInput,
    CorpusEmpty,
    IndexMissing,
    LLMError,
    LLMTimeout,
    QAError,
    UnknownDocument,
)
from qa.index.inventory import encoder_warning
from qa.settings import Settings
from qa.surfaces.access import AccessLog, printable
from qa.surfaces.limits import MAX_BODY_BYTES, BodyLimit, Limits
from qa.surfaces.schemas import (
    AskRequest,
    AskResponse,
    HealthResponse,
    Problem,
    SearchRequest,
    SearchResponse,
    TurnIn,
)

WEB = Path(__file__).parent / "web"
MAX_DETAIL = 500  # characters of an error's detail: a 70 KB name asked for is not echoed whole
PROTECTED_PATHS = frozenset({"/search", "/ask"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
)
# FastAPI's interactive docs load Swagger UI and ReDoc from a CDN and start them inline.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
}


# Domain errors to HTTP statuses, most specific first; any other QAError is a 503.
STATUS = {UnknownDocument: 404, BadInput: 422, LLMTimeout: 504, LLMError: 502}


def status_of(exc: QAError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 503)


PROBLEMS = {
    404: {"model": Problem, "description": "A document named in `sources` is not in the index"},
    408: {"model": Problem, "description": "The request body did not arrive in time"},
    413: {"model": Problem, "description": f"Request body over {MAX_BODY_BYTES // 1024} KB"},
    422: {
        "model": Problem,
        "description": "Bad request: empty or over-long question, bad top_k, malformed or too deeply nested JSON",
    },
    502: {"model": Problem, "description": "The configured LLM is down or answered garbage"},
    503: {"model": Problem, "description": "The index cannot be used"},
    504: {"model": Problem, "description": "The configured LLM did not answer in time"},
}


class SecurityHeaders:
    """Pure ASGI middleware, outside all but the access log: security headers on every answer
    (a CORS preflight's, a 413's, a 401's too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        own = {"Content-Security-Policy": DOCS_CSP} if scope["path"] in DOCS_PATHS else {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (SECURITY_HEADERS | own).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequireKey:
    """Pure ASGI middleware: paths that answer questions need `Authorization: Bearer <key>`.

    Checked before the app reads the body, so an unauthenticated client learns nothing about
    its request but that the key is missing or wrong; the comparison takes constant time.
    """

    def __init__(self, app: ASGIApp, key: str, paths: frozenset[str]) -> None:
        self.app = app
        self.expected = f"Bearer {key}".encode()
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only the methods that answer: other methods get their 405, preflights their CORS answer.
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            given = Headers(scope=scope).get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, self.expected):
                response = JSONResponse(
                    {"detail": "missing or wrong API key: send `Authorization: Bearer <key>`"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _describe(error: dict) -> str:
    """One short line for a validation error; never the input, which may be huge."""
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "decode error")
        return f"the body is not valid JSON ({reason})"[:200]
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    return f"{where}: {error.get('msg', 'invalid')}"[:200]


def _unreadable(cause: BaseException | None) -> str | None:
    """What is wrong with a body that Python's JSON parser raised on (other than a syntax error,
    which FastAPI reports itself); None if the cause is not the body's."""
    if isinstance(cause, UnicodeDecodeError):
        return "the body is not valid JSON (not UTF-8 text)"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return f"a number in the body is too long (at most {sys.get_int_max_str_digits()} digits)"
    if isinstance(cause, RecursionError):  # BodyLimit refuses such bodies first (MAX_DEPTH)
        return "the body nests arrays or objects too deeply"
    if isinstance(cause, ValueError):
        return "the body could not be read as JSON"
    return None


def _rest(first, events) -> list:
    return [first, *events]


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _server_sent(first, events):
    """An answer as server-sent events: `delta` text, then `answer` (or `error`). Iterated in a
    worker thread by Starlette, since each next() may wait on the LLM."""
    item = first
    try:
        while True:
            if isinstance(item, str):
                if item:
                    yield _event("delta", {"text": item})
            else:
                yield _event("answer", item.to_dict())
                return
            item = next(events)
    except QAError as exc:  # the LLM failed after the answer began: said in the stream
        yield _event("error", {"detail": str(exc), "status": status_of(exc)})


def _waiting(settings: Settings, question: str, k: int):
    """What /ask answers while `qa serve --watch` waits for the corpus's first documents: a
    refusal that says so (the question is checked as ever)."""
    check_query(question, k)
    message = (
        f"No documents yet: add .txt, .md, .html, .pdf or .docx files to {settings.corpus}; "
        "questions are answered from them as soon as they are indexed."
    )
    return iter([message, Answer(question, message, False, [], {"reason": "no documents"})])


def _turns(history: list[TurnIn]) -> list[dict]:
    return [turn.model_dump() for turn in history]


def _watch(app: FastAPI, settings: Settings):
    """Keep app's index in step with the corpus folder (qa/index/watch.py); returns the stop event."""
    from qa.index.watch import CorpusWatch, start, updater
    from qa.ingest.corpus import max_file_bytes

    def say(message: str) -> None:
        print(f"qa: {printable(message)}", file=sys.stderr, flush=True)

    update = updater(settings, say)

    def rebuild() -> None:
        report = update()
        if report.built:
            serving = app.state.assistant
            fresh = serving.refreshed() if serving else Assistant(settings)
            fresh.warm_up()  # ready before the first request reaches it
            app.state.assistant = fresh  # one assignment: requests see the old or the new
            say(f"now serving {fresh.passages} passages")

    watching = CorpusWatch(settings.corpus, max_file_bytes(settings.max_file_mb))
    return start(watching, rebuild, say)[1]


def create_app(
    settings: Settings | None = None,
    assistant: Assistant | None = None,
    watch: bool = False,
    limits: Limits | None = None,
) -> FastAPI:
    """The app over one assistant; the index and model load once, at start-up. With watch, a
    change to the corpus is indexed and a new assistant swapped in whole: each request keeps
    the assistant it started with, so none fails or mixes two indexes. limits bound what a
    request's body may cost (qa/surfaces/limits.py)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            app.state.assistant = assistant or await run_in_threadpool(Assistant, settings)
        except (CorpusEmpty, IndexMissing):
            if not watch:
                raise
            app.state.assistant = None  # waiting: the first documents to arrive are served
        if app.state.assistant is not None:
            await run_in_threadpool(app.state.assistant.warm_up)
        stop = _watch(app, settings) if watch else None
        # Questions are answered a few at a time: more at once only oversubscribe the cores, and
        # each concurrent encode grows the runtime's memory arena (RSS would scale with clients).
        app.state.workers = CapacityLimiter(max(2, os.cpu_count() or 2))
        yield
        if stop is not None:
            stop.set()

    app = FastAPI(title="qa", summary="Cited answers from a document corpus", lifespan=lifespan)
    # Outermost last: the access log, security headers, CORS (so that the body's 408, 413 and
    # 422 and a key's 401 carry CORS headers, and the widget can read them), the body's limits,
    # then keys.
    if settings.api_key:
        app.add_middleware(RequireKey, key=settings.api_key, paths=PROTECTED_PATHS)
    app.add_middleware(BodyLimit, limits=limits)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
        )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)

    @app.exception_handler(QAError)
    async def domain_error(request: Request, exc: QAError):
        return JSONResponse({"detail": printable(str(exc), MAX_DETAIL)}, status_code=status_of(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # FastAPI answers 400 to a body its JSON parser raised on; to a client it is a bad body.
        unread = _unreadable(exc.__cause__) if exc.status_code == 400 else None
        if unread is not None:
            return JSONResponse({"detail": unread}, 422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        messages = [_describe(error) for error in exc.errors()[:5]]
        return JSONResponse({"detail": "; ".join(messages)}, status_code=422)

    problems = dict(PROBLEMS)
    if settings.api_key:
        problems[401] = {"model": Problem, "description": "Missing or wrong API key"}

    @app.get("/health", response_model=None, responses={200: {"model": HealthResponse}})
    def health(request: Request) -> dict:
        a: Assistant = request.app.state.assistant
        if a is None:
            return {"status": "ok", "passages": 0, "model": settings.model or "", "documents": []}
        health = {
            "status": "ok",
            "passages": a.passages,
            "model": a.embedder.name,
            "documents": a.index.summaries(),
        }
        damage = a.index.encoder_damage  # hashed once per loaded index
        if damage is not None:
            health["warning"] = encoder_warning(damage)
        return health

    @app.post(
        "/search", response_model=None, responses={200: {"model": SearchResponse}, **problems}
    )
    async def search(body: SearchRequest, request: Request) -> dict:
        a: Assistant = request.app.state.assistant
        if a is None:
            return {"query": body.query, "query_used": body.query, "results": []}
        used = a.query_for(body.query, _turns(body.history))
        hits = await to_thread.run_sync(
            a.search, used, body.top_k, body.sources, limiter=app.state.workers
        )
        return {"query": body.query, "query_used": used, "results": [h.to_dict() for h in hits]}

    ok = {"model": AskResponse, "content": {"text/event-stream": {}}}

    @app.post("/ask", response_model=None, responses={200: ok, **problems})
    async def ask(body: AskRequest, request: Request):
        a: Assistant = request.app.state.assistant
        if a is None:
            events = _waiting(settings, body.question, body.top_k)
        else:
            events = a.ask_stream(body.question, body.top_k, body.sources, _turns(body.history))
        # The first item settles the request (bad input, a dead LLM) before any answer is sent.
        first = await to_thread.run_sync(next, events, limiter=app.state.workers)
        if not body.stream:
            *_, answer = await to_thread.run_sync(_rest, first, events, limiter=app.state.workers)
            return answer.to_dict()
        return StreamingResponse(
            _server_sent(first, events),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # Documented without response_class, so that the 404 and 422 stay described as JSON.
    opened = {"description": "The document", "content": {"text/html": {}, "application/pdf": {}}}

    @app.get(
        "/documents/{source:path}",
        response_model=None,
        responses={200: opened, 404: PROBLEMS[404], 422: PROBLEMS[422]},
    )
    def document(source: str, request: Request, start: int | None = None, end: int | None = None):
        """A corpus document opened at a cited place: a PDF as the file (cite `#page=N`), any
        other format as a page of its text with text[start:end] marked and scrolled to."""
        from qa.surfaces.documents import opened

        return opened(request.app.state.assistant, source, start, end)

    app.add_api_route("/documents/{source:path}", document, methods=["HEAD"], include_in_schema=False)  # fmt: skip

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html")

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(WEB / "widget.js", media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    return app
