"""The HTTP API under bad requests: every client mistake gets a short 4xx, never a 5xx."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from qa.surfaces.limits import DRAIN_BYTES, MAX_BODY_BYTES, MAX_DEPTH, too_deep
from qa.surfaces.server import CSP, create_app

HUGE = "x" * 5000


@pytest.fixture(scope="module")
def client(settings, assistant):
    with TestClient(create_app(settings, assistant)) as client:
        yield client


@pytest.fixture(scope="module")
def keyed(settings, assistant):
    locked = dataclasses.replace(
        settings, api_key="s3cret", cors_origins=("https://allowed.example",)
    )
    with TestClient(create_app(locked, assistant)) as client:
        yield client


def detail(response) -> str:
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body["detail"]


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/ask", {"question": ""}, "question"),
        ("/ask", {"question": "   \n\t  "}, "empty"),
        ("/search", {"query": " "}, "empty"),
        ("/ask", {"question": "x" * 2001}, "2000"),
        ("/search", {"query": HUGE}, "2000"),
        ("/ask", {"question": "NATO?", "top_k": 0}, "top_k"),
        ("/ask", {"question": "NATO?", "top_k": 51}, "top_k"),
        ("/search", {"query": "NATO", "top_k": "x"}, "top_k"),
        ("/search", {"query": "NATO", "top_k": -1}, "top_k"),
        ("/search", {"query": "NATO", "top_k": 2.5}, "top_k"),
        ("/ask", {"question": 42}, "question"),
        ("/ask", {"question": ["a", "b"]}, "question"),
        ("/ask", {"question": None}, "question"),
        ("/search", {"query": "NATO", "sources": "a.txt"}, "sources"),
        ("/ask", {}, "question"),
        ("/search", {"question": "wrong field"}, "query"),
        ("/ask", [], "body"),
        ("/ask", "just a string", "body"),
        ("/ask", b'{"question": "\\ud800 lone surrogate"}', "question"),
        ("/search", b'{"query": "\\u0000"}', "empty"),
        # top_k as strict as stream: an integer, not a boolean or a numeral in a string
        ("/ask", {"question": "NATO?", "top_k": True}, "top_k"),
        ("/search", {"query": "NATO", "top_k": False}, "top_k"),
        ("/search", {"query": "NATO", "top_k": "5"}, "top_k"),
        # invisible characters alone are as empty as spaces
        ("/ask", {"question": "\u200b\u200c\u200d\ufeff"}, "empty"),
        ("/search", {"query": "\u2060\u200e\u00ad \u3164"}, "empty"),
    ],
)
def test_bad_bodies_get_422_with_a_short_message(client, path, body, says):
    if isinstance(body, bytes):
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    else:
        response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    message = detail(response)
    assert says in message
    assert len(response.content) < 1000  # the input is never echoed back
    assert "xxxxxxxxxx" not in message


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"question": "NATO?"', b"not json at all", b'{"question": "a",}', HUGE.encode()],
)
def test_malformed_json_gets_422(client, raw):
    response = client.post("/ask", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "not valid JSON" in detail(response)
    assert len(response.content) < 500


def test_a_number_too_long_to_parse_gets_422_saying_so(client):
    body = b'{"query": "x", "top_k": 1' + b"0" * 5000 + b"}"
    response = client.post("/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert detail(response) == "a number in the body is too long (at most 4300 digits)"
    assert len(response.content) < 500


def test_a_body_that_is_not_utf8_still_says_so(client):
    body = b'{"question": "caf\xe9?"}'
    response = client.post("/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert detail(response) == "the body is not valid JSON (not UTF-8 text)"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 50_000])
def test_deeply_nested_json_gets_422_saying_so(client, depth):
    body = b'{"question": "NATO?", "history": ' + b"[" * depth + b"]" * depth + b"}"
    response = client.post("/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert detail(response) == f"the body nests arrays or objects more than {MAX_DEPTH} deep"


def test_nesting_is_counted_outside_strings_only():
    assert not too_deep(b'{"q": "' + b"[" * 100 + b'"}', MAX_DEPTH)
    assert not too_deep(b'{"q": "\\\\\\"' + b"{" * 100 + b'"}', MAX_DEPTH)
    assert too_deep(b'{"q": "\\\\", "h": ' + b"[" * 40 + b"]" * 40 + b"}", MAX_DEPTH)
    assert not too_deep(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, MAX_DEPTH)
    assert not too_deep(b"[[]]" * 100, MAX_DEPTH)  # many levels in turn, none deep


def test_a_turn_with_brackets_in_its_text_is_not_refused(client):
    turn = {"question": "[[[[" * 20, "answer": "{{{{" * 20}
    response = client.post("/search", json={"query": "NATO", "history": [turn]})
    assert response.status_code == 200, response.text


def test_a_body_that_is_not_json_gets_422(client):
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(
            "/ask", content=b"question=NATO", headers={"Content-Type": content_type}
        )
        assert response.status_code == 422, response.text


def test_an_empty_body_gets_422(client):
    response = client.post("/ask", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "required" in detail(response)


def test_a_good_question_still_answers(client):
    response = client.post(
        "/ask", json={"question": "  Who chairs the NATO-EU staff talks?  ", "top_k": 50}
    )
    assert response.status_code == 200
    assert set(response.json()) >= {"question", "answer", "answerable", "citations"}
    response = client.post("/search", json={"query": "information sharing", "top_k": 1})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_declared_oversized_body_gets_413(client):
    body = b'{"question": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = client.post("/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert f"{MAX_BODY_BYTES // 1024} KB" in detail(response)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_chunked_oversized_body_gets_413_without_being_read_whole(client):
    # TestClient buffers an upload whole, so drive the ASGI app directly with a streamed body
    # (on the client's own event loop, where the app's lifespan runs).
    app, received, sent = client.app, 0, []

    async def receive():
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"a" * 16384, "more_body": received < 1000}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/ask", "raw_path": b"/ask", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
    }  # fmt: skip
    client.portal.call(app, scope, receive, send)
    assert sent[0]["status"] == 413
    assert (b"x-content-type-options", b"nosniff") in sent[0]["headers"]
    # Stopped after at most DRAIN_BYTES (read and dropped, never kept), not after 16 MB.
    assert received * 16384 <= DRAIN_BYTES + 16384
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_chunked_body_under_the_limit_is_accepted(client):
    def chunks():
        yield b'{"query": '
        yield b'"information sharing", '
        yield b'"top_k": 2}'

    response = client.post(
        "/search", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 2


def test_a_body_of_exactly_the_limit_is_not_refused_for_its_size(client):
    padding = MAX_BODY_BYTES - len(b'{"query": "NATO", "pad": ""}')
    body = b'{"query": "NATO", "pad": "' + b" " * padding + b'"}'
    assert len(body) == MAX_BODY_BYTES
    response = client.post("/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),
        ("POST", "/nope", 404),
        ("GET", "/static/../server.py", 404),
        ("GET", "/static/%2e%2e/server.py", 404),
        ("GET", "/ask", 405),
        ("DELETE", "/search", 405),
        ("PUT", "/health", 405),
    ],
)
def test_unknown_paths_and_methods(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/", {}),
        ("GET", "/widget.js", {}),
        ("GET", "/health", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/docs", {}),
        ("GET", "/static/chat.css", {}),
        ("POST", "/search", {"json": {"query": "NATO"}}),
        ("POST", "/ask", {"json": {"question": ""}}),
        ("POST", "/ask", {"content": b"{"}),
        ("GET", "/missing", {}),
    ],
)
def test_security_headers_on_every_response(client, method, path, kwargs):
    response = client.request(method, path, **kwargs)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    docs = "https://cdn.jsdelivr.net" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"] == CSP or (path == "/docs" and docs)


def test_the_page_keeps_its_csp(client):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["content-type"].startswith("text/html")


def test_no_cors_without_listed_origins(client):
    response = client.post(
        "/search", json={"query": "NATO"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/search",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_for_a_listed_origin_only(keyed):
    allowed = {"Origin": "https://allowed.example", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "authorization, content-type"}  # fmt: skip
    preflight = keyed.options("/ask", headers=allowed)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://allowed.example"
    assert preflight.headers["X-Content-Type-Options"] == "nosniff"

    refused = keyed.options("/ask", headers=allowed | {"Origin": "https://evil.example"})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers

    # A refused answer (wrong key) still carries CORS headers, so the widget can say why.
    response = keyed.post(
        "/ask", json={"question": "NATO?"}, headers={"Origin": "https://allowed.example"}
    )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "https://allowed.example"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer wrong", "bearer s3cret", "Basic s3cret", "s3cret",
     "Bearer s3cret ", "Bearer s3cretX", "Bearer \u00e9"],
)  # fmt: skip
def test_with_a_key_questions_need_it(keyed, authorization):
    headers = {} if authorization is None else {"Authorization": authorization.encode()}
    for path, body in (("/search", {"query": "NATO"}), ("/ask", {"question": "NATO?"})):
        response = keyed.post(path, json=body, headers=headers)
        assert response.status_code == 401, (path, authorization)
        assert "API key" in detail(response)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Checked before the body is even looked at.
    response = keyed.post("/ask", content=b"{", headers=headers)
    assert response.status_code == 401


def test_with_the_right_key_questions_answer(keyed):
    headers = {"Authorization": "Bearer s3cret"}
    assert keyed.post("/search", json={"query": "NATO"}, headers=headers).status_code == 200
    assert keyed.post("/ask", json={"question": "NATO?"}, headers=headers).status_code == 200
    # The key does not excuse a bad request.
    assert keyed.post("/ask", json={"question": " "}, headers=headers).status_code == 422


def test_with_a_key_the_page_and_health_stay_open(keyed):
    for path in ("/", "/health", "/widget.js", "/openapi.json"):
        assert keyed.get(path).status_code == 200, path


def test_without_a_key_questions_are_open(client):
    assert client.post("/search", json={"query": "NATO"}).status_code == 200


def test_serve_binds_loopback_by_default_and_warns_beyond_it_without_a_key(
    brief_corpus, brief_index, monkeypatch
):
    import uvicorn
    from typer.testing import CliRunner

    from qa.surfaces.cli import app

    bound = []
    monkeypatch.setattr(uvicorn, "run", lambda server, **options: bound.append(options))
    monkeypatch.delenv("QA_API_KEY", raising=False)
    where = ["--corpus", str(brief_corpus), "--index", str(brief_index)]
    runner = CliRunner()

    result = runner.invoke(app, ["serve", *where])
    assert result.exit_code == 0 and bound[-1]["host"] == "127.0.0.1"
    assert "warning" not in result.stderr

    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", *where])
    assert bound[-1]["host"] == "0.0.0.0"
    assert "warning: serving on 0.0.0.0 without QA_API_KEY" in result.stderr

    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", *where], env={"QA_API_KEY": "k"})
    assert "warning" not in result.stderr


def test_top_k_is_an_integer_as_json_schema_reads_it(client):
    response = client.post("/search", json={"query": "NATO", "top_k": 2.0})  # as the schema says
    assert response.status_code == 200 and len(response.json()["results"]) == 2


def test_an_invisible_character_beside_a_question_does_not_empty_it(client):
    response = client.post("/search", json={"query": "\u200bNATO\u200d"})
    assert response.status_code == 200 and response.json()["results"]


@pytest.fixture(scope="module")
def cors(settings, assistant):
    shared = dataclasses.replace(settings, cors_origins=("https://allowed.example",))
    with TestClient(create_app(shared, assistant)) as client:
        yield client


@pytest.mark.parametrize(
    "content",
    [b'{"question": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}', b"[" * 100 + b"]" * 100],
)
def test_the_servers_own_refusals_carry_cors_headers(cors, content):
    """The body's 413 and 422 (qa/surfaces/limits.py) are read by the widget as the app's are."""
    origin = {"Origin": "https://allowed.example", "Content-Type": "application/json"}
    response = cors.post("/ask", content=content, headers=origin)
    assert response.status_code in (413, 422)
    assert response.headers["access-control-allow-origin"] == "https://allowed.example"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    validation = cors.post("/ask", json={"question": ""}, headers=origin)
    assert validation.headers["access-control-allow-origin"] == "https://allowed.example"


def test_a_404_does_not_echo_a_huge_name(client):
    name = "x" * 60_000  # as long as a URL the client sends may be
    response = client.get(f"/documents/{name}")
    assert response.status_code == 404
    assert len(response.content) < 1_000
    assert detail(response) == f"no document {'x' * 200}…[59,800 more characters] in the corpus"
    search = client.post("/search", json={"query": "NATO", "sources": ["y" * 120_000]})
    assert search.status_code == 404 and len(search.content) < 1_000


def test_a_404_escapes_what_it_repeats(client):
    response = client.get("/documents/a%1b[2Jb%07c.txt")
    assert response.status_code == 404
    assert detail(response) == "no document a\\x1b[2Jb\\x07c.txt in the corpus"
