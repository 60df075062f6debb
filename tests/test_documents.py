"""The parser: title, date, sections, endnotes, pull quotes and page furniture."""

from __future__ import annotations

from qa.ingest.documents import ENDNOTES_SECTION, parse
from tests.conftest import BRIEF


def brief():
    return parse(BRIEF.name, BRIEF.read_text(encoding="utf-8"))


def body_texts(doc) -> list[str]:
    return [doc.block_text(b) for b in doc.paragraphs]


def test_title_and_date():
    doc = brief()
    assert doc.title == "Hague Summit Series: The EU-NATO Relationship"
    assert doc.date == "2025-06-19"


def test_sections_in_order():
    assert brief().sections == [
        "NATO Primacy",
        "Squaring agendas",
        "A Division of Labour?",
        "Challenges",
        "The Summit … and Beyond",
        ENDNOTES_SECTION,
    ]


def test_paragraphs_take_the_section_of_the_heading_above_them():
    doc = brief()
    by_start = {doc.block_text(b)[:30]: b.section for b in doc.paragraphs}
    assert by_start["Military mobility is a further"] == "A Division of Labour?"
    assert by_start["While the agendas of the two o"] == "Challenges"


def test_endnotes_are_numbered_with_their_full_text():
    doc = brief()
    assert sorted(doc.endnotes) == list(range(1, 13))
    note = doc.endnotes[12]
    assert note.text == "Mihai Chihaia, “Military Mobility a Critical Enabler,” ICDS, 27 May 2025."
    assert doc.text[note.start : note.end] == note.text


def test_page_furniture_is_not_body_text():
    texts = "\n".join(body_texts(brief()))
    assert "Unsplash" not in texts
    assert "Download and read as a PDF" not in texts
    assert "Read our series of briefs" not in texts
    assert "The Hague, Netherlands" not in texts


def test_pull_quotes_are_detected_by_repetition_not_listed():
    doc = brief()
    quotes = [doc.block_text(b) for b in doc.blocks if b.kind == "pullquote"]
    assert (
        "Information sharing is an obstacle to effective EU-NATO cooperation in capability development"
        in quotes
    )
    assert len(quotes) == 3
    assert not any(q in body_texts(doc) for q in quotes)


def test_disclaimer_is_its_own_section():
    doc = brief()
    [disclaimer] = [b for b in doc.paragraphs if doc.block_text(b).startswith("Disclaimer")]
    assert disclaimer.section == "Disclaimer"


def test_markdown_headings_become_sections_and_the_first_is_the_title():
    text = "# Annual report\n\nIntro paragraph here.\n\n## Budget\n\nWe spent 5 euros.[1]\n\n## Notes\n\n[1] Ledger, 2024.\n"
    doc = parse("r.md", text)
    assert doc.title == "Annual report"
    assert doc.sections == ["Budget", ENDNOTES_SECTION]
    assert doc.endnotes[1].text == "Ledger, 2024."
    [budget] = [b for b in doc.paragraphs if b.section == "Budget"]
    assert doc.block_text(budget) == "We spent 5 euros.[1]"


def test_a_document_without_title_headings_or_endnotes():
    text = "just some words in a line that goes on.\n\nand a second paragraph, also plain.\n"
    doc = parse("plain.txt", text)
    assert doc.endnotes == {}
    assert [doc.block_text(b) for b in doc.paragraphs] == [
        "just some words in a line that goes on.",
        "and a second paragraph, also plain.",
    ]


def test_a_figure_caption_set_as_a_heading_does_not_name_the_prose_after_it():
    text = (
        "# Harbour Walls\n\n## Organization\n\nThe board runs the walls from its office on the "
        "quay, and the engineers report to it each month.\n\n## Figure 1. The Board Within the "
        "Port Authority\n\nSource: Adapted from the port authority's chart of 2022.\n\nThe board "
        "oversees three crews, each led by an engineer who reports on the walls each week.\n\n"
        "Table 2: Crews and Walls\n\nEach crew keeps one wall, and the crews trade walls every "
        "spring, as the board decided in its first year.\n"
    )
    document = parse("walls.md", text)
    assert document.sections == ["Organization"]
    assert {b.section for b in document.paragraphs} == {"Organization"}


def test_a_first_paragraph_that_ends_on_a_footnote_is_body_not_front_matter():
    """A long first paragraph that names the title and ends on a wiki footnote ("[n 1]") is
    the first paragraph, not a caption: nothing of it is lost."""
    first = " ".join(["The word pharmacy is derived from its root word pharma."] * 8) + " [n 1]"
    text = f"Pharmacy\n\n{first}\n\nPharmacists advise patients on medicines and their use.\n"
    doc = parse("pharmacy.txt", text)
    assert doc.title == "Pharmacy"
    body = [doc.block_text(b) for b in doc.paragraphs]
    assert body[0] == first
