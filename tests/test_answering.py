"""Answers: verbatim sentences with markers that match the citations, or a plain refusal."""

from __future__ import annotations

import re

import pytest

from qa.answering import REFUSAL, has_name, question_type
from qa.documents import normalise


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
    assert answer.answerable
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
    assert len(answer.answer.split()) <= 80 + 2 * len(markers)


@pytest.mark.parametrize(
    "question",
    [
        "What is the population of Estonia?",
        "How many troops does NATO keep in Poland?",
        "What percentage of GDP is the new NATO spending target?",
        "When did Finland join NATO?",
    ],
)
def test_unanswerable_questions_are_refused_with_related_reading(assistant, question):
    answer = assistant.ask(question)
    assert not answer.answerable
    assert answer.answer == REFUSAL
    assert answer.citations  # the closest passages, offered as related reading
    assert "[" not in answer.answer


def test_json_shape_follows_the_contract(assistant):
    data = assistant.ask("What does the ReArm Europe plan aim to do?").to_dict()
    assert set(data) >= {"question", "answer", "answerable", "citations"}
    for citation in data["citations"]:
        assert {"marker", "rank", "score", "text", "citation"} <= set(citation)
        assert f"[{citation['marker']}]" in data["answer"]


def test_question_types_and_names():
    assert question_type("How many proposals?") == "number"
    assert question_type("When was it signed?") == "date"
    assert question_type("Who wrote it?") == "person"
    assert question_type("What did it say?") == "other"
    assert has_name("President of the European Council, António Costa, will attend")
    assert not has_name("the Secretary General of the North Atlantic Treaty Organization")
