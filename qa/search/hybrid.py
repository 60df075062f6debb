"""Hybrid search: dense and BM25 scores fused into one ranking of cited passages (Hit), one per
distinct passage: a passage that another file also holds (qa.search.duplicates) is named in
the first one's `also_in`, not shown again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np

from qa.index import Index
from qa.ingest.passages import Passage
from qa.search.duplicates import same_passage

if TYPE_CHECKING:
    from qa.models.reading import Reading

# Fusion weights, chosen on SQuAD and SciFact (see benchmarks/), not on the brief's questions.
# SQuAD hit@1 0.788 -> 0.796, SciFact nDCG@10 0.715 -> 0.723 (benchmarks/fusion.py)
DENSE_WEIGHT = 0.6
CANDIDATES = 100
# Candidates looked at per hit for copies of the last hits (in other files) once k are found:
# over real-pdfs' 8 questions (benchmarks/duplicates.py) 4 named 41 of the top 5's 44 copies,
# 8 all 44, in 0.46 ms a hybrid search against 1.05 ms scanning every candidate.
COPIES_BEYOND = 8


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused, in [0, 1]
    rank: int
    dense: float  # cosine similarity
    lexical: float  # BM25 score relative to the query's best, in [0, 1]
    retrieval: float | None = None  # the fused retrieval score, when reranking replaced it
    reading: Reading | None = None  # what the reader found in the passage, when reranked
    also_in: tuple[Passage, ...] = ()  # the same passage as other files hold it, in rank order

    def with_copy(self, other: Hit) -> Hit:
        """This hit, naming `other` (the same passage in another file) and its copies too."""
        places = {p.id: p for p in (*self.also_in, other.passage, *other.also_in)}
        places.pop(self.passage.id, None)
        return replace(self, also_in=tuple(places.values()))

    def to_dict(self) -> dict:
        """The contract's cited-passage object."""
        p = self.passage
        citation = {
            "id": p.id,
            "source": p.source,
            "title": p.title,
            "date": p.date,
            "section": p.section,
            "paragraph": p.paragraph,
            "start": p.start,
            "end": p.end,
            "endnotes": [{"number": n.number, "text": n.text} for n in p.endnotes],
        }
        if p.page is not None:
            citation["page"] = p.page
            citation["page_end"] = p.page_end or p.page
        citation["url"] = document_url(p.source, p.start, p.end, p.page)
        out = {
            "rank": self.rank,
            "score": round(self.score, 4),
            "text": p.text,
            "citation": citation,
            "also_in": [_place(other) for other in self.also_in],
        }
        if self.reading is not None:
            out["relevance"] = round(self.reading.probability, 4)
        return out


def _place(p: Passage) -> dict:
    """Where another file holds the same passage: enough to cite and open it."""
    place = {"id": p.id, "source": p.source, "title": p.title, "start": p.start, "end": p.end}
    if p.page is not None:
        place["page"] = p.page
    return place | {"url": document_url(p.source, p.start, p.end, p.page)}


def document_url(source: str, start: int, end: int, page: int | None = None) -> str:
    """The relative link that opens a document at a cited span (`GET /documents/{source}`);
    a PDF, served as the file, opens at its page."""
    url = f"/documents/{quote(source)}?start={start}&end={end}"
    return url + (f"#page={page}" if page is not None and source.lower().endswith(".pdf") else "")


def fuse(dense: np.ndarray, lexical: np.ndarray, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """Weighted sum of cosine and max-normalised BM25 over the same candidates."""
    top = float(lexical.max()) if lexical.size else 0.0
    lex = lexical / top if top > 0 else np.zeros_like(lexical)
    return dense_weight * np.clip(dense, 0.0, 1.0) + (1.0 - dense_weight) * lex


def hybrid(index: Index, query: str, vector: np.ndarray, k: int = 5, sources: Iterable[str] | None = None, notes: bool = True) -> list[Hit]:  # fmt: skip
    """Dense and lexical scores fused, overlapping passages removed, one hit per distinct
    passage: the reranker's candidates; without the endnotes where `notes` is false (an answer
    leads with a body passage, and a report's reference list, titles full of the question's
    words, would crowd its body out).

    The store (a folder or PostgreSQL, qa/index/store.py) finds the candidates; fusion is here."""
    found = index.candidates(query, vector, max(CANDIDATES, 4 * k), sources)
    if not found.passages:
        return []
    fused = fuse(found.dense, found.lexical)
    top_lex = float(found.lexical.max()) or 1.0
    hits: list[Hit] = []
    for looked, j in enumerate(np.argsort(-fused, kind="stable")):
        passage = found.passages[int(j)]
        if (passage.is_endnote and not notes) or any(_overlaps(passage, h.passage) for h in hits):
            continue
        hit = Hit(
            passage,
            float(fused[j]),
            len(hits) + 1,
            float(found.dense[j]),
            float(found.lexical[j] / top_lex),
        )
        if (at := twin(passage, hits)) is not None:
            hits[at] = hits[at].with_copy(hit)
        elif len(hits) < k:
            hits.append(hit)
        if len(hits) == k and looked >= COPIES_BEYOND * k:
            break
    return hits


def twin(passage: Passage, hits: list[Hit]) -> int | None:
    """Which hit shows the passage that `passage` repeats from another file, if one does."""
    for i, hit in enumerate(hits):
        if hit.passage.source != passage.source and same_passage(hit.passage.text, passage.text):
            return i
    return None


def _overlaps(a: Passage, b: Passage) -> bool:
    return a.source == b.source and a.start < b.end and b.start < a.end
