"""Answering: a short extractive answer from retrieved passages, or a plain refusal.

Every sentence of an answer is taken verbatim from a cited passage (endnote markers aside, since
the endnotes travel with the citation), so nothing is invented. Whether to answer at all is
decided from several signals, because on a small corpus an off-topic question can reach the
same cosine as an on-topic one: how much of the question's vocabulary the evidence covers
(weighted by rarity), whether the question's key terms exist in the corpus at all, and how
similar the best sentence is to the question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from qa.documents import MARKER
from qa.index import index_text
from qa.lexical import tokenize
from qa.passages import sentence_spans
from qa.retrieval import Hit, Retriever

REFUSAL = "The corpus does not answer this question."
MAX_SENTENCES = 3
MAX_WORDS = 80
CANDIDATE_PASSAGES = 6

# Calibrated on the development questions and tests/unanswerable.jsonl together (see README).
MIN_COVERAGE = 0.5
MIN_SENTENCE_COSINE = 0.3

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_MONTH = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion)\b", re.IGNORECASE)  # fmt: skip
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zà-ÿ]+(?:\s+(?:[A-Z][a-zà-ÿ]+|von|der|de|van))+\b")


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    answerable: bool
    citations: list[tuple[int, Hit]]  # (marker, hit), in order of first use
    signals: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        citations = [{**hit.to_dict(), "marker": marker} for marker, hit in self.citations]
        return {
            "question": self.question,
            "answer": self.answer,
            "answerable": self.answerable,
            "citations": citations,
            "signals": self.signals,
        }


@dataclass(frozen=True)
class Sentence:
    hit: Hit
    text: str  # verbatim, endnote markers removed
    score: float
    cosine: float


def question_type(question: str) -> str:
    q = question.lower()
    if re.search(r"\bhow (many|much)\b|\bwhat (number|percentage|share)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (year|date|month|day)\b|\bwhich (year|date|month)\b", q):
        return "date"
    if re.search(r"\bwho\b|\bwhose\b|\bwhom\b", q):
        return "person"
    return "other"


def type_match(kind: str, sentence: str) -> float:
    if kind == "date":
        return 1.0 if _YEAR.search(sentence) or _MONTH.search(sentence) else 0.0
    if kind == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "person":
        return 1.0 if _NAME.search(sentence) else 0.0
    return 0.0


def _idf(retriever: Retriever, term: str) -> float:
    n = retriever.index.lexical.size
    df = retriever.index.lexical.document_frequency(term)
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def coverage(terms: list[str], weights: dict[str, float], text: str) -> float:
    """Share of the question's term weight that the text contains."""
    if not terms:
        return 0.0
    present = set(tokenize(text))
    total = sum(weights[t] for t in terms)
    return sum(weights[t] for t in terms if t in present) / total if total else 0.0


def compose(question: str, retriever: Retriever, k: int = 5, sources: Iterable[str] | None = None) -> Answer:  # fmt: skip
    query_vector = retriever.encode_query(question)
    hits = retriever.search_vector(question, query_vector, max(k, CANDIDATE_PASSAGES), sources)
    terms = list(dict.fromkeys(tokenize(question)))
    weights = {t: _idf(retriever, t) for t in terms}
    unknown = sum(weights[t] for t in terms if retriever.index.lexical.document_frequency(t) == 0)
    unknown_share = unknown / sum(weights.values()) if terms else 1.0
    kind = question_type(question)

    sentences = _rank_sentences(question, query_vector, hits, retriever, terms, weights, kind)
    best_coverage = max((coverage(terms, weights, index_text(h.passage)) for h in hits[:3]), default=0.0)
    signals = {
        "coverage": round(best_coverage, 3),
        "unknown_terms": round(unknown_share, 3),
        "best_sentence_cosine": round(sentences[0].cosine, 3) if sentences else 0.0,
        "question_type": kind,
    }
    answerable = bool(
        sentences
        and best_coverage >= MIN_COVERAGE
        and unknown_share < 0.25
        and sentences[0].cosine >= MIN_SENTENCE_COSINE
    )
    if not answerable:
        related = [(i, h) for i, h in enumerate(hits[:k], start=1)]
        return Answer(question, REFUSAL, False, related, signals)

    chosen = _select(sentences)
    markers: dict[str, int] = {}
    parts = []
    for s in chosen:
        marker = markers.setdefault(s.hit.passage.id, len(markers) + 1)
        parts.append(f"{s.text} [{marker}]")
    by_id = {h.passage.id: h for h in hits}
    citations = [(m, by_id[pid]) for pid, m in markers.items()]
    return Answer(question, " ".join(parts), True, citations, signals)


def _rank_sentences(question, query_vector, hits, retriever, terms, weights, kind) -> list[Sentence]:
    candidates: list[tuple[Hit, str]] = []
    for hit in hits:
        text = hit.passage.text
        for a, b in sentence_spans(text):
            clean = MARKER.sub("", text[a:b]).strip()
            if len(clean.split()) >= 3:
                candidates.append((hit, clean))
    if not candidates:
        return []
    vectors = _encode_cached(retriever, tuple(c for _, c in candidates))
    cosines = vectors @ query_vector
    scored = []
    for (hit, text), cos in zip(candidates, cosines, strict=True):
        cover = coverage(terms, weights, text)
        score = 0.45 * float(cos) + 0.35 * cover + 0.25 * hit.score + 0.15 * type_match(kind, text)
        scored.append(Sentence(hit, text, score, float(cos)))
    scored.sort(key=lambda s: -s.score)
    return scored


def _select(sentences: list[Sentence]) -> list[Sentence]:
    """The best sentence, then close runners-up that add something, within the length budget."""
    chosen = [sentences[0]]
    words = len(sentences[0].text.split())
    for s in sentences[1:]:
        if len(chosen) == MAX_SENTENCES or s.score < 0.85 * chosen[0].score:
            break
        n = len(s.text.split())
        if words + n > MAX_WORDS or any(_redundant(s.text, c.text) for c in chosen):
            continue
        chosen.append(s)
        words += n
    return chosen


def _redundant(a: str, b: str) -> bool:
    ta, tb = set(tokenize(a)), set(tokenize(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > 0.6


# Sentence vectors by (model, sentence): a conversation keeps asking about the same passages.
_SENTENCE_VECTORS: dict[tuple[str, str], np.ndarray] = {}
_CACHE_LIMIT = 20_000


def _encode_cached(retriever: Retriever, texts: tuple[str, ...]) -> np.ndarray:
    name = retriever.embedder.name
    missing = [t for t in dict.fromkeys(texts) if (name, t) not in _SENTENCE_VECTORS]
    if missing:
        if len(_SENTENCE_VECTORS) + len(missing) > _CACHE_LIMIT:
            _SENTENCE_VECTORS.clear()
        for text, vector in zip(missing, retriever.embedder.encode(missing), strict=True):
            _SENTENCE_VECTORS[(name, text)] = vector
    return np.vstack([_SENTENCE_VECTORS[(name, t)] for t in texts])
