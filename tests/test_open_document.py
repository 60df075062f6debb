"""`GET /documents/{source}` over HTTP: a document opened at its cited place, and nothing else."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from qa.surfaces.server import CSP, create_app
from tests.test_formats import brief_document, write_pdf

MARKUP_NOTE = (
    "# Keepers' notes\n\n## Lenses\n\n"
    'The Saaremaa lens <img src=x onerror="window.__xss=1"> needs [/b] repairs & more before '
    "the autumn storms.\n"
)


@pytest.fixture(scope="module")
def opened(tmp_path_factory, embedder):
    """A corpus of a text, a note holding markup, a PDF, and a link out of the corpus."""
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("The vault code is 4711, said the secret file.\n")
    corpus = tmp_path_factory.mktemp("corpus")
    document = brief_document()
    (corpus / "brief.txt").write_text(document.text, encoding="utf-8")
    (corpus / "notes").mkdir()
    (corpus / "notes" / "keepers note.txt").write_text(MARKUP_NOTE, encoding="utf-8")
    write_pdf(document, corpus / "brief.pdf")
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    root = tmp_path_factory.mktemp("index")
    build(corpus, root, embedder)
    settings = Settings(corpus=corpus, index=root, model=None, cors_origins=(), api_key=None)
    assistant = Assistant(settings, embedder)
    with TestClient(create_app(settings, assistant)) as client:
        yield client, assistant


def test_every_citation_links_to_its_place(opened):
    client, _ = opened
    for body, path, key in (
        ({"query": "rail gauges military mobility", "top_k": 10}, "/search", "results"),
        ({"question": "Why is information sharing problematic?", "top_k": 10}, "/ask", "citations"),
    ):
        cited = client.post(path, json=body).json()[key]
        assert cited
        for passage in cited:
            c = passage["citation"]
            start, end = c["start"], c["end"]
            url = c["url"]
            assert url.startswith("/documents/") and f"?start={start}&end={end}" in url
            if c["source"].endswith(".pdf"):
                assert url.endswith(f"#page={c['page']}")
                continue
            page = client.get(url.split("#")[0])
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            mark = re.search(r'<mark id="cited"[^>]*>(.*?)</mark>', page.text, re.S)
            assert mark and html.unescape(mark.group(1)) == passage["text"]


def test_a_text_page_is_escaped_marked_and_under_the_csp(opened):
    client, assistant = opened
    source = "notes/keepers note.txt"
    text = assistant.index.documents[source]["text"]
    start = text.index("The Saaremaa")
    end = text.index("storms.") + len("storms.")
    response = client.get(f"/documents/notes/keepers%20note.txt?start={start}&end={end}")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    page = response.text
    assert "<img" not in page and "&lt;img src=x" in page and "[/b] repairs &amp; more" in page
    mark = re.search(r'<mark id="cited"[^>]*>(.*?)</mark>', page, re.S)
    assert html.unescape(mark.group(1)) == text[start:end]
    body = re.search(r'<div class="qa-document-text">(.*)</div>', page, re.S).group(1)
    assert html.unescape(re.sub(r"</?mark[^>]*>", "", body)) == text
    # No span asked for: the whole text, nothing marked.
    plain = client.get("/documents/notes/keepers%20note.txt")
    assert plain.status_code == 200 and "<mark" not in plain.text


def test_a_pdf_is_served_as_the_file(opened):
    client, _ = opened
    response = client.get("/documents/brief.pdf?start=0&end=10")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    # Its own policy: the browser's viewer may embed it with inline styles, and nothing else.
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "object-src 'self'" in policy
    assert "script-src" not in policy and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("path", ["/documents/brief.pdf", "/documents/brief.txt?start=0&end=10"])
def test_head_answers_as_get_does_without_the_body(opened, path):
    client, _ = opened
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.content == b""
    assert client.head("/documents/missing.txt").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/documents/missing.txt",
        "/documents/../pyproject.toml",
        "/documents/%2e%2e/%2e%2e/etc/passwd",
        "/documents/notes/%2e%2e/brief.txt",
        "/documents/%2Fetc%2Fpasswd",
        "/documents//etc/passwd",
        "/documents/leak.txt",
        "/documents/notes",
    ],
)
def test_anything_but_a_corpus_document_is_404(opened, path):
    client, _ = opened
    response = client.get(path)
    assert response.status_code == 404, (path, response.text[:200])
    assert "4711" not in response.text


def test_a_span_outside_the_text_is_a_readable_422(opened):
    client, _ = opened
    response = client.get("/documents/brief.txt?start=5&end=99999999")
    assert response.status_code == 422 and "characters" in response.json()["detail"]
    assert client.get("/documents/brief.txt?start=5").status_code == 422
    assert client.get("/documents/brief.txt?start=x&end=2").status_code == 422
