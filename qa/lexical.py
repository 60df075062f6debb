"""Lexical matching: one tokeniser for BM25 (bm25s) and for the answerer's term overlap."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.documents import normalise

_QUESTION_WORDS = frozenset(
    ["what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "done", "doing", "has", "have", "had", "was", "were", "is", "are", "be", "been", "being", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "about", "much", "many", "there", "here", "its", "it's", "also", "than", "then"]
)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


# bm25s's English stop words (bm25s.stopwords.STOPWORDS_EN in 0.3.16), copied: importing bm25s
# for them would cost every query process a fifth of a second.
_STOPWORDS_EN = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with"]
)
# bm25s variants whose stored scores are the whole score (the others add a non-occurrence term).
_SUMMED_METHODS = ("lucene", "robertson", "atire")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    # Question words carry the question's type, not its topic: the answerer reads them apart.
    return _STOPWORDS_EN | _QUESTION_WORDS


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Content-word stems: folded, possessives dropped, stop words removed, Snowball-stemmed."""
    stop = _stopwords()
    raw = [t.removesuffix("'s") for t in _TOKEN.findall(normalise(text).replace("-", " "))]
    return _stemmer().stemWords([t for t in raw if t not in stop])


# Bumped whenever terms() changes: an index built with other terms is stale (its vectors are not).
# 2 added adjacent stem pairs: SQuAD hit@1 +0.02, but SciFact BM25 nDCG@10 0.680 -> 0.631 (claims
# paraphrase their abstracts), so 3 matches single stems again (benchmarks/RESULTS-quality.md).
VERSION = 3


def terms(text: str) -> list[str]:
    """What BM25 matches: the content-word stems."""
    return tokenize(text)


class LexicalIndex:
    """BM25 over tokenised passages, scored for all passages at once.

    Built and saved by bm25s; loaded and scored here from bm25s's own arrays with numpy alone,
    as bm25s does it, because importing bm25s (and scipy with it) would cost every query process
    a fifth of a second. Its "lucene" method stores each term's score in each passage (a sparse
    column per term), and a query's scores are the sums of its terms' columns."""

    def __init__(self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, size: int, bm25=None) -> None:  # fmt: skip
        self._vocab = vocab
        self._data = data
        self._indices = indices
        self._indptr = indptr
        self._size = size
        self._bm25 = bm25  # the bm25s object of a fresh build, which saves it

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([terms(t) or [""] for t in texts], show_progress=False)
        s = bm25.scores
        return cls(bm25.vocab_dict, s["data"], s["indices"], s["indptr"], int(s["num_docs"]), bm25)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in _SUMMED_METHODS:
            raise ValueError(f"unsupported BM25 variant {params.get('method')!r}")
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        arrays = [
            np.load(folder / f"{name}.csc.index.npy", allow_pickle=False)
            for name in ("data", "indices", "indptr")
        ]
        return cls(vocab, *arrays, int(params["num_docs"]))

    def scores(self, query: str) -> np.ndarray:
        columns = len(self._indptr) - 1  # bm25s's vocabulary can hold a term with no column ("")
        ids = [i for i in (self._vocab.get(t) for t in terms(query)) if i is not None and i < columns]  # fmt: skip
        scores = np.zeros(self._size, dtype=np.float32)
        for tid in ids:  # in query order, with repeats, as bm25s sums them
            start, end = self._indptr[tid], self._indptr[tid + 1]
            np.add.at(scores, self._indices[start:end], self._data[start:end])
        return scores

    def document_frequency(self, token: str) -> int:
        """How many passages contain the token (0 when it is not in the vocabulary)."""
        tid = self._vocab.get(token)
        if tid is None or tid + 1 >= len(self._indptr):
            return 0
        return int(self._indptr[tid + 1] - self._indptr[tid])

    @property
    def size(self) -> int:
        return self._size
