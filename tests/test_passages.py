"""Passages are exact spans: text == document[start:end], for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.documents import parse
from qa.ingest.passages import DEFAULT_MAX_WORDS, cut, sentence_spans
from tests.conftest import BRIEF

brief_text = BRIEF.read_text(encoding="utf-8")


def check_spans(text: str, passages) -> None:
    previous_end = 0
    for p in passages:
        assert p.text == text[p.start : p.end]
        assert p.text.strip() == p.text and p.text
        assert p.start >= previous_end  # in order, never overlapping
        previous_end = p.end


def test_brief_passages_are_exact_short_and_cited():
    doc = parse(BRIEF.name, brief_text)
    passages = cut(doc)
    check_spans(brief_text, passages)
    lengths = [len(p.text.split()) for p in passages]
    assert max(lengths) <= DEFAULT_MAX_WORDS
    assert sum(lengths) / len(lengths) < 80
    assert len({p.id for p in passages}) == len(passages)
    [mobility] = [p for p in passages if "internal EU problems" in p.text]
    assert [n.number for n in mobility.endnotes] == [12]
    assert mobility.section == "Challenges"


def test_endnotes_are_passages_of_their_own():
    passages = cut(parse(BRIEF.name, brief_text))
    notes = [p for p in passages if p.is_endnote]
    assert len(notes) == 12
    assert any("Mihai Chihaia" in p.text for p in notes)


def test_ids_are_stable_across_runs():
    a = [p.id for p in cut(parse(BRIEF.name, brief_text))]
    b = [p.id for p in cut(parse(BRIEF.name, brief_text))]
    assert a == b


def test_passages_never_cross_a_section():
    doc = parse(BRIEF.name, brief_text)
    for p in cut(doc, max_words=30):
        blocks = [b for b in doc.blocks if b.start <= p.start and p.end <= b.end]
        assert len(blocks) == 1 and blocks[0].section == p.section


def test_sentences_keep_abbreviations_and_markers_together():
    text = "The U.S. said no, e.g. twice.[3] Then Mr. Smith left. “Quoted end.” Next one."
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    assert sentences == [
        "The U.S. said no, e.g. twice.[3]",
        "Then Mr. Smith left.",
        "“Quoted end.”",
        "Next one.",
    ]


def test_sentences_do_not_end_at_abbreviations_initials_or_list_numbers():
    """Each case a wrong split the splitter made on the real documents (issue 18; 148 in all on
    ../shared/benchmarks: P.L., H.R., U.S.C., court citations, numbered paragraphs)."""
    text = (
        "Funded by the Appropriations Act, 2026 (P.L. 119-75, Division A). See 18 U.S.C. §1960 "
        "and H.R. 3633. Cited in 688 F. Supp. 3d 454 (W.D. Tex. 2023) and (D.C. Cir. 2022). "
        "He met John F. Kennedy on Jan. 5, 1961, as vol. 6, pp. 18-19, No. 5 says. In "
        "Washington, D.C. The mayor spoke.\n18. The United States and the EU met."
    )
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Funded by the Appropriations Act, 2026 (P.L. 119-75, Division A).",
        "See 18 U.S.C. §1960 and H.R. 3633.",
        "Cited in 688 F. Supp. 3d 454 (W.D. Tex. 2023) and (D.C. Cir. 2022).",
        "He met John F. Kennedy on Jan. 5, 1961, as vol. 6, pp. 18-19, No. 5 says.",
        "In Washington, D.C.",
        "The mayor spoke.",
        "18. The United States and the EU met.",
    ]


def test_a_list_item_is_a_sentence_without_its_bullet():
    text = "Contents\n- Introduction\n- Why the walls matter\n• In space. The board watches."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Contents",
        "Introduction",
        "Why the walls matter",
        "In space.",
        "The board watches.",
    ]
    passages = cut(parse("list.md", "# Walls\n\n- The walls were raised.\n- They held.\n"))
    assert [p.text for p in passages] == ["The walls were raised.\n- They held."]


def test_markup_labels_and_lone_captions_are_no_passages(tmp_path):
    """What a White House page and a CRS web page hold besides their text: the press release's
    closing "###", a label on a line of its own, a figure's caption without its figure. None is
    a passage; a lead-in sentence, a caption that is a sentence and a short fact still are."""
    from qa.index.pipeline import read_document

    page = (
        "---\ntitle: Fact Sheet\n---\n\nKey Summit Outcomes:\n\n"
        "Allies agreed a new Strategic Concept.\n\n"
        "U.S. actions to strengthen deterrence include:\n\n"
        "| Figure 1. Australia Fact Sheet \n|  \n|  \n\n"
        "Table 2: Copper imports rose 5% in 2025.\n\n"
        "Figure 3. Facial Recognition Technologies:\n\n"
        "It rained.\n\n"
        "                              Disclaimer:  \n These documents were prepared by CRS.\n\n"
        "\\###\n"
    )
    (tmp_path / "page.md").write_text(page, encoding="utf-8")
    document = read_document(tmp_path, "page.md")
    assert "###" in document.text and "Disclaimer:" in document.text  # kept in the text, cited
    passages = cut(document)
    check_spans(document.text, passages)
    assert [p.text for p in passages] == [
        "Allies agreed a new Strategic Concept.",
        "U.S. actions to strengthen deterrence include:",
        "Table 2: Copper imports rose 5% in 2025.",
        "It rained.",
        "These documents were prepared by CRS.",
    ]
    assert [p.id for p in passages][:2] == ["page.md#2.1", "page.md#3.1"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000), st.integers(5, 120))
def test_every_passage_is_an_exact_span_of_any_text(text, max_words):
    passages = cut(parse("any.txt", text), max_words=max_words)
    check_spans(text, passages)
    for p in passages:
        assert len(p.text.split()) <= max_words


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Alpha beta.",
                "Gamma [1] delta!",
                "# Head",
                "\n\n",
                "[1] Note.",
                "e.g. x",
                "“Q.”",
                " ",
            ]
        ),
        max_size=60,
    )
)
def test_exact_spans_on_document_like_text(pieces):
    text = " ".join(pieces)
    check_spans(text, cut(parse("doc.md", text), max_words=7))
