"""Markdown, HTML and Word documents opened from a citation are laid out as documents, the cited
span still marked exactly; and no space is left where extraction removed a link or a marker."""

from __future__ import annotations

import html
import re
import shutil
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.documents import parse
from qa.ingest.extract import extract, html_text
from qa.ingest.passages import cut
from qa.surfaces.layout import body
from tests.conftest import SHARED

TYPHON_WEB = SHARED / "benchmarks" / "real-pdfs" / "web-version" / "IF12135v30-the-u-s-army-s-typhon-mid-range-capability-mrc-s.md"  # fmt: skip
BIOMETRICS_WEB = SHARED / "benchmarks" / "real-pdfs" / "web-version" / "IF11783v7-biometric-technologies-and-global-security.md"  # fmt: skip
SUMMIT = SHARED / "benchmarks" / "real-markdown" / "2023-10-20-u-s-eu-summit-joint-statement.md"


class Page(HTMLParser):
    """What a browser would show of a page: its elements' tags, its text, and each mark's text
    with the offsets it claims."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.marks: list[tuple[int, int, str]] = []
        self._mark: list | None = None
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "mark":
            a = dict(attrs)
            self._mark = [int(a["data-start"]), int(a["data-end"]), ""] if "data-start" in a else None  # fmt: skip

    def handle_endtag(self, tag):
        if tag == "mark" and self._mark is not None:
            self.marks.append(tuple(self._mark))
            self._mark = None

    def handle_data(self, data):
        self.text.append(data)
        if self._mark is not None:
            self._mark[2] += data


def hidden(text: str, start: int, end: int, marks) -> str:
    """The characters of text[start:end] that no mark shows."""
    shown = set()
    for a, b, _ in marks:
        shown.update(range(a, b))
    return "".join(text[i] for i in range(start, end) if i not in shown)


# The kept text's own marks for structure: heading marks, bullets, item numbers, cell pipes.
MARKUP = re.compile(r"[\s#|.\-\d]*")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "# Title",
                "## Part two",
                "Plain words here.",
                "- one\n- two",
                "1. first\n2. second",
                "| a | b |\n| c | d |",
                "x | y\nz | w",
                "Lead-in:\n- item <b>",
                "[3] A note & more.",
            ]
        ),  # fmt: skip
        min_size=1,
        max_size=8,
    ),
    st.data(),
)
def test_every_cited_span_is_marked_exactly_whatever_the_layout(parts, data):
    text = "\n\n".join(parts) + "\n"
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    page = Page(body(text, start, end))
    for a, b, shown in page.marks:
        assert start <= a < b <= end and shown == text[a:b]
    assert MARKUP.fullmatch(hidden(text, start, end, page.marks))
    assert "b" not in page.tags  # "<b>" in the text stays text


@pytest.fixture(scope="module")
def web_pages(tmp_path_factory, embedder):
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    root = tmp_path_factory.mktemp("web-pages")
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir()
    for page in (TYPHON_WEB, SUMMIT):
        shutil.copy(page, corpus / page.name)
    build(corpus, index, embedder)
    settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    return Assistant(settings, embedder)


def test_a_markdown_citation_opens_as_a_document_with_its_span_marked(web_pages):
    from qa.surfaces.server import create_app

    with TestClient(create_app(web_pages.settings, web_pages)) as client:
        question = "How many launchers are in a Typhon MRC battery?"
        (hit,) = client.post("/search", json={"query": question, "top_k": 1}).json()["results"]
        c = hit["citation"]
        assert c["source"] == TYPHON_WEB.name
        response = client.get(c["url"])
        assert response.status_code == 200
        page = Page(response.text)
        kept = web_pages.index.documents[c["source"]]["text"]
        assert {"h1", "h2", "table", "td"} <= set(page.tags)
        shown = "".join(page.text)
        assert not re.search(r"(?m)^\s*#+ ", shown) and "## " not in shown
        assert not re.search(r"(?m)^\s*\|", shown) and " | " not in shown
        assert "<a" not in response.text.split("<main>")[1]  # no link to follow in the text
        # the cited span: every mark exactly the kept text at its offsets, covering the span
        assert page.marks and page.marks[0][0] == c["start"]
        for a, b, text in page.marks:
            assert kept[a:b] == text
        assert MARKUP.fullmatch(hidden(kept, c["start"], c["end"], page.marks))
        assert 'id="cited"' in response.text

        (statement,) = client.post("/search", json={"query": "U.S.-EU Summit Joint Statement Ukraine", "top_k": 1, "sources": [SUMMIT.name]}).json()["results"]  # fmt: skip
        opened = client.get(statement["citation"]["url"]).text
        assert "published_time" not in opened and "source_url" not in opened  # the front matter
        assert "<ol>" in opened and "<li value=" in opened  # its numbered paragraphs


def test_text_files_are_still_shown_as_they_stand(client_of_brief):
    response = client_of_brief.get("/documents/eu-nato-relationship.txt?start=0&end=13")
    assert '<div class="qa-document-text"><mark id="cited"' in response.text
    assert "<h1>" not in response.text.split("<main>")[1]


@pytest.fixture
def client_of_brief(settings, assistant):
    from qa.surfaces.server import create_app

    with TestClient(create_app(settings, assistant)) as client:
        yield client


def test_no_space_where_a_link_or_a_marker_was_removed():
    # IF11783's web page: "(see ******************Figure 1******)" became "(see Figure 1 )"
    kept = extract(BIOMETRICS_WEB).text
    assert "adjudicating their identity (see Figure 1). This could" in kept
    assert not re.search(r"\w \)", kept)
    # a link around an icon, then the endnote: "said the record . [1]"
    page = (
        "<article><p>The minister said the record <a href='https://example.org/r'><svg></svg></a>."
        " <sup><a href='#fn1'>1</a></sup> The rest ( <a href='#'><img src='i.png'></a>see below)"
        " held.</p><p>Wait ... and 5 % of it.</p></article>"
    )
    text = html_text(page)
    assert "said the record.[1] The rest (see below) held." in text
    assert "Wait ... and 5 % of it." in text  # an ellipsis and a per cent sign keep their spaces
    for p in cut(parse("page.html", text, title="Page")):
        assert text[p.start : p.end] == p.text


def test_the_page_escapes_document_text_and_follows_no_link():
    text = "# A <script>alert(1)</script> heading\n\n- see [the site](https://example.org) & <a href='x'>here</a>\n"  # fmt: skip
    out = body(text)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<a " not in out and html.escape("<a href='x'>here</a>") in out
