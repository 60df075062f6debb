"""The HTTP API and the chat page: a thin FastAPI layer over the assistant."""

from __future__ import annotations

import hmac
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware

from qa.assistant import MAX_QUESTION_CHARS, MAX_TOP_K, Assistant
from qa.errors import BadInput, QAError
from qa.settings import Settings

WEB = Path(__file__).parent / "web"
MAX_BODY_BYTES = 64 * 1024
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
)


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)
    sources: list[str] | None = None


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)
    sources: list[str] | None = None


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse(
                {"detail": f"request body over {MAX_BODY_BYTES // 1024} KB"}, status_code=413
            )
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The app over one assistant; the index and model load once, at start-up."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.assistant = assistant or await run_in_threadpool(Assistant, settings)
        await run_in_threadpool(app.state.assistant.warm_up)
        yield

    app = FastAPI(title="qa", summary="Cited answers from a document corpus", lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
        )

    @app.exception_handler(QAError)
    async def domain_error(request: Request, exc: QAError):
        status = 422 if isinstance(exc, BadInput) else 503
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        messages = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            messages.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(messages)}, status_code=422)

    def check_key(request: Request) -> None:
        if not settings.api_key:
            return
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.api_key}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(status_code=401, detail="missing or wrong API key")

    @app.get("/health")
    def health(request: Request) -> dict:
        a: Assistant = request.app.state.assistant
        counts: dict[str, int] = {}
        for p in a.index.passages:
            counts[p.source] = counts.get(p.source, 0) + 1
        documents = [
            {"source": s, "title": d["title"], "date": d["date"], "passages": counts.get(s, 0)}
            for s, d in a.index.documents.items()
        ]
        return {
            "status": "ok",
            "passages": a.passages,
            "model": a.embedder.name,
            "documents": documents,
        }

    @app.post("/search")
    async def search(body: SearchRequest, request: Request) -> dict:
        check_key(request)
        a: Assistant = request.app.state.assistant
        hits = await run_in_threadpool(a.search, body.query, body.top_k, body.sources)
        return {"query": body.query, "results": [h.to_dict() for h in hits]}

    @app.post("/ask")
    async def ask(body: AskRequest, request: Request) -> dict:
        check_key(request)
        a: Assistant = request.app.state.assistant
        answer = await run_in_threadpool(a.ask, body.question, body.top_k, body.sources)
        return answer.to_dict()

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html")

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(WEB / "widget.js", media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    return app
