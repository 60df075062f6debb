"""Real folders in Chromium: a report saved as PDF and as web page is one card naming both files,
and a Markdown document opened from its citation reads as a document, the span marked (with a
screenshot, docs/screenshot-document.png, checked where the span is)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import test_browser as chat
from tests.test_browser import ROOT, SA, ask, qa_command, qa_serve

# The chat tests' Chromium and pages, shared (pytest finds fixtures by name in the module).
browser = chat.browser
open_page = chat.open_page

pytestmark = pytest.mark.browser

REAL_PDFS = ROOT.parent / "shared" / "benchmarks" / "real-pdfs"
SUMMIT = ROOT.parent / "shared" / "benchmarks" / "real-markdown" / "2023-10-20-u-s-eu-summit-joint-statement.md"  # fmt: skip
SCREENSHOT = ROOT / "docs" / "screenshot-document.png"
QUESTION = "How many launchers are in a Typhon MRC battery?"


@pytest.fixture(scope="module")
def twice_saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`qa serve` over IF12135 as PDF and as web page, and a White House page, in one folder."""
    corpus = tmp_path_factory.mktemp("twice-saved")
    for kind, pattern in (("pdf", "IF12135.*.pdf"), ("web-version", "IF12135v*.md")):
        (corpus / kind).mkdir()
        (found,) = (REAL_PDFS / kind).glob(pattern)
        shutil.copy(found, corpus / kind / found.name)
    shutil.copy(SUMMIT, corpus / SUMMIT.name)
    index = corpus.parent / "twice-saved-index"
    done = subprocess.run(qa_command("index", "--corpus", str(corpus), "--index", str(index)), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with qa_serve(corpus, index, tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


def test_one_card_names_both_files_and_opens_each(twice_saved: str, open_page) -> None:
    watched = open_page()
    page = watched.page
    page.goto(twice_saved + "/")
    result = ask(page, QUESTION)
    assert result["answerable"], result
    (cited,) = result["citations"]
    (copy,) = cited["also_in"]
    files = {cited["citation"]["source"], copy["source"]}
    assert {Path(f).parent.name for f in files} == {"pdf", "web-version"}

    card = page.locator(".qa-msg--answer .qa-source-list li").first
    also = card.locator(".qa-source-also")
    SA.expect(also).to_have_text(f"Also in {copy['source']}")
    link = also.locator("a.qa-also-file")
    SA.expect(link).to_have_attribute("href", twice_saved + copy["url"])
    SA.expect(link).to_have_attribute("target", "_blank")
    card.locator(".qa-source").click()
    SA.expect(page.locator(".qa-passage .qa-passage-also")).to_have_text(f"Also in {copy['source']}")  # fmt: skip
    assert not watched.errors


def test_counts_are_written_as_the_command_line_writes_them(twice_saved: str, open_page) -> None:
    page = open_page().page

    def many(route) -> None:  # the real /health, as an index of 1,866 passages would answer
        response = route.fetch()
        body = re.sub(r'("passages":\s*)\d+', r"\g<1>1866", response.text(), count=1)
        route.fulfill(response=response, body=body)

    page.route("**/health", many)
    page.goto(twice_saved + "/")
    SA.expect(page.locator(".qa-corpus")).to_have_text("Answers from 3 documents · 1,866 passages")


def test_a_markdown_citation_opens_as_a_document_the_span_marked(twice_saved: str, open_page) -> None:  # fmt: skip
    from PIL import Image

    page = open_page(1000, 760).page
    page.goto(twice_saved + "/")
    result = ask(page, "What does the U.S.-EU Summit Joint Statement say about Ukraine?")
    hits = [c for c in result["citations"] if c["citation"]["source"].endswith(".md")]
    assert hits, result
    cited = hits[0]
    c = cited["citation"]
    page.goto(twice_saved + c["url"])

    text = page.locator("main")
    SA.expect(text.locator("mark#cited")).to_be_focused()
    shown = text.inner_text()
    assert not re.search(r"(?m)^\s*(#{1,6} |\|)", shown), "markup shown as text"
    assert "published_time" not in page.content()  # the front matter is no text
    assert text.locator("ol > li").count() > 5  # the statement's numbered paragraphs
    # Each mark is the kept text at the offsets it carries: the citation's own text.
    marks = text.locator("mark.qa-cited")
    assert marks.count() >= 1
    for i in range(marks.count()):
        mark = marks.nth(i)
        a, b = int(mark.get_attribute("data-start")), int(mark.get_attribute("data-end"))
        assert c["start"] <= a < b <= c["end"]
        assert mark.text_content() == cited["text"][a - c["start"] : b - c["start"]]
    first = marks.first.bounding_box()
    assert first is not None and 0 <= first["y"] < 760, "the span is scrolled into view"

    SCREENSHOT.parent.mkdir(exist_ok=True)
    png = page.screenshot(path=str(SCREENSHOT), animations="disabled")
    shot = Image.open(io.BytesIO(png)).convert("RGB")
    x, y = int(first["x"] + min(first["width"], 40) / 2), int(first["y"] + first["height"] / 2)
    r, g, b = shot.getpixel((x, y))
    assert r > 230 and g > 200 and b < 170, f"the span is not marked in the screenshot: {(r, g, b)}"

    # The web version of a CRS report: headings and a table, laid out.
    (web,) = REAL_PDFS.glob("web-version/IF12135v*.md")
    page.goto(f"{twice_saved}/documents/web-version/{web.name}")
    SA.expect(page.locator("main h2").first).to_be_visible()
    heading = page.locator("main h2").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    para = page.locator("main p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert heading > para
    assert page.locator("main table td").count() > 4
    assert "## " not in page.locator("main").inner_text()
