"""Long reports read whole: a report whose footnotes outweigh its body, set at the foot of every
page (a page given over to them past its middle), with sentences that run across page breaks.

The PDF is written here with fpdf2, laid out as a CRS report is (issue 18, R47324 "Seabed
Mining"): an 11-point body with raised note numbers, 9-point footnotes each starting with its
raised number, a running head and a page footer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.ingest.documents import parse
from qa.ingest.extract import extract
from qa.ingest.passages import cut

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TOPICS = ["seabed", "nodules", "permits", "vessels", "sediment", "plumes", "royalties", "treaties"]
SEASONS = ["spring", "summer", "autumn", "winter"]
# Body rows per page: 17 leaves a sentence open at the foot of most pages; 9 leaves a page with
# more footnotes than body, their block rising past the page's middle.
ROWS = (17, 9, 17, 17)


def body_sentence(i: int) -> str:
    t, a, b = (TOPICS[(i * k + k) % 8] for k in (1, 3, 5))
    return (
        f"Sentence {i} of the body says that the {t} of region {i} were studied with the {a} by "
        f"the agency over several seasons, with {b} reported to the committee in writing."
    )


def note_text(n: int) -> str:
    words = [TOPICS[(n * k) % 8] for k in range(1, 4 + n % 5)]
    parts = ", ".join(
        f"{w.title()} Survey {n}.{k}, Ocean Office, Volume {k + n}" for k, w in enumerate(words, 1)
    )
    return (
        f"Footnote {n} cites the {TOPICS[n % 8]} record: {parts}, and the archive of the "
        f"{TOPICS[(n * 3) % 8]} hearing on the {TOPICS[(n + 5) % 8]} {SEASONS[n % 4]}."
    )


def long_report(path: Path, sentences: int = 40, per_paragraph: int = 3) -> dict[int, str]:
    """Write the report; return its footnotes by number. The last footnote on each page reads
    "Ibid.", at the same height on every page, as a running footer would stand."""
    from fpdf import FPDF

    if not FONT.is_file():
        pytest.fail("no DejaVu font: `apt-get install fonts-dejavu-core` (as .ci/run does)")
    pdf = FPDF(format="letter", unit="pt")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.set_auto_page_break(False)
    left, width = 72.0, 612 - 144.0
    rows: list[list[tuple[str, int | None]] | None] = []  # None: a paragraph's end
    row: list[tuple[str, int | None]] = []
    used = 0.0
    pdf.set_font("DejaVu", "", 11)
    for i in range(1, sentences + 1):
        words = body_sentence(i).split()
        for k, word in enumerate(words):
            mark = i if k == len(words) - 1 else None
            w = pdf.get_string_width(word + " ") + (8 if mark else 0)
            if row and used + w > width:
                rows.append(row)
                row, used = [], 0.0
            row.append((word, mark))
            used += w
        if i % per_paragraph == 0 or i == sentences:
            rows += [row, None]
            row, used = [], 0.0
    pages, at = [], 0
    while at < len(rows):
        pages.append(rows[at : at + ROWS[len(pages) % len(ROWS)]])
        at += ROWS[(len(pages) - 1) % len(ROWS)]
    notes: dict[int, str] = {}
    for number, page in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("DejaVu", "", 8)
        pdf.text(400, 40, "Seabed Mining: Running Head")
        pdf.text(290, 770, f"Research Service · {number}")
        y, marks = 80.0, []
        for r in page:
            if r is None:
                y += 8
                continue
            x = left
            for word, mark in r:
                pdf.set_font("DejaVu", "", 11)
                pdf.text(x, y, word)
                x += pdf.get_string_width(word)
                if mark:
                    pdf.set_font("DejaVu", "", 7)
                    pdf.text(x, y - 4, str(mark))
                    x += pdf.get_string_width(str(mark))
                    marks.append(mark)
                pdf.set_font("DejaVu", "", 11)
                x += pdf.get_string_width(" ")
            y += 14
        for n in marks:
            notes[n] = "Ibid." if n == marks[-1] else note_text(n)
        pdf.set_font("DejaVu", "", 9)
        blocks = [
            (n, pdf.multi_cell(width - 10, 11, notes[n], dry_run=True, output="LINES"))
            for n in marks
        ]
        y = 745 - 11 * sum(len(lines) for _, lines in blocks)
        for n, lines in blocks:
            for k, line in enumerate(lines):
                if k == 0:
                    pdf.set_font("DejaVu", "", 6)
                    pdf.text(left, y - 3, str(n))
                    pdf.set_font("DejaVu", "", 9)
                pdf.text(left + 10, y, line)
                y += 11
    pdf.output(str(path))
    return notes


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "seabed.pdf"
    notes = long_report(path)
    got = extract(path)
    document = parse(path.name, got.text, got.pages, got.page_numbers, got.title, got.date)
    return notes, got, document, cut(document)


def test_footnotes_outweighing_the_body_go_to_the_footnote_store(report):
    notes, got, document, _ = report
    assert len(notes) == 40 and sum(map(len, notes.values())) > 40 * len(body_sentence(40))
    assert {n: e.text for n, e in document.endnotes.items()} == notes
    body = got.text[: got.text.index("## Notes")]
    assert "Footnote" not in body and "Ibid" not in body and "Survey" not in body


def test_every_body_sentence_is_whole_in_one_passage_across_page_breaks(report):
    _, got, _, passages = report
    body = [p for p in passages if not p.is_endnote]
    for i in range(1, 41):
        sentence = body_sentence(i)
        holding = [p for p in body if sentence in re.sub(r"\[\d+\]", "", p.text)]
        assert holding, f"sentence {i} is not whole in any passage"
        assert any(f"{sentence}[{i}]" in p.text for p in holding)  # its note marker kept
    across = [p for p in body if p.page_end != p.page]
    assert across and all(p.page_end == p.page + 1 for p in across)
    for p in passages:
        assert got.text[p.start : p.end] == p.text


def test_a_passage_links_the_footnotes_it_cites(report):
    notes, _, _, passages = report
    for i in (1, 8, 12, 40):
        p = next(p for p in passages if not p.is_endnote and f"[{i}]" in p.text)
        assert notes[i] in [e.text for e in p.endnotes]


def test_a_note_running_on_to_the_next_page_loses_its_continued_notice():
    from qa.ingest.pdf.footnotes import gather_notes
    from qa.ingest.pdf.lines import Line

    def line(text: str, note: str | None = None) -> Line:
        return Line(text, 90, 80, 500, 90, 9.0, False, len(text), note)

    notes: list[list] = []
    gather_notes(10, [line("Alex Wade, “How Does It Work?,” and Its", "31"), line("(continued...)")], notes)  # fmt: skip
    gather_notes(
        11, [line("Sanctions Implications,” August 30, 2022."), line("Ibid.", "32")], notes
    )
    assert [(n, " ".join(parts)) for _, n, parts in notes] == [
        ("31", "Alex Wade, “How Does It Work?,” and Its Sanctions Implications,” August 30, 2022."),
        ("32", "Ibid."),
    ]


def lines_pdf(path: Path, lines: list[str]) -> None:
    """One page whose lines break where given (a word processor's, hyphens and all)."""
    from fpdf import FPDF

    pdf = FPDF(format="letter", unit="pt")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 11)
    for k, line in enumerate(lines):
        pdf.text(72, 100 + 14 * k, line)
    pdf.output(str(path))


