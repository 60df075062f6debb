"""Formats: the brief as PDF and as a web page, made here from its text, answers like the text.

The fixtures are written at test time from the parsed brief: a PDF (fpdf2, a Unicode TTF,
running header and page numbers) and an HTML page (navigation, scripts, styles, an aside and a
footer around an <article>, endnote references as <sup> links, endnotes as an <ol>).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.ingest.documents import Document, normalise, parse
from qa.ingest.extract import extract, html_text, page_at
from qa.ingest.passages import cut

ROOT = Path(__file__).resolve().parent.parent
BRIEF = ROOT / "corpus" / "eu-nato-relationship.txt"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PDF_HEADER = "ICDS Brief 5 · Hague Summit Series"
NAV_TEXT = "Research Programmes Subscribe"
FOOTER_TEXT = "© International Centre for Defence and Security, Tallinn"
MARKER = re.compile(r"\[(\d{1,4})\]")


def brief_document() -> Document:
    return parse(BRIEF.name, BRIEF.read_text(encoding="utf-8"))


def write_pdf(document: Document, path: Path) -> None:
    from fpdf import FPDF

    if not (FONT_DIR / "DejaVuSans.ttf").is_file():
        pytest.fail("no DejaVu font: `apt-get install fonts-dejavu-core` (as .ci/run does)")

    class Brief(FPDF):
        def header(self) -> None:
            self.set_font("DejaVu", size=8)
            self.cell(0, 8, PDF_HEADER, new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", size=8)
            self.cell(0, 8, f"Page {self.page_no()}", align="C")

    pdf = Brief()
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    sizes = {"title": ("B", 16), "heading": ("B", 13), "date": ("", 9)}
    for block in document.blocks:
        style, size = sizes.get(block.kind, ("", 11))
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, size * 0.55, document.block_text(block))
        pdf.ln(4)
    pdf.output(str(path))


def write_html(document: Document, path: Path) -> None:
    def inline(text: str) -> str:
        return MARKER.sub(r'<sup><a href="#note-\1" id="ref-\1">\1</a></sup>', html.escape(text))

    body, notes = [], []
    for block in document.blocks:
        text = document.block_text(block)
        if block.kind == "title":
            body.append(f"<h1>{html.escape(text)}</h1>")
        elif block.kind == "date":
            body.append(f'<p class="date"><time datetime="{document.date}">{text}</time></p>')
        elif block.kind == "heading":
            body.append(f"<h2>{html.escape(text)}</h2>")
        elif block.kind == "endnote":
            number = int(MARKER.match(text).group(1))
            notes.append(f'<li id="note-{number}">{inline(text[MARKER.match(text).end():].strip())}</li>')  # fmt: skip
        elif block.kind == "pullquote":
            body.append(f'<blockquote class="pull-quote"><p>{inline(text)}</p></blockquote>')
        elif block.kind == "furniture" and "\n" in text:
            body.append(f"<figure><figcaption>{'<br>'.join(map(html.escape, text.splitlines()))}</figcaption></figure>")  # fmt: skip
        else:
            body.append(f"<p>{inline(text)}</p>")
            if notes and block.kind == "body":  # prose after the notes: close the list first
                body.insert(len(body) - 1, "<ol>" + "".join(notes) + "</ol>")
                notes = []
    if notes:
        body.append("<ol>" + "".join(notes) + "</ol>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(document.title)} | ICDS</title>
<style>body {{ font-family: serif; }} .hidden {{ display: none }}</style>
<script>window.dataLayer = [{{"event": "tracking"}}];</script></head>
<body><header><nav><a href="/">Home</a> <a href="/research">{NAV_TEXT}</a></nav></header>
<main><article>{"".join(body)}</article>
<aside><h3>Related</h3><p>More briefs from the Hague Summit Series.</p></aside></main>
<footer><p>{FOOTER_TEXT}</p><form><input name="email"><button>Sign up</button></form></footer>
<script src="/analytics.js"></script></body></html>
"""
    path.write_text(page, encoding="utf-8")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, embedder):
    """One corpus with the brief as text, PDF and HTML, and a short Markdown note beside them."""
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    corpus = tmp_path_factory.mktemp("mixed")
    document = brief_document()
    (corpus / "brief.txt").write_text(document.text, encoding="utf-8")
    write_pdf(document, corpus / "brief.pdf")
    write_html(document, corpus / "brief.html")
    (corpus / "notes.md").write_text(
        "# Reading notes\n\n## Logistics\n\nRail gauges differ between Spain and France, "
        "which slows the movement of heavy equipment.[1]\n\n## Notes\n\n"
        "[1] European Court of Auditors, special report on military mobility, 2025.\n",
        encoding="utf-8",
    )
    root = tmp_path_factory.mktemp("mixed-index")
    build(corpus, root, embedder)
    settings = Settings(corpus=corpus, index=root, model=None, cors_origins=(), api_key=None)
    return Assistant(settings, embedder)


