"""Hybrid retrieval on the real model and index, and its quality floor on the dev set."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa.answer.evaluation import evaluate, load_questions
from qa.errors import BadInput
from tests.conftest import DEV_SET, ROOT


def test_search_returns_cited_exact_spans(assistant, brief_corpus):
    hits = assistant.search("Why is information sharing between the EU and NATO problematic?", 5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].score >= hits[-1].score
    assert "Türkiye" in hits[0].passage.text
    for hit in hits:
        c = hit.to_dict()["citation"]
        text = (brief_corpus / c["source"]).read_text(encoding="utf-8")
        assert text[c["start"] : c["end"]] == hit.passage.text
        assert c["title"] == "Hague Summit Series: The EU-NATO Relationship"
        assert c["date"] == "2025-06-19"


def test_endnote_text_travels_with_the_citation(assistant):
    [hit] = assistant.search("lack of funding for military mobility", 1)
    notes = hit.to_dict()["citation"]["endnotes"]
    assert notes == [
        {
            "number": 12,
            "text": "Mihai Chihaia, “Military Mobility a Critical Enabler,” ICDS, 27 May 2025.",
        }
    ]


def test_endnotes_can_be_found_on_their_own(assistant):
    hits = assistant.search("Who wrote the ICDS piece on military mobility?", 3)
    assert any(h.passage.section == "Endnotes" and "Chihaia" in h.passage.text for h in hits)


def test_no_two_results_overlap(assistant):
    hits = assistant.search("NATO and the EU", 20)
    spans = sorted((h.passage.start, h.passage.end) for h in hits)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("query,k", [("   ", 5), ("x" * 2001, 5), ("fine", 0), ("fine", 51)])
def test_bad_queries_are_refused_plainly(assistant, query, k):
    with pytest.raises(BadInput):
        assistant.search(query, k)


@pytest.fixture(scope="session")
def dev_report(assistant):
    questions = load_questions(DEV_SET) + load_questions(ROOT / "tests" / "unanswerable.jsonl")
    return evaluate(assistant, questions)


def test_dev_set_quality_floor(dev_report):
    ours = dev_report["systems"]["qa"]
    assert ours["hit@3"] >= 0.9
    assert ours["hit@1"] >= 0.85
    assert ours["mean_passage_words"] < 80


def test_answer_quality_floor(dev_report):
    ours = dev_report["systems"]["qa"]
    assert ours["answer_hit"] >= 0.85
    assert ours["false_refusals"] <= 0.05
    # The learned refusal declines 9 of these 20 (the heuristic it replaced, fitted to them, 18):
    # its threshold caps false refusals on SQuAD 2.0 (training/calibrate.py), and it tells the
    # brief's near-topic unanswerable questions from answerable ones only weakly.
    assert ours["unanswerable_refused"] >= 0.4


def test_baselines_are_computed_in_the_same_run(dev_report):
    systems = dev_report["systems"]
    assert set(systems) == {"qa", "bm25-paragraphs", "dense-paragraphs"}
    for name in ("bm25-paragraphs", "dense-paragraphs"):
        assert 0 < systems[name]["hit@5"] <= 1
        assert systems[name]["unanswerable_refused"] == 0.0


def test_search_reads_only_where_reading_helps(assistant):
    from qa.search.reranking import DEPTH, SEARCH_DEPTH, is_question, search_depth

    assert is_question("When was the latest joint declaration published?")
    assert is_question("the latest joint declaration?")
    assert not is_question("The latest joint declaration was published in 2023.")
    # A statement (a claim to check) keeps retrieval's order: the reader reads questions.
    claim = "The EU and NATO published a joint declaration in 2023."
    assert all(h.reading is None for h in assistant.search(claim, 5))
    retriever = assistant.retriever
    question = "Which exercise tested the Alliance's ability to respond to a range of threats?"
    hits = retriever.hybrid(question, retriever.encode_query(question), DEPTH)
    read = [h for h in retriever.search(question, DEPTH) if h.reading is not None]
    assert len(read) == search_depth(question, hits) in (0, SEARCH_DEPTH)
    close = [replace(hits[0], score=0.50), replace(hits[1], score=0.49), *hits[2:]]
    clear = [replace(hits[0], score=0.70), replace(hits[1], score=0.49), *hits[2:]]
    assert search_depth(question, close) == SEARCH_DEPTH
    assert search_depth(question, clear) == 0
    assert search_depth(claim, close) == 0
    # Answering reads every candidate: the refusal is calibrated on all of them.
    every = retriever.search(question, DEPTH, depth=DEPTH)
    assert all(h.reading is not None for h in every)