def test_a_compound_broken_at_a_line_end_keeps_its_hyphen(tmp_path):
    """Issue 18: the seven CRS PDFs' 31 line-end hyphens are all compounds ("second-largest"),
    which qa joined into one word when the report spelled them no other way."""
    lines_pdf(
        tmp_path / "compound.pdf",
        [
            "The United States is the second-",
            "largest trading partner of the islands, and an",
            "energy-intensive industry sends its ore to the",
            "harbour, where a tractor trailer-",
            "mounted crane loads the ships at night.",
        ],
    )
    text = " ".join(extract(tmp_path / "compound.pdf").text.split())
    assert "the second-largest trading partner" in text
    assert "a tractor trailer-mounted crane" in text
    lines_pdf(
        tmp_path / "typeset.pdf",
        [
            "Typesetting breaks words to fill its lines: the infor-",
            "mation it gives, and the information it keeps, are",
            "the same, as the board's second report and its",
            "largest survey show; the second-",
            "largest port agrees.",
        ],
    )
    text = " ".join(extract(tmp_path / "typeset.pdf").text.split())
    assert "the information it gives" in text  # a word broken in two, spelled whole elsewhere
    assert "the second-largest port" in text  # both halves words of their own: a compound


def test_a_title_set_on_two_widely_spaced_lines_is_one_title_not_a_heading(tmp_path):
    from fpdf import FPDF

    pdf = FPDF(format="letter", unit="pt")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 22)
    pdf.text(72, 110, "Section 232 National Security Tariffs on")
    pdf.text(72, 140, "Copper Imports")  # 30 points below: 1.36 times the size, as IN12614
    pdf.set_font("DejaVu", "", 11)
    for k in range(6):
        pdf.text(72, 180 + 13 * k, f"Line {k} of the body tells of the tariffs on copper imports.")
    pdf.output(str(tmp_path / "title.pdf"))
    got = extract(tmp_path / "title.pdf")
    document = parse("title.pdf", got.text, got.pages, got.page_numbers, got.title, got.date)
    assert document.title == "Section 232 National Security Tariffs on Copper Imports"
    assert "Copper Imports" not in document.sections
    assert {p.section for p in cut(document)} == {document.title}


def test_small_type_above_a_pages_notes_is_not_the_last_note_carried_on():
    """A figure's "Source: CRS." set small, above the notes with a gap, on a page after one with
    notes, stays in the body (R48883: two went into notes 10 and 38); the notes' own first lines,
    set solid above the first new number, carry on the last note."""
    from qa.ingest.pdf.footnotes import split_footnotes
    from qa.ingest.pdf.lines import Line

    def line(text: str, top: float, size: float = 9.0, note: str | None = None) -> Line:
        return Line(text, 90, top - size, 500, top, size, False, len(text), note)

    body = [line("The body ends here with a figure below it.", 600, 11.0)]
    source = line("Source: CRS.", 330)
    carried_on = line("Its (the last note's) final words.", 200)
    first_new = line("Ibid., p. 4.", 189, note="12")
    lines = [*body, source, carried_on, first_new]
    kept, notes = split_footnotes(lines, 11.0, 792.0, carried=True, expected=12)
    assert kept == [*body, source] and notes == [carried_on, first_new]
