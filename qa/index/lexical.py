"""Lexical matching: one tokeniser for BM25 (bm25s) and for the answerer's term overlap."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.ingest.documents import normalise

_QUESTION_WORDS = frozenset({
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do",
    "done", "doing", "has", "have", "had", "was", "were", "is", "are", "be", "been", "being",
    "can", "could", "would", "should", "will", "shall", "may", "might", "must", "about", "much",
    "many", "there", "here", "its", "it's", "also", "than", "then"
})  # fmt: skip
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


# bm25s's English stop words (bm25s.stopwords.STOPWORDS_EN in 0.3.16), copied: importing bm25s
# for them would cost every query process a fifth of a second.
_STOPWORDS_EN = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with"
})  # fmt: skip
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


# Bumped whenever what BM25 matches changes: an index built otherwise is stale (its vectors are not).
# 2 put adjacent stem pairs in the same BM25 as single stems: SQuAD hit@1 +0.02, but SciFact BM25
# nDCG@10 0.680 -> 0.631 (claims paraphrase their abstracts), so 3 matched single stems again.
# 4 scores pairs ("phrases") and the best sentence apart, each lightly weighted (see Lexical).
VERSION = 4

# Weights of the proximity evidence beside the passage's own BM25 (each max-normalised per
# query), chosen on SQuAD and SciFact together, never on the brief's questions: with 200-word
# passages, SQuAD hit@1 0.832 -> 0.855 and hit@5 0.965 -> 0.971, SciFact nDCG@10 0.720 -> 0.721
# (benchmarks/fusion.py, RESULTS-quality.md). Heavier pairs or sentences help SQuAD, cost SciFact.
PHRASE_WEIGHT = 0.2
SENTENCE_WEIGHT = 0.3


def terms(text: str) -> list[str]:
    """What BM25 matches: the content-word stems."""
    return tokenize(text)


def phrases(text: str) -> list[str]:
    """Adjacent content-word stem pairs: "defence policy" matches as one thing."""
    stems = tokenize(text)
    return [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]


class LexicalIndex:
    """BM25 over tokenised passages, scored for all passages at once.

    Built and saved by bm25s; loaded and scored here from bm25s's own arrays with numpy alone,
    as bm25s does it, because importing bm25s (and scipy with it) would cost every query process
    a fifth of a second. Its "lucene" method stores each term's score in each passage (a sparse
    column per term), and a query's scores are the sums of its terms' columns."""

    def __init__(self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, size: int, bm25=None, analyse=terms) -> None:  # fmt: skip
        self._analyse = analyse
        self._vocab = vocab
        self._data = data
        self._indices = indices
        self._indptr = indptr
        self._size = size
        self._bm25 = bm25  # the bm25s object of a fresh build, which saves it

    @classmethod
    def build(cls, texts: list[str], analyse=terms) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([analyse(t) or [""] for t in texts], show_progress=False)
        s = bm25.scores
        return cls(bm25.vocab_dict, s["data"], s["indices"], s["indptr"], int(s["num_docs"]), bm25, analyse)  # fmt: skip

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, analyse=terms) -> LexicalIndex:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in _SUMMED_METHODS:
            raise ValueError(f"unsupported BM25 variant {params.get('method')!r}")
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        arrays = [
            np.load(folder / f"{name}.csc.index.npy", allow_pickle=False)
            for name in ("data", "indices", "indptr")
        ]
        return cls(vocab, *arrays, int(params["num_docs"]), analyse=analyse)

    def scores(self, query: str) -> np.ndarray:
        columns = len(self._indptr) - 1  # bm25s's vocabulary can hold a term with no column ("")
        ids = [i for i in (self._vocab.get(t) for t in self._analyse(query)) if i is not None and i < columns]  # fmt: skip
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


class Lexical:
    """Everything lexical about a query and the passages: BM25 over their stems, plus two kinds
    of proximity that single-stem BM25 cannot see: BM25 over adjacent stem pairs, and the BM25
    of each passage's best sentence (the question's words together in one sentence)."""

    def __init__(self, words: LexicalIndex, pairs: LexicalIndex, sentences: LexicalIndex, owner: np.ndarray) -> None:  # fmt: skip
        self.words = words
        self.pairs = pairs
        self.sentences = sentences
        self.owner = owner  # the passage of each sentence

    @classmethod
    def build(cls, texts: list[str], sentences: list[list[str]]) -> Lexical:
        """texts are what each passage is matched by; sentences, each passage's own sentences."""
        owner = np.array([i for i, own in enumerate(sentences) for _ in own], dtype=np.int64)
        flat = [s for own in sentences for s in own]
        return cls(LexicalIndex.build(texts), LexicalIndex.build(texts, phrases), LexicalIndex.build(flat), owner)  # fmt: skip

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _PARTS:
            getattr(self, name).save(folder / name)
        np.save(folder / "sentence-owner.npy", self.owner, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        parts = {name: LexicalIndex.load(folder / name, phrases if name == "pairs" else terms) for name in _PARTS}  # fmt: skip
        owner = np.load(folder / "sentence-owner.npy", allow_pickle=False)
        if len(owner) != parts["sentences"].size or parts["pairs"].size != parts["words"].size:
            raise ValueError("lexical parts disagree in size")
        return cls(**parts, owner=owner)

    def parts(self, query: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each passage's BM25 over stems, over stem pairs, and of its best sentence, each divided
        by its best over all passages (so in [0, 1]; all 0 when nothing matches)."""
        best_sentence = np.zeros(self.size, dtype=np.float32)
        np.maximum.at(best_sentence, self.owner, self.sentences.scores(query))
        return tuple(_max_normalised(x) for x in (self.words.scores(query), self.pairs.scores(query), best_sentence))  # fmt: skip

    def scores(self, query: str) -> np.ndarray:
        """Each passage's lexical score for query (0 when nothing matches)."""
        words, pairs, sentence = self.parts(query)
        return words + PHRASE_WEIGHT * pairs + SENTENCE_WEIGHT * sentence

    def document_frequency(self, token: str) -> int:
        return self.words.document_frequency(token)

    @property
    def size(self) -> int:
        return self.words.size


_PARTS = ("words", "pairs", "sentences")


def _max_normalised(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores
