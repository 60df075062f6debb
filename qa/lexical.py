"""Lexical matching: one tokeniser for BM25 (bm25s) and for the answerer's term overlap."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.documents import normalise

_QUESTION_WORDS = frozenset(
    ["what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "done", "doing", "has", "have", "had", "was", "were", "is", "are", "be", "been", "being", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "about", "much", "many", "there", "here", "its", "it's", "also", "than", "then"]
)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    # Question words carry the question's type, not its topic: the answerer reads them apart.
    return frozenset(STOPWORDS_EN) | _QUESTION_WORDS


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Content-word stems: folded, possessives dropped, stop words removed, Snowball-stemmed."""
    stop = _stopwords()
    raw = [t.removesuffix("'s") for t in _TOKEN.findall(normalise(text).replace("-", " "))]
    return _stemmer().stemWords([t for t in raw if t not in stop])


class LexicalIndex:
    """BM25 over tokenised passages, scored for all passages at once."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), allow_pickle=False))

    def scores(self, query: str) -> np.ndarray:
        ids = self._bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def document_frequency(self, token: str) -> int:
        """How many passages contain the token (0 when it is not in the vocabulary)."""
        tid = self._bm25.vocab_dict.get(token)
        if tid is None:
            return 0
        indptr = self._bm25.scores["indptr"]
        return int(indptr[tid + 1] - indptr[tid])

    @property
    def size(self) -> int:
        return int(self._bm25.scores["num_docs"])
