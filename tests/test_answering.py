"""Answers: verbatim sentences with markers that match the citations, an exact short answer where
the question asks for a thing, or a plain refusal that says why."""

from __future__ import annotations

import re

import pytest

from qa.answer.answering import REFUSAL, Refusal, asks_for_thing
from qa.ingest.documents import normalise


def sentences_of(answer: str) -> list[tuple[str, int]]:
    return [(m.group(1).strip(), int(m.group(2))) for m in re.finditer(r"(.+?) \[(\d+)\]", answer)]


@pytest.mark.parametrize(
    "question,expected",
    [
        ("When was the latest joint declaration published?", "2023"),
        ("How many cross briefings have been held since 2016?", "325"),
        ("Who is expected to join the informal leaders' dinner on 24 June?", "Costa"),
        ("Who wrote the ICDS brief on military mobility?", "Chihaia"),
    ],
)
def test_answers_are_verbatim_and_every_marker_is_cited(assistant, question, expected):
    answer = assistant.ask(question)
    assert answer.answerable, answer.signals
    assert expected in answer.answer
    markers = [m for _, m in sentences_of(answer.answer)]
    cited = [m for m, _ in answer.citations]
    assert cited == sorted(set(markers), key=markers.index)  # numbered in order of first use
    assert cited == list(range(1, len(cited) + 1))
    by_marker = dict(answer.citations)
    for sentence, marker in sentences_of(answer.answer):
        assert normalise(sentence) in normalise(
            re.sub(r"\[\^?\d+\]", "", by_marker[marker].passage.text)
        )


@pytest.mark.parametrize(
    "question,expected",
    [
        ("When was the latest joint declaration published?", "2023"),
        ("How many cross briefings have been held since 2016?", "325"),
    ],
)
def test_the_short_answer_is_an_exact_span_inside_the_answer(assistant, question, expected):
    answer = assistant.ask(question)
    short = answer.short_answer
    assert short is not None and expected in short.text
    document = assistant.index.documents[short.source]["text"]
    assert document[short.start : short.end] == short.text
    assert short.text in answer.answer
    assert len(short.text.split()) < len(answer.answer.split())


def test_only_questions_that_ask_for_a_thing_get_a_short_answer(assistant):
    answer = assistant.ask("Why is information sharing between the EU and NATO problematic?")
    assert answer.answerable
    assert answer.short_answer is None
    assert asks_for_thing("Which countries are not members of both?")
    assert asks_for_thing("What is the plan called?")
    assert not asks_for_thing("Why does the brief say cooperation is hard?")


@pytest.mark.parametrize(
    "question",
    [
        "What is the population of Estonia?",
        "How many troops does NATO keep in Poland?",
    ],
)
def test_unanswerable_questions_are_refused_with_reasons_and_related_reading(assistant, question):
    answer = assistant.ask(question)
    assert not answer.answerable
    assert answer.answer == REFUSAL
    assert answer.short_answer is None
    assert answer.citations  # the closest passages, offered as related reading
    s = answer.signals
    assert s["answer_probability"] < s["threshold"] == Refusal.of(assistant.reader).threshold


@pytest.mark.parametrize(
    "question",
    [
        "What did US officials object to?",
        "Why is information sharing between the EU and NATO problematic?",
        "What does the ReArm Europe plan aim to do?",
    ],
)
def test_endnotes_never_lead_an_answer_unless_the_question_asks_who_wrote_what(assistant, question):
    answer = assistant.ask(question)
    assert (
        all(not hit.passage.is_endnote for _, hit in answer.citations[:1]) or not answer.answerable
    )


def test_an_endnote_answer_is_the_whole_reference_not_a_piece_of_its_title(assistant):
    answer = assistant.ask("Who wrote the ICDS piece on defence spending?")
    assert answer.answerable, answer.signals
    assert "Felix Gasper" in answer.answer and "Defence Spending" in answer.answer


def test_json_shape_follows_the_contract(assistant):
    data = assistant.ask("What does the ReArm Europe plan aim to do?").to_dict()
    assert set(data) >= {"question", "answer", "answerable", "citations", "short_answer", "signals"}
    assert {"answer_probability", "threshold"} <= set(data["signals"])
    for citation in data["citations"]:
        assert {"marker", "rank", "score", "text", "citation"} <= set(citation)
        assert f"[{citation['marker']}]" in data["answer"]
