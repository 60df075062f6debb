"""Retrieval: hybrid search, and with a reader, its top candidates reranked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from qa.index import Index
from qa.search.hybrid import Hit, hybrid
from qa.search.reranking import DEPTH, rerank

if TYPE_CHECKING:
    from qa.models.reading import Reader


class Retriever:
    """Hybrid search, and with a reader, its top candidates reranked (qa.search.reranking)."""

    def __init__(self, index: Index, embedder, reader: Reader | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.reader = reader

    def encode_query(self, query: str) -> np.ndarray:
        return self.embedder.encode([query])[0]

    def search(self, query: str, k: int = 5, sources: Iterable[str] | None = None) -> list[Hit]:
        vector = self.encode_query(query)
        return self.search_vector(query, vector, k, sources)

    def search_vector(self, query: str, vector: np.ndarray, k: int = 5, sources: Iterable[str] | None = None) -> list[Hit]:  # fmt: skip
        if self.reader is None:
            return self.hybrid(query, vector, k, sources)
        hits = self.hybrid(query, vector, max(k, DEPTH), sources)
        return rerank(query, hits, self.reader)[:k]

    def hybrid(self, query: str, vector: np.ndarray, k: int = 5, sources: Iterable[str] | None = None) -> list[Hit]:  # fmt: skip
        """Dense and BM25 scores fused, overlapping passages removed: the reranker's candidates."""
        return hybrid(self.index, query, vector, k, sources)
