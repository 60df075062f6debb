"""A name the documents never state, asked of a sentence that names another of its family, is a
near miss: "European Defence Agency" of the sentence on the "European Security and Defence
Policy"."""

from __future__ import annotations

import pytest

from qa.answer import names

POLICY = (
    "France and the UK led the push for the development of a European Security and Defence "
    "Policy, which was established in 2000 and became the Common Security and Defence Policy in 2007."
)


def test_a_name_of_the_same_family_in_the_sentence_makes_the_asked_one_a_sibling():
    assert names.sibling("When was the European Defence Agency founded?", POLICY, POLICY) == "European Defence Agency"  # fmt: skip
    assert names.kin("European Defence Agency", POLICY) == "European Security and Defence Policy"
    assert names.sibling("When was the Trump Administration's order signed?", "The Biden Administration signed it.", "The Biden Administration signed it.") == "Trump Administration"  # fmt: skip


@pytest.mark.parametrize(
    "question, evidence",
    [
        # stated, in other words or order, or by its initials
        ("When was the European Security and Defence Policy established?", POLICY),
        (
            "What did the NATO Summit in Madrid decide?",
            "At the Madrid Summit, NATO leaders agreed a new Strategic Concept.",
        ),  # fmt: skip
        (
            "When was the European Defence Agency founded?",
            "The EDA was founded in 2004, like the European Security Strategy.",
        ),  # fmt: skip
        # a country in any form is one word: the United States is not of the United Kingdom's family
        (
            "How many squadrons does the United States station in the United Kingdom?",
            "Stationing two squadrons of F-35 aircraft in the United Kingdom.",
        ),  # fmt: skip
        (
            "What did the Japanese Self-Defense Forces do?",
            "The Japan Self-Defense Forces trained in 2024.",
        ),  # fmt: skip
        # a shorter name the sentence gives is the same one, not a sibling
        ("What did the European Commission propose?", "The Commission proposed a fund in 2024."),
    ],
)
def test_a_name_stated_in_any_form_or_shortened_is_no_sibling(question, evidence):
    assert names.sibling(question, evidence, evidence) is None


def test_a_sibling_name_is_a_near_miss_that_says_which_one_the_documents_name(tmp_path, embedder):
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.settings import Settings

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "policy.md").write_text(f"# European defence\n\n{POLICY}\n", encoding="utf-8")
    build(corpus, index, embedder)
    settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    assistant = Assistant(settings, embedder)
    answer = assistant.ask("When was the European Defence Agency founded?")
    assert not answer.answerable, answer.answer
    assert answer.answer.startswith("The documents say nothing of the European Defence Agency; they speak of European Security and Defence Policy")  # fmt: skip
    assert answer.near_miss["found"] == "European Security and Defence Policy"
    asked = assistant.ask("When was the European Security and Defence Policy established?")
    assert asked.answerable and "2000" in asked.answer, asked.signals
