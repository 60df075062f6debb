"""Retrieval: hybrid search, and with a reader, its top candidates reranked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qa.index import Index
from qa.search.hybrid import Hit, hybrid, twin
from qa.search.reranking import DEPTH, rerank, search_depth

# Reciprocal-rank fusion constant, the usual 60 (Cormack, Clarke and Buettcher 2009); not tuned:
# with two lists of eight it only orders a passage found by both above one found by either.
RRF_K = 60
# Query embeddings kept per retriever: answering searches a question twice when its first
# candidates leave it unsure (qa.answer.answering), and a conversation searches its turns again.
QUERY_CACHE = 1024

if TYPE_CHECKING:
    from qa.models.reading import Reader


class Retriever:
    """Hybrid search, and with a reader, its top candidates reranked (qa.search.reranking)."""

    def __init__(self, index: Index, embedder, reader: Reader | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.reader = reader
        self._encode = lru_cache(maxsize=QUERY_CACHE)(self._encode_one)  # thread-safe

    def encode_query(self, query: str) -> np.ndarray:
        """The query's embedding (read-only: it is cached)."""
        return self._encode(query)

    def _encode_one(self, query: str) -> np.ndarray:
        vector = self.embedder.encode([query])[0]
        vector.setflags(write=False)
        return vector

    def search(self, query: str, k: int = 5, sources: Iterable[str] | None = None, depth: int | None = None, notes: bool = True) -> list[Hit]:  # fmt: skip
        """The top k hits, reranked where reading helps (reranking.search_depth), or with the
        top `depth` candidates read (at most reranking.DEPTH), as answering asks; endnotes
        among them unless `notes` is false."""
        vector = self.encode_query(query)
        return self.search_vector(query, vector, k, sources, depth, notes)

    def search_vector(self, query: str, vector: np.ndarray, k: int = 5, sources: Iterable[str] | None = None, depth: int | None = None, notes: bool = True) -> list[Hit]:  # fmt: skip
        return self.read(query, self.candidates(query, k, sources, notes, vector), k, depth)

    def candidates(self, query: str, k: int = 5, sources: Iterable[str] | None = None, notes: bool = True, vector: np.ndarray | None = None) -> list[Hit]:  # fmt: skip
        """What `search` reads from, unread: `read` them at one depth and then a deeper one
        without finding them twice."""
        vector = self.encode_query(query) if vector is None else vector
        return self.hybrid(query, vector, max(k, DEPTH) if self.reader else k, sources, notes)

    def read(self, query: str, candidates: list[Hit], k: int = 5, depth: int | None = None) -> list[Hit]:  # fmt: skip
        """The top k of `candidates`, the first `depth` of them read and reranked (at most
        reranking.DEPTH; where not given, as far as reading helps: reranking.search_depth)."""
        if self.reader is None:
            return candidates[:k]
        depth = search_depth(query, candidates) if depth is None else min(depth, DEPTH)
        return rerank(query, candidates, self.reader, depth=depth)[:k] if depth else candidates[:k]

    def hybrid(self, query: str, vector: np.ndarray, k: int = 5, sources: Iterable[str] | None = None, notes: bool = True) -> list[Hit]:  # fmt: skip
        """Dense and BM25 scores fused, overlapping passages removed: the reranker's candidates."""
        return hybrid(self.index, query, vector, k, sources, notes)

    def with_context(self, also: Iterable[str], depth: int = DEPTH) -> ContextRetriever:
        """This retriever, finding candidates with `also` (a conversation) beside each query."""
        return ContextRetriever(self, [q for q in also if q.strip()], depth)


class ContextRetriever:
    """Candidates found with the query and with other queries (the conversation so far), fused
    by reciprocal rank, then read against the query alone: a poor rewrite of a follow-up no
    longer loses the passage the conversation points at, and the reader still judges it by the
    question as rewritten."""

    def __init__(self, retriever: Retriever, also: list[str], depth: int = DEPTH) -> None:
        self.retriever, self.also, self.depth = retriever, also, depth
        self.index, self.reader = retriever.index, retriever.reader
        self._vectors = [retriever.encode_query(q) for q in also]  # encoded once per question

    def at_depth(self, depth: int) -> ContextRetriever:
        """The same conversation, reading `depth` candidates per query."""
        view = ContextRetriever.__new__(ContextRetriever)
        view.__dict__.update(self.__dict__, depth=depth)
        return view

    def search(self, query: str, k: int = 5, sources: Iterable[str] | None = None, depth: int | None = None, notes: bool = True) -> list[Hit]:  # fmt: skip
        """The top k of the fused candidates, the first `depth` of them read (this view's depth
        at most, and all of it when not given: answering's use)."""
        return self.read(query, self.candidates(query, k, sources, notes), k, depth)

    def candidates(self, query: str, k: int = 5, sources: Iterable[str] | None = None, notes: bool = True) -> list[Hit]:  # fmt: skip
        """The candidates found with the query and with the conversation, fused, unread."""
        n = max(k, self.depth)
        r = self.retriever
        queries = zip([query, *self.also], [r.encode_query(query), *self._vectors], strict=True)
        lists = [r.hybrid(q, vector, n, sources, notes) for q, vector in queries]
        return fuse(lists, n)

    def read(self, query: str, candidates: list[Hit], k: int = 5, depth: int | None = None) -> list[Hit]:  # fmt: skip
        """The top k of `candidates`, the first `depth` of them read and reranked (this view's
        depth at most, and all of it when not given)."""
        if self.reader is None:
            return candidates[:k]
        depth = self.depth if depth is None else min(depth, self.depth)
        return rerank(query, candidates, self.reader, depth=depth)[:k]


def fuse(lists: list[list[Hit]], n: int) -> list[Hit]:
    """The top n of several searches' hits, by reciprocal rank, one entry per passage wherever
    each search found it: a report saved as PDF and as web page is one passage, whichever file
    a search happened to keep, and it has both searches' votes."""
    shares: list[float] = []
    kept: list[Hit] = []
    for hits in lists:
        for rank, hit in enumerate(hits, start=1):
            at = next((i for i, h in enumerate(kept) if h.passage.id == hit.passage.id), None)
            at = twin(hit.passage, kept) if at is None else at
            if at is None:
                shares.append(0.0)
                kept.append(hit)
                at = len(kept) - 1
            else:
                best, other = (hit, kept[at]) if hit.score > kept[at].score else (kept[at], hit)
                kept[at] = best.with_copy(other)  # the files each search found it in
            shares[at] += 1.0 / (RRF_K + rank)
    order = sorted(range(len(kept)), key=lambda i: -shares[i])
    return [replace(kept[i], rank=r) for r, i in enumerate(order[:n], start=1)]
