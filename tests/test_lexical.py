"""Lexical proximity: word pairs and the best sentence count beside single-stem BM25."""

import numpy as np

from qa.index.lexical import Lexical, phrases


def build(passages: list[list[str]]) -> Lexical:
    return Lexical.build([" ".join(sentences) for sentences in passages], passages)


FILLER = ["Budgets were debated at length.", "Officials met again in spring."]


def test_words_together_in_one_sentence_outrank_the_same_words_apart():
    together = ["The treaty created a common defence fund.", "Nothing else."]
    apart = ["The treaty created nothing else.", "A common defence fund."]
    lexical = build([together, apart, FILLER])
    scores, words = lexical.scores("treaty fund"), lexical.words.scores("treaty fund")
    assert np.isclose(words[0], words[1])  # the same words: BM25 alone cannot tell them apart
    assert scores[0] > scores[1]


def test_a_phrase_outranks_its_words_scattered():
    phrase = ["Military mobility needs rail lines.", *FILLER]
    scattered = ["Lines of rail need mobility.", "Military staff agreed.", *FILLER[1:]]
    scores = build([phrase, scattered]).scores("military mobility")
    assert scores[0] > scores[1]


def test_phrases_are_adjacent_content_stems():
    assert phrases("The Common Security and Defence Policy") == ["common secur", "secur defenc", "defenc polici"]  # fmt: skip
    assert phrases("defence") == []


def test_nothing_matching_scores_zero_everywhere():
    lexical = build([["Alpha beta gamma."], ["Delta epsilon."]])
    assert not lexical.scores("zeta").any()
    assert not lexical.scores("").any()


def test_save_and_load_round_trip(tmp_path):
    lexical = build([["Alpha beta gamma.", "Beta delta."], ["Delta epsilon."]])
    lexical.save(tmp_path / "lexical")
    loaded = Lexical.load(tmp_path / "lexical")
    for query in ["beta delta", "alpha", "epsilon delta beta"]:
        assert np.array_equal(loaded.scores(query), lexical.scores(query))
