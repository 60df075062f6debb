"""Web pages saved as Markdown: the page's date from its metadata, its navigation and metadata not
indexed nor used as section names, markup the converter broke not in the text, list bullets not
in answers.

The page is written here in the shape of the CRS web pages in
../shared/benchmarks/real-pdfs/web-version (issue 18): labelled metadata, a breadcrumb of links,
an overview box under its own heading with a table of labels, a version history and a table of
contents as lists of links, then the report.
"""

from __future__ import annotations

from qa.ingest.documents import labelled_date, parse
from qa.ingest.extract import extract
from qa.ingest.passages import cut, sentence_spans

SITE = "https://reports.example.gov"
PAGE = f"""# Harbour Walls: Background and Issues

**Product Type:** In Focus
**Report No.:** IF99999
**Version:** 3
**Publication Date:** 04/17/2026
**Source:** {SITE}/IF99999

---
[Citation]({SITE}#citation)[Subscribe]({SITE}/alerts)[Share/Save]({SITE}#share)[Home]({SITE}/) > [Products (Library)]({SITE}/products) > IF99999

# Harbour Walls: Background and Issues

## REPORT PRODUCT (LIBRARY)

[Hide Overview]({SITE}#)

| **Product Type:** | In Focus
| **Product Number:** | IF99999
| **Publication Date:** | 04/17/2026
| **Authors:** | Roe, Jane A.; Doe, John B.

[Download PDF (275KB)]({SITE}/IF99999.3.pdf)                      | [PDF Version History]({SITE}#)

- [April 17, 2026 (IF99999 - Version: 3)]({SITE}/IF99999.3.pdf)
- [March 11, 2024 (IF99999 - Version: 2)]({SITE}/IF99999.2.pdf)
- [March 11, 2024 (IF99999 - Version: 1)]({SITE}/IF99999.1.pdf)
[Listen]({SITE}/listen)Harbour Walls: Background and IssuesUpdated April 17, 2026             (IF99999)

# Contents

- [Introduction]({SITE}#_Toc1)
- [Why the Walls Matter]({SITE}#_Toc2)

Summary

The harbour walls were raised after the great storm, and the board has kept them in repair ever since.

Introduction

Under the current plan, the harbour board****is****soliciting bids for new gates, and the walls__will be inspected each spring by engineers from the port authority.

- _**In **_**s****pace****.** The board watches the sea walls from satellites in orbit over the coast.
- The******GPS**** Enterprise** provides timing for the gates, as the board's engineers require.
"""


def page(tmp_path):
    (tmp_path / "IF99999v3-harbour-walls.md").write_text(PAGE, encoding="utf-8")
    got = extract(tmp_path / "IF99999v3-harbour-walls.md")
    document = parse("page.md", got.text, got.pages, got.page_numbers, got.title, got.date)
    return got, document, cut(document)


def test_a_web_page_states_its_date_in_its_metadata(tmp_path):
    _, document, passages = page(tmp_path)
    assert document.title == "Harbour Walls: Background and Issues"
    assert document.date == "2026-04-17"
    assert all(p.date == "2026-04-17" for p in passages)


def test_navigation_and_metadata_are_neither_passages_nor_section_names(tmp_path):
    got, document, passages = page(tmp_path)
    for chrome in ("Hide Overview", "Download PDF", "Version: 2", "Subscribe", "Listen"):
        assert chrome not in got.text
    assert not any("Version:" in p.text or "Publication Date" in p.text for p in passages)
    assert not any("Why the Walls Matter" in p.text or "Roe, Jane" in p.text for p in passages)
    assert {p.section for p in passages} == {"Summary", "Introduction"}
    assert "REPORT PRODUCT (LIBRARY)" not in document.sections
    assert all(got.text[p.start : p.end] == p.text for p in passages)


def test_markup_the_converter_broke_is_not_text(tmp_path):
    got, _, _ = page(tmp_path)
    assert "the harbour board is soliciting bids" in got.text
    assert "the walls will be inspected" in got.text
    assert "In space. The board watches" in got.text
    assert "The GPS Enterprise provides timing" in got.text
    assert "*" not in got.text and "_" not in got.text


def test_no_sentence_or_passage_starts_with_a_list_bullet(tmp_path):
    got, _, passages = page(tmp_path)
    sentences = [got.text[a:b] for p in passages for a, b in sentence_spans(got.text, p.start, p.end)]  # fmt: skip
    assert "In space." in sentences and "The GPS Enterprise provides timing" in " ".join(sentences)
    assert not any(s.startswith(("- ", "• ")) for s in sentences)
    assert not any(p.text.startswith(("- ", "• ")) for p in passages)


def test_dates_are_read_where_a_label_names_them():
    assert labelled_date("Version: 6 Publication Date: 04/17/2026 Topics: Defense") == "2026-04-17"
    assert labelled_date("| Publication Date: | 17/04/2026") == "2026-04-17"  # day first
    assert labelled_date("Harbour WallsUpdated April 17, 2026 (IF99999)") == "2026-04-17"
    assert labelled_date("Published: 2024-07-11") == "2024-07-11"
    assert labelled_date("The walls were raised on 04/17/2026 after the storm.") is None


NOTES_PAGE = """# Harbour Walls

The walls were raised after the great storm of the last decade, and they held in every gale.

| Wall | Height |
| --- | --- |
| 1. | 12 m |

# Footnotes

| 1. | Harbour board minutes, March 2016, p. 4.
| 2. | Engineers' survey of the north wall, 2019.
"""


def test_notes_saved_as_numbered_rows_are_notes_and_a_table_stays_a_table(tmp_path):
    (tmp_path / "notes.md").write_text(NOTES_PAGE, encoding="utf-8")
    got = extract(tmp_path / "notes.md")
    document = parse("notes.md", got.text, title=got.title, date=got.date)
    assert {n: e.text for n, e in document.endnotes.items()} == {
        1: "Harbour board minutes, March 2016, p. 4.",
        2: "Engineers' survey of the north wall, 2019.",
    }
    assert "1. | 12 m" in got.text  # the table's row, as tables are read
    notes = [p for p in cut(document) if p.is_endnote]
    assert [p.text for p in notes] == [f"[{n}] {e.text}" for n, e in document.endnotes.items()]