def passages_of(assistant, source: str):
    return [p for p in assistant.index.passages if p.source == source]


def fold(text: str) -> str:
    """Text as every format reads it: the brief's text keeps a space where its web page had a
    link ("8 July 2016 ."); read from HTML, a space before punctuation is the mark of a removed
    element, and goes."""
    return re.sub(r" (?=[.,;:)])", "", normalise(text))


def test_every_format_yields_the_text_versions_passages(mixed):
    text_version = [fold(p.text) for p in passages_of(mixed, "brief.txt")]
    for source in ("brief.pdf", "brief.html"):
        assert [fold(p.text) for p in passages_of(mixed, source)] == text_version, source
    assert len(text_version) > 30


def test_citations_point_into_the_kept_extracted_text(mixed):
    for passage in mixed.index.passages:
        kept = mixed.index.documents[passage.source]["text"]
        assert kept[passage.start : passage.end] == passage.text


def test_pdf_citations_carry_the_page_where_the_span_starts(mixed):
    pdf = mixed.index.documents["brief.pdf"]
    pages = [p.page for p in passages_of(mixed, "brief.pdf")]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == len(pdf["pages"]) > 1
    for p in passages_of(mixed, "brief.pdf"):
        assert pdf["pages"][p.page - 1] <= p.start
        assert p.page == page_at(pdf["pages"], p.start)
    hit = mixed.search("Steadfast Duel exercise", 1, ["brief.pdf"])[0]
    assert hit.to_dict()["citation"]["page"] == hit.passage.page >= 1
    text_hit = mixed.search("Steadfast Duel exercise", 1, ["brief.txt"])[0]
    assert "page" not in text_hit.to_dict()["citation"]


def test_page_furniture_and_page_chrome_are_not_text(mixed):
    pdf = mixed.index.documents["brief.pdf"]["text"]
    assert PDF_HEADER not in pdf and not re.search(r"^Page \d+$", pdf, re.M)
    page = mixed.index.documents["brief.html"]["text"]
    for chrome in (NAV_TEXT, FOOTER_TEXT, "tracking", "font-family", "More briefs", "Sign up"):
        assert chrome not in page


def test_titles_dates_sections_and_endnotes_survive_every_format(mixed):
    documents = {}
    for source in ("brief.txt", "brief.pdf", "brief.html"):
        kept = mixed.index.documents[source]
        documents[source] = parse(source, kept["text"], tuple(kept["pages"]))
    reference = documents["brief.txt"]
    assert len(reference.endnotes) == 12
    for source, document in documents.items():
        assert (document.title, document.date) == (reference.title, reference.date), source
        assert document.sections == reference.sections, source
        assert {n: fold(e.text) for n, e in document.endnotes.items()} == {
            n: fold(e.text) for n, e in reference.endnotes.items()
        }, source
        cited = [p for p in cut(document) if p.endnotes]
        assert {e.number for p in cited for e in p.endnotes} == set(range(1, 13)), source


FORMATS = ("brief.txt", "brief.pdf", "brief.html")


def test_a_question_gets_the_same_passages_from_every_format(mixed):
    questions = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    answerable = [q["question"] for q in questions if q.get("answerable", True)]
    assert len(answerable) >= 10
    vectors = mixed.embedder.encode(answerable)
    for question, vector in zip(answerable, vectors, strict=True):
        tops = {
            source: [
                fold(h.passage.text)
                for h in mixed.retriever.search_vector(question, vector, 3, [source])
            ]  # fmt: skip
            for source in FORMATS
        }
        assert tops["brief.pdf"] == tops["brief.txt"] == tops["brief.html"], question


@pytest.mark.parametrize("question", ["What did France and the UK push for?", "Who wrote about military mobility as a critical enabler?"])  # fmt: skip
def test_a_question_gets_the_same_answer_from_every_format(mixed, question):
    answers = {}
    for source in FORMATS:
        answer = mixed.ask(question, 5, [source])
        cited = [fold(hit.passage.text) for _, hit in answer.citations]
        answers[source] = (fold(answer.answer), answer.answerable, cited)
    assert answers["brief.pdf"] == answers["brief.txt"] == answers["brief.html"]
    assert answers["brief.txt"][1]


