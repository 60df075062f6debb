"""The lexical score of the database's candidates, computed as the folder store computes it
(qa/index/lexical.py): BM25 over content-word stems, over adjacent stem pairs, and of each
passage's best sentence, with the corpus's own document frequencies (the `lexicon` table,
counted from qa's stems at each build, not PostgreSQL's), each divided by the best among the
candidates. PostgreSQL's own ts_rank has no inverse document frequency, so it
finds candidates but does not rank them (on the brief, it ranked a passage that repeats
"NATO" above the one that answers "which countries are in NATO but not the EU")."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

from qa.index.lexical import PHRASE_WEIGHT, SENTENCE_WEIGHT, phrases, tokenize
from qa.ingest.passages import Passage

# bm25s's defaults, as the folder store's BM25 uses them (method "lucene").
K1 = 1.5
B = 0.75
# The lexicon's three kinds of term, as the folder store's three BM25 indexes hold them.
WORDS, PAIRS, SENTENCES = 0, 1, 2


def document_terms(passages: list[Passage], texts: list[str]) -> dict:
    """What one document adds to the lexicon: in how many of its passages each stem and stem
    pair occurs, in how many of its sentences each stem does, and the lengths BM25 averages."""
    words, pairs, sentences = Counter(), Counter(), Counter()
    counts = {"passages": len(passages), "pairs": 0, "sentences": 0, "sentence_stems": 0}
    for passage, text in zip(passages, texts, strict=True):
        words.update(set(tokenize(text)))
        own_pairs = phrases(text)
        pairs.update(set(own_pairs))
        counts["pairs"] += len(own_pairs)
        for sentence in passage.sentences:
            stems = tokenize(sentence)
            sentences.update(set(stems))
            counts["sentences"] += 1
            counts["sentence_stems"] += len(stems)
    return {"words": words, "pairs": pairs, "sentences": sentences, "counts": counts}


def lexical_scores(query: str, passages: list[Passage], texts: list[str], frequencies: Callable[[Iterable[str]], dict], statistics: dict) -> np.ndarray:  # fmt: skip
    """Each candidate's lexical score for query: the BM25 of its stems, PHRASE_WEIGHT times that
    of its stem pairs and SENTENCE_WEIGHT times its best sentence's, each divided by the best
    among the candidates. frequencies(terms) gives {(kind, term): passages or sentences}."""
    stems, pairs = tokenize(query), phrases(query)
    df = frequencies(set(stems) | set(pairs))

    def idf(kind: int, size: int) -> dict[str, float]:
        terms = pairs if kind == PAIRS else stems
        return {t: math.log(1 + (size - n + 0.5) / (n + 0.5)) for t in set(terms) for n in [df.get((kind, t), 0)]}  # fmt: skip

    size, sentences = statistics["passages"], statistics["sentences"]
    word_idf, pair_idf, sentence_idf = idf(WORDS, size), idf(PAIRS, size), idf(SENTENCES, sentences)
    words = np.array([_bm25(tokenize(t), stems, word_idf, statistics["average_words"]) for t in texts], np.float32)  # fmt: skip
    paired = np.array([_bm25(phrases(t), pairs, pair_idf, statistics["average_pairs"]) for t in texts], np.float32)  # fmt: skip
    best = np.array(
        [
            max(
                (
                    _bm25(tokenize(s), stems, sentence_idf, statistics["average_sentence"])
                    for s in p.sentences
                ),
                default=0.0,
            )  # fmt: skip
            for p in passages
        ],
        np.float32,
    )
    return _normalised(words) + PHRASE_WEIGHT * _normalised(paired) + SENTENCE_WEIGHT * _normalised(best)  # fmt: skip


def _bm25(tokens: list[str], terms: list[str], idf: dict[str, float], average: float) -> float:
    counts = Counter(tokens)
    norm = K1 * (1 - B + B * len(tokens) / max(average, 1e-9))
    return sum(idf[t] * counts[t] / (counts[t] + norm) for t in terms if counts[t])


def _normalised(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores
