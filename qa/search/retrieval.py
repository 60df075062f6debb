"""Retrieval: hybrid search, and with a reader, its top candidates reranked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from qa.index import Index
from qa.search.hybrid import Hit, hybrid
from qa.search.reranking import DEPTH, rerank, search_depth

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

    def search(self, query: str, k: int = 5, sources: Iterable[str] | None = None, read_all: bool = False) -> list[Hit]:  # fmt: skip
        """The top k hits, reranked where reading helps (reranking.search_depth), or with all
        reranking.DEPTH candidates read when read_all (as answering needs)."""
        vector = self.encode_query(query)
        return self.search_vector(query, vector, k, sources, read_all)

    def search_vector(self, query: str, vector: np.ndarray, k: int = 5, sources: Iterable[str] | None = None, read_all: bool = False) -> list[Hit]:  # fmt: skip
        if self.reader is None:
            return self.hybrid(query, vector, k, sources)
        hits = self.hybrid(query, vector, max(k, DEPTH), sources)
        depth = DEPTH if read_all else search_depth(query, hits)
        return rerank(query, hits, self.reader, depth=depth)[:k] if depth else hits[:k]

    def hybrid(self, query: str, vector: np.ndarray, k: int = 5, sources: Iterable[str] | None = None) -> list[Hit]:  # fmt: skip
        """Dense and BM25 scores fused, overlapping passages removed: the reranker's candidates."""
        return hybrid(self.index, query, vector, k, sources)