def test_qa_show_prints_the_exact_span_of_a_citation(mixed):
    from qa.surfaces.cli import app

    hit = mixed.search("information sharing Türkiye Cyprus", 1, ["brief.pdf"])[0]
    c = hit.to_dict()["citation"]
    env = {"QA_INDEX": str(mixed.settings.index), "QA_CORPUS": str(mixed.settings.corpus)}
    runner = CliRunner()
    result = runner.invoke(app, ["show", "brief.pdf", "--start", str(c["start"]), "--end", str(c["end"])], env=env)  # fmt: skip
    assert (result.exit_code, result.output) == (0, hit.passage.text + "\n")
    assert runner.invoke(app, ["show", c["id"]], env=env).output == hit.passage.text + "\n"
    wrong = runner.invoke(app, ["show", "brief.pdf", "--start", "5", "--end", "999999"], env=env)
    assert wrong.exit_code == 1 and "characters" in wrong.output
    assert runner.invoke(app, ["show", "missing.pdf"], env=env).exit_code == 1


def test_a_damaged_pdf_is_skipped_with_a_message(tmp_path, embedder, capfd):
    from qa.index import Index, build

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "broken.pdf").write_bytes(b"%PDF-1.7\nnot really a PDF")
    (tmp_path / "corpus" / "noise.pdf").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "corpus" / "note.md").write_text("# Note\n\nA short note about rail gauges.\n")
    messages = []
    report = build(tmp_path / "corpus", tmp_path / "index", embedder, progress=messages.append)
    for name in ("broken.pdf", "noise.pdf"):
        about = [m for m in messages if name in m]
        assert len(about) == 1, about  # one line, which says what to do; no "kept 0 words"
        assert about[0].startswith(f"skipping {name}: not a readable PDF (")
        assert about[0].endswith("re-save or re-export it, or remove it")
    assert report.documents == 1  # skipped files are not counted as documents
    assert "embedding 1 passage from 1 document" in messages
    # The PDF libraries' own lines ("EOF marker not found", "invalid pdf header") stay quiet.
    leaked = capfd.readouterr()
    assert "EOF marker" not in leaked.err + leaked.out and "invalid pdf" not in leaked.err
    index = Index.load(tmp_path / "index")
    assert {p.source for p in index.passages} == {"note.md"} and "broken.pdf" in index.documents


def test_html_structure_becomes_markdown_the_parser_reads():
    page = """<html><head><title>Site | Page</title></head><body>
    <nav>Menu</nav><article><header><h1>Rail  and&nbsp;roads</h1><time>3 May 2024</time></header>
    <p>Gauges differ<sup>[2]</sup> across
    borders.<a href="#x">1</a></p>
    <ul><li>Spain</li><li>France</li></ul><table><tr><th>Year</th><td>2024</td></tr></table>
    <section class="footnotes" role="doc-endnotes"><ol start="2"><li><p>A report.
    <a href="#r2" role="doc-backlink">↩︎</a></p></li></ol></section></article></body></html>"""
    text = html_text(page)
    assert text == (
        "# Rail and roads\n\n3 May 2024\n\nGauges differ[2] across borders.1\n\n- Spain\n- France"
        "\n\nYear | 2024\n\n## Notes\n\n[2] A report.\n"
    )
    document = parse("page.html", text)
    assert (document.title, document.date, document.endnotes[2].text) == ("Rail and roads", "2024-05-03", "A report.")  # fmt: skip
    assert html_text("<html><head><title>Only a title</title></head><body><p>Body.</p></body></html>") == "# Only a title\n\nBody.\n"  # fmt: skip


def test_plain_text_and_markdown_are_read_as_utf8(tmp_path):
    (tmp_path / "a.md").write_bytes("\ufeff# Café\n\nTürkiye and Cyprus.\n".encode())
    extracted = extract(tmp_path / "a.md")
    assert extracted.text == "# Café\n\nTürkiye and Cyprus.\n" and extracted.pages == ()
    assert parse("a.md", extracted.text).title == "Café"


def test_a_long_first_line_above_prose_is_the_title_and_file_names_name_untitled_documents():
    from qa.index import index_text, name_of

    abstract = "Coordinated rail investment shortens deployment times. " * 8
    paper = parse("4983.txt", f"Rail gauges and the speed of allied reinforcement in Europe: a review of 2024.\n\n{abstract}\n")  # fmt: skip
    assert paper.title.startswith("Rail gauges") and len(cut(paper)) == 1
    assert parse("a.txt", "A short line.\n\nAnother short line.\n").title is None
    untitled = cut(parse("squad/Super_Bowl_50.txt", f"{abstract}\n"))[0]
    assert untitled.title is None and index_text(untitled).startswith("Super Bowl 50\n")
    assert name_of("papers/4983.txt") == "" and index_text(cut(paper)[0]).count("Rail gauges") == 1
