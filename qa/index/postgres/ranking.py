"""The lexical score of the database's candidates, computed as the folder store computes it:
BM25 over content-word stems with the corpus's document frequencies, plus the BM25 of each
passage's best sentence. PostgreSQL's own ts_rank has no inverse document frequency, so it
finds candidates but does not rank them (on the brief, it ranked a passage that repeats
"NATO" above the one that answers "which countries are in NATO but not the EU")."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np

from qa.index.lexical import SENTENCE_WEIGHT, tokenize
from qa.ingest.passages import Passage

# bm25s's defaults, as the folder store's BM25 uses them (method "lucene").
K1 = 1.5
B = 0.75


def lexical_scores(query: str, passages: list[Passage], texts: list[str], document_frequency: Callable[[str], int], size: int, average_words: float) -> np.ndarray:  # fmt: skip
    """Each candidate's lexical score for query: its BM25 and SENTENCE_WEIGHT times its best
    sentence's, each divided by the best among the candidates (the pairs part is left out)."""
    stems = tokenize(query)
    idf = {s: math.log(1 + (size - df + 0.5) / (df + 0.5)) for s in set(stems) for df in [document_frequency(s)]}  # fmt: skip
    words = np.array([_bm25(tokenize(t), stems, idf, average_words) for t in texts], np.float32)
    sentences = [[tokenize(s) for s in p.sentences] for p in passages]
    lengths = [len(s) for own in sentences for s in own]
    average_sentence = sum(lengths) / len(lengths) if lengths else 1.0
    best = np.array(
        [
            max((_bm25(s, stems, idf, average_sentence) for s in own), default=0.0)
            for own in sentences
        ],  # fmt: skip
        np.float32,
    )
    return _normalised(words) + SENTENCE_WEIGHT * _normalised(best)


def _bm25(tokens: list[str], stems: list[str], idf: dict[str, float], average: float) -> float:
    counts = Counter(tokens)
    norm = K1 * (1 - B + B * len(tokens) / max(average, 1e-9))
    return sum(idf[s] * counts[s] / (counts[s] + norm) for s in stems if counts[s])


def _normalised(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores
