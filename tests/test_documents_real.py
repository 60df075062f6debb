"""Real documents in: PDFs in reading order without furniture, pages across breaks, scans named,
titles and dates stated by the file, Markdown read without its markup.

The PDFs are written here with fpdf2 (two columns, a running header, a footer with a URL and page
number, superscript footnote markers and footnotes, an image-only "scan"); the index is built
with the real model.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.ingest.extract import extract, page_at
from qa.ingest.pdf.paragraphs import join_lines

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
HEADER = "Running Header · Report RX-42"
SITE = "https://reports.example.org"
WALLS = ["walls", "gates", "towers", "ships", "tides", "bells"]


def paragraph(i: int) -> str:
    """Long sentences, so that a page break falls inside one."""
    parts = ", ".join(f"the {w} of harbour {i} and the {w} beyond" for w in WALLS)
    return f"Paragraph {i} begins here, and its one sentence tells of {parts}, all in plain words."


def report_pdf(path: Path, paragraphs: int = 22, columns: int = 2) -> list[str]:
    """A report like a CRS brief: a date line and a title over two columns, on two pages or
    more, with a running header and a footer (URL and page number); returns its paragraphs."""
    from fpdf import FPDF

    if not (FONT_DIR / "DejaVuSans.ttf").is_file():
        pytest.fail("no DejaVu font: `apt-get install fonts-dejavu-core` (as .ci/run does)")

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("DejaVu", size=8)
            self.cell(0, 6, HEADER, align="R", new_x="LMARGIN", new_y="NEXT")
            self.ln(6)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("DejaVu", size=8)
            self.cell(0, 6, f"{SITE} · {self.page_no()}", align="C")

    pdf = Report()
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, "Updated April 10, 2026", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 18)
    pdf.multi_cell(0, 9, "Harbour Defences of the Northern Coast")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 10)
    texts = [paragraph(i) for i in range(1, paragraphs + 1)]
    with pdf.text_columns(ncols=columns, gutter=8, line_height=1.25) as cols:
        for text in texts:
            with cols.paragraph(bottom_margin=3) as par:
                par.write(text)
    pdf.output(str(path))
    return texts


def scan_pdf(path: Path) -> None:
    """A page with no text layer: an image only, as a scanner makes."""
    from fpdf import FPDF
    from PIL import Image

    image = Image.new("L", (200, 280), 255)
    for x in range(20, 180):
        for y in range(30, 250, 12):
            image.putpixel((x, y), 0)  # lines of "print"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=180)
    pdf.output(str(path))


def squash(text: str) -> str:
    return " ".join(text.split())


def test_two_columns_read_in_order_without_page_furniture(tmp_path):
    texts = report_pdf(tmp_path / "report.pdf")
    got = extract(tmp_path / "report.pdf")
    flat = squash(got.text)
    positions = [flat.find(text) for text in texts]
    assert -1 not in positions, [t[:30] for t, at in zip(texts, positions, strict=True) if at < 0]
    assert positions == sorted(positions)  # column by column, page by page
    assert HEADER not in got.text and SITE not in got.text
    assert not re.search(r"^\d+$", got.text, re.M)
    assert got.title == "Harbour Defences of the Northern Coast" and got.date == "2026-04-10"
    assert len(got.pages) == 2 and got.pages[0] == 0


def test_a_page_drawn_row_by_row_across_two_columns_is_read_column_by_column(tmp_path):
    from fpdf import FPDF

    left = [paragraph(1), paragraph(2)]
    right = [paragraph(3), paragraph(4)]
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 10)

    def lines_of(texts: list[str]) -> list[str]:
        out = []
        for text in texts:
            out += pdf.multi_cell(85, 5, text, dry_run=True, output="LINES") + [""]
        return out

    rows = list(zip(lines_of(left), lines_of(right), strict=False))
    for i, (a, b) in enumerate(rows):  # each row drawn left then right, as some tools do
        pdf.text(10, 20 + 5 * i, a)
        pdf.text(110, 20 + 5 * i, b)
    pdf.output(str(tmp_path / "rows.pdf"))
    flat = squash(extract(tmp_path / "rows.pdf").text)
    positions = [flat.find(text) for text in left + right]
    assert -1 not in positions and positions == sorted(positions)


def test_a_passage_across_a_page_break_cites_both_pages_and_stays_exact(tmp_path, embedder):
    from qa.index import Index, build
    from qa.index.inventory import kept_span
    from qa.settings import Settings

    (tmp_path / "c").mkdir()
    report_pdf(tmp_path / "c" / "report.pdf")
    build(tmp_path / "c", tmp_path / "i", embedder)
    index = Index.load(tmp_path / "i")
    kept = index.documents["report.pdf"]
    passages = [p for p in index.passages if p.source == "report.pdf"]
    across = [p for p in passages if p.page_end != p.page]
    assert across and all((p.page, p.page_end) == (1, 2) for p in across)
    for p in passages:
        assert kept["text"][p.start : p.end] == p.text
        assert p.page == page_at(kept["pages"], p.start, kept.get("page_numbers", ()))
        assert p.page_end == page_at(kept["pages"], p.end - 1, kept.get("page_numbers", ()))
    settings = Settings(corpus=tmp_path / "c", index=tmp_path / "i")
    p = across[0]
    # What a short answer cites: the page its own first character stands on.
    assert index.page_at("report.pdf", p.start) == 1 and index.page_at("report.pdf", p.end - 1) == 2
    assert (
        index.page_at("report.pdf", kept["pages"][1]) == 2 and index.page_at("nope.pdf", 0) is None
    )
    assert kept_span(settings, "report.pdf", p.start, p.end) == p.text
    # The words on either side of the break are whole and searchable.
    split = kept["pages"][1]
    assert p.start < split < p.end and kept["text"][split - 1] in " -—"


def test_a_pdf_that_keeps_far_less_than_it_holds_is_named(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.set_auto_page_break(False)
    for page in range(3):
        pdf.add_page()
        pdf.set_font("DejaVu", "", 11)
        pdf.set_xy(10, 100)
        pdf.multi_cell(0, 6, f"Page {page + 1} holds one short line of its own text.")
        pdf.set_font("DejaVu", "", 7)
        for i in range(8):  # a long legal footer, the same on every page
            pdf.set_xy(10, 258 + 4 * i)
            pdf.cell(
                0, 4, f"Footer clause {i}: reproduction of this page is permitted with credit."
            )
    pdf.output(str(tmp_path / "thin.pdf"))
    got = extract(tmp_path / "thin.pdf")
    assert "Footer clause" not in got.text and "holds one short line" in got.text
    assert any(w.startswith("kept only ") and "qa show" in w for w in got.warnings)
    assert got.kept_share is not None and got.kept_share < 0.6


def test_line_end_hyphens_join_words_the_document_spells_whole():
    vocabulary = {"information", "ai-enabled", "self-driving"}
    assert join_lines(["an infor-", "mation system"], vocabulary) == "an information system"
    assert join_lines(["an AI-", "enabled tool"], vocabulary) == "an AI-enabled tool"
    assert join_lines(["self-", "driving cars"], vocabulary) == "self-driving cars"
    assert join_lines(["P.L. 108-", "458 says"], vocabulary) == "P.L. 108-458 says"
    assert join_lines(["re-", "ordering it"], set()) == "reordering it"  # neither spelling seen


def test_footnote_markers_and_footnotes_become_linked_endnotes(tmp_path):
    from fpdf import FPDF

    from qa.ingest.documents import parse
    from qa.ingest.passages import cut

    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 11)
    pdf.write(6, "The treaty was signed in the spring after long talks between the parties.")
    pdf.char_vpos = "SUP"
    pdf.write(6, "1")
    pdf.char_vpos = "LINE"
    pdf.write(6, " It entered into force two years later, once every member had ratified it.")
    pdf.set_y(-40)
    pdf.set_font("DejaVu", "", 8)
    pdf.char_vpos = "SUP"
    pdf.write(4, "1")
    pdf.char_vpos = "LINE"
    pdf.write(4, " Minutes of the final session, archived by the secretariat of the conference.")
    pdf.output(str(tmp_path / "notes.pdf"))

    got = extract(tmp_path / "notes.pdf")
    assert "talks between the parties.[1] It entered" in got.text
    assert "## Notes" in got.text and "[1] Minutes of the final session" in got.text
    document = parse("notes.pdf", got.text, got.pages, got.page_numbers, got.title, got.date)
    linked = [p for p in cut(document) if p.endnotes]
    assert linked and linked[0].endnotes[0].text.startswith("Minutes of the final session")


def test_a_scan_is_named_with_what_to_do_in_qa_index_info_and_health(tmp_path, embedder):
    from fastapi.testclient import TestClient

    from qa.index import build
    from qa.settings import Settings
    from qa.surfaces.cli import app
    from qa.surfaces.server import create_app

    corpus = tmp_path / "c"
    corpus.mkdir()
    scan_pdf(corpus / "scan.pdf")
    report_pdf(corpus / "report.pdf", paragraphs=4)
    said: list[str] = []
    build(corpus, tmp_path / "i", embedder, progress=said.append)
    warning = next(m for m in said if m.startswith("warning: scan.pdf: "))
    assert "no text layer" in warning and "OCR" in warning
    assert any(m.startswith("report.pdf: kept ") and "words" in m for m in said)
    assert "scan.pdf: kept 0 words" in said

    env = {"QA_CORPUS": str(corpus), "QA_INDEX": str(tmp_path / "i")}
    info = CliRunner().invoke(app, ["info"], env=env)
    assert info.exit_code == 0
    assert re.search(r"scan\.pdf: 0 passages.*\n    warning: no text layer", info.output)
    settings = Settings(corpus=corpus, index=tmp_path / "i")
    with TestClient(create_app(settings)) as client:
        documents = {d["source"]: d for d in client.get("/health").json()["documents"]}
    assert "no text layer" in documents["scan.pdf"]["warning"]
    assert "warning" not in documents["report.pdf"]
    assert documents["report.pdf"]["title"] == "Harbour Defences of the Northern Coast"
    assert documents["report.pdf"]["date"] == "2026-04-10"


MARKDOWN = """---
title: "FACT SHEET: Harbour\\_Summit"
date: '2024-07-11'
source_url: https://example.org/fact-sheet
---

The Summit will **strengthen** the _harbour_ defences, as [Sen. Jane Roe](https://x.com/roe)
said on the day. ![A photo of the harbour](https://example.org/p.png)

**Greater Resourcing for the Harbour:** Allies will pay for new walls and gates this year.

**Membership Invitations for the Isles: **On May 18, the Isles applied to join.

| Item | Cost |
| --- | --- |
| Walls | 10 |
"""


def test_markdown_front_matter_is_read_and_markup_is_not_text(tmp_path):
    from qa.ingest.documents import parse
    from qa.ingest.passages import cut

    (tmp_path / "fact.md").write_text(MARKDOWN, encoding="utf-8")
    got = extract(tmp_path / "fact.md")
    assert got.title == "FACT SHEET: Harbour Summit" and got.date == "2024-07-11"
    assert "source_url" not in got.text and "---" not in got.text
    for syntax in ("**", "](", "![", "_harbour_", "| --- |"):
        assert syntax not in got.text
    assert "Greater Resourcing for the Harbour: Allies will pay" in got.text
    # Emphasis closed after a space, as pages converted to Markdown often have it.
    assert "Membership Invitations for the Isles: On May 18" in got.text
    assert "as Sen. Jane Roe said" in " ".join(got.text.split())
    assert "Walls | 10" in got.text
    document = parse("fact.md", got.text, title=got.title, date=got.date)
    assert (document.title, document.date) == ("FACT SHEET: Harbour Summit", "2024-07-11")
    for p in cut(document):
        assert got.text[p.start : p.end] == p.text and "**" not in p.text


def test_html_states_its_title_and_date_in_meta_and_time(tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>Site | Page</title>"
        '<meta property="og:title" content="Harbour Summit Statement">'
        '<meta property="article:published_time" content="2023-10-20T08:00:00-04:00">'
        "</head><body><article><p>The leaders met at the harbour and agreed on new walls"
        " for the coming decade.</p></article></body></html>",
        encoding="utf-8",
    )
    got = extract(tmp_path / "page.html")
    assert (got.title, got.date) == ("Harbour Summit Statement", "2023-10-20")
    (tmp_path / "timed.html").write_text(
        "<html><body><main><h1>Walls</h1><time datetime='2025-06-19'>19 June</time>"
        "<p>The leaders met at the harbour.</p></main></body></html>",
        encoding="utf-8",
    )
    got = extract(tmp_path / "timed.html")
    assert got.title is None and got.date == "2025-06-19"  # its own <h1> names it


def docx(path: Path, body: str, footnotes: str = "", title: str = "") -> None:
    """A Word file as Word writes one: a zip of XML parts (body, footnotes, styles, properties)."""
    import zipfile

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')  # fmt: skip
        z.writestr("word/document.xml", f'<?xml version="1.0"?><w:document {w}><w:body>{body}</w:body></w:document>')  # fmt: skip
        z.writestr("word/styles.xml", f'<?xml version="1.0"?><w:styles {w}><w:style w:styleId="Titre1"><w:name w:val="heading 1"/></w:style></w:styles>')  # fmt: skip
        if footnotes:
            z.writestr("word/footnotes.xml", f'<?xml version="1.0"?><w:footnotes {w}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>{footnotes}</w:footnotes>')  # fmt: skip
        z.writestr("docProps/core.xml", f'<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></cp:coreProperties>')  # fmt: skip


def para(text: str, style: str = "", note: str = "") -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    ref = f'<w:r><w:footnoteReference w:id="{note}"/></w:r>' if note else ""
    return f'<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r>{ref}</w:p>'


def test_word_headings_become_sections_and_footnotes_are_linked(tmp_path):
    from qa.ingest.documents import parse
    from qa.ingest.passages import cut

    body = (
        para("Harbour Walls Brief", "Title")
        + para("June 19, 2025")
        + para("Why the walls matter", "Titre1")  # a heading by its style's name, not its id
        + para("The walls of the harbour were raised after the great storm of the last decade.", note="1")  # fmt: skip
        + para(" Engineers say they will hold for fifty years if they are kept in repair.")
        + "<w:tbl><w:tr><w:tc>" + para("Wall") + "</w:tc><w:tc>" + para("Height") + "</w:tc></w:tr>"
        + "<w:tr><w:tc>" + para("North") + "</w:tc><w:tc>" + para("12 m") + "</w:tc></w:tr></w:tbl>"
    )  # fmt: skip
    notes = '<w:footnote w:id="1"><w:p><w:r><w:t>Harbour board minutes, March 2016.</w:t></w:r></w:p></w:footnote>'  # fmt: skip
    docx(tmp_path / "brief.docx", body, notes, title="Harbour Walls Brief")
    got = extract(tmp_path / "brief.docx")
    assert "# Why the walls matter" in got.text and "North | 12 m" in got.text
    assert (
        "the last decade.[1]" in got.text and "[1] Harbour board minutes, March 2016." in got.text
    )
    document = parse("brief.docx", got.text, title=got.title, date=got.date)
    assert (document.title, document.date) == ("Harbour Walls Brief", "2025-06-19")
    passages = cut(document)
    walls = next(p for p in passages if "great storm" in p.text)
    assert walls.section == "Why the walls matter"
    assert walls.endnotes[0].text == "Harbour board minutes, March 2016."
    assert all(got.text[p.start : p.end] == p.text for p in passages)


def test_a_damaged_word_file_is_one_line_not_a_traceback(tmp_path, embedder):
    from qa.index import build

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "c" / "note.md").write_text("# Note\n\nThe harbour walls were raised in 2016.\n")
    said: list[str] = []
    build(tmp_path / "c", tmp_path / "i", embedder, progress=said.append)
    assert "skipping broken.docx: not a readable Word document (BadZipFile)" in said
