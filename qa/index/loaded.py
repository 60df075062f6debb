"""A loaded index: passages, their vectors and their BM25 scores, all in memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.errors import IndexCorrupt, IndexMissing, IndexStale
from qa.index import layout
from qa.index.freshness import FORMAT_VERSION, check_fresh
from qa.index.integrity import encoder_damage, verify
from qa.index.lexical import Lexical
from qa.ingest.passages import Passage


@dataclass(frozen=True)
class Candidates:
    """What a store finds for a query, for hybrid search to fuse: the passages (in store order),
    their cosine similarity to the query and their lexical score (any scale; fusion divides by
    the largest, which is always among them)."""

    passages: list[Passage]
    dense: np.ndarray
    lexical: np.ndarray


class Index:
    """A loaded index: passages, their vectors and their BM25 scores."""

    def __init__(self, folder: Path, manifest: dict, passages: list[Passage], documents: dict, dense, lexical: Lexical) -> None:  # fmt: skip
        self.folder = folder
        self.manifest = manifest
        self.passages = passages
        self.documents = documents
        self.dense = dense
        self.lexical = lexical

    def candidates(self, query: str, vector: np.ndarray, depth: int, sources: Iterable[str] | None = None) -> Candidates:  # fmt: skip
        """The dense top depth and the BM25 top depth, united, with both scores for each."""
        passages = self.passages
        allowed = _source_mask(passages, sources)
        depth = min(len(passages), depth)
        lexical = self.lexical.scores(query)
        if allowed is not None:
            lexical = np.where(allowed, lexical, 0.0)
        _, dense_ids = self.dense.search(vector[None, :].astype(np.float32), depth)
        lex_ids = np.argsort(-lexical)[:depth]
        found = np.unique(np.concatenate([dense_ids[0][dense_ids[0] >= 0], lex_ids]))
        if allowed is not None:
            found = found[allowed[found]]
        vectors = self.dense.reconstruct_batch(found.astype(np.int64)) if found.size else None
        cosine = vectors @ vector if vectors is not None else np.zeros(0, np.float32)
        return Candidates([passages[int(i)] for i in found], cosine, lexical[found])

    def page_at(self, source: str, offset: int) -> int | None:
        """The page of a document on which the character at offset (into the extracted text the
        index keeps, as citations' start and end are) stands; None for a format without pages
        or a document the index does not hold. A short answer cites its page with this."""
        from qa.ingest.extract import page_at

        kept = self.documents.get(source)
        if kept is None:
            return None
        return page_at(kept.get("pages") or (), offset, kept.get("page_numbers") or ())

    def summaries(self) -> list[dict]:
        """Each document as `qa info` and `GET /health` list it (qa/index/inventory.py)."""
        from qa.index.inventory import summary

        counts = Counter(p.source for p in self.passages)
        return [summary(s, d, counts[s]) for s, d in self.documents.items()]

    @cached_property
    def encoder_damage(self) -> str | None:
        """What is wrong with this build's ONNX encoder on disk, None if it is sound (or the build
        was replaced before it was asked). Hashes about 90 MB (about 0.1 s), once."""
        if not layout.has_manifest(self.folder):
            return None
        return encoder_damage(self.folder, self.manifest)

    @classmethod
    def load(cls, root: Path, corpus: Path | None = None, model: str | None = None) -> Index:
        """Load the current build under root; refuse one that is stale for corpus or model, or
        damaged. Everything is read into memory, so the build may be removed once loaded."""
        folder = layout.current(root)
        try:
            return cls._load(root, folder, corpus, model)
        except IndexCorrupt:
            # A build swapped in and removed this one while it was being read: read the new one.
            if layout.current(root) == folder:
                raise
            return cls._load(root, layout.current(root), corpus, model)

    @classmethod
    def _load(cls, root: Path, folder: Path, corpus: Path | None, model: str | None) -> Index:
        if not layout.has_manifest(folder):
            raise IndexMissing(f"no index at {root.absolute()}: run `qa index`")
        try:
            manifest = layout.read_manifest(folder)
            if manifest.get("format") != FORMAT_VERSION:
                raise IndexStale(f"index at {root} has an old format: run `qa index --rebuild`")
            verify(root, folder, manifest)
            check_fresh(manifest, corpus, model, index=str(root))
            passages = layout.read_passages(folder)
            documents = layout.read_documents(folder)
            dense = layout.read_dense(folder)
            lexical = Lexical.load(layout.lexical_folder(folder))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
            reason = " ".join(str(exc).split())[:160]  # faiss's messages run over several lines
            raise IndexCorrupt(
                f"index at {root} is damaged ({reason}): run `qa index --rebuild`"
            ) from exc
        if dense.ntotal != len(passages) or lexical.size != len(passages):
            raise IndexCorrupt(f"index at {root} is inconsistent: run `qa index --rebuild`")
        return cls(folder, manifest, passages, documents, dense, lexical)


def _source_mask(passages: list[Passage], sources: Iterable[str] | None) -> np.ndarray | None:
    if not sources:
        return None
    wanted = set(sources)
    return np.array([p.source in wanted for p in passages], dtype=bool)


def vectors_of(index: Index) -> np.ndarray:
    """All passage vectors, in passage order (for exact scoring of small candidate sets)."""
    return index.dense.reconstruct_n(0, index.dense.ntotal)
