"""What the benchmark scripts share: the data folder, the qa index build, the baselines, the tables.

The qa side goes through the same code as `qa index` (qa.index.pipeline.build) and `qa search`
(qa.search.retrieval.Retriever.search). The baselines rank whole units (SQuAD paragraphs, SciFact
abstracts) with code of their own, so that a change to qa's tokeniser or fusion never moves them:
BM25 is bm25s with its own English stop words and the Snowball stemmer, dense is the same MiniLM
model over the whole unit, and their fusion is reciprocal-rank fusion (k = 60).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
from timing import SHARED, log

DATA = SHARED / "benchmarks"
RRF_K = 60


def write_corpus(folder: Path, documents: dict[str, str]) -> None:
    """One UTF-8 file per document; files no longer wanted are removed, unchanged ones kept."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        if old.name not in documents:
            old.unlink()
    for name, text in documents.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def build_qa(corpus: Path, index: Path, embedder, max_words: int, rerank: bool = True):
    """The qa index of corpus, built (or brought up to date) exactly as `qa index` does, and
    searched as `qa search` does: with the learned reader reranking the top candidates, unless
    rerank is off (retrieval alone, as before the reader)."""
    from qa.index import Index, build
    from qa.models.reading import Reader
    from qa.search.retrieval import Retriever

    started = time.perf_counter()
    report = build(corpus, index, embedder, max_words=max_words, progress=log)
    log(f"qa index: {report.passages} passages from {report.documents} documents, "
        f"{report.embedded if report.built else 0} embedded, {time.perf_counter() - started:.0f} s")  # fmt: skip
    return Retriever(
        Index.load(index, corpus, embedder.name), embedder, Reader() if rerank else None
    )


class Baselines:
    """BM25, dense and their RRF over whole units, ranked for many queries at once."""

    def __init__(self, units: list[str], embedder, cache: Path | None = None) -> None:
        import bm25s
        import Stemmer

        self.stemmer = Stemmer.Stemmer("english")
        self.bm25 = bm25s.BM25()
        self.bm25.index(bm25s.tokenize(units, stopwords="en", stemmer=self.stemmer, show_progress=False), show_progress=False)  # fmt: skip
        self.embedder = embedder
        self.vectors = _cached_vectors(units, embedder, cache)

    def rank(self, queries: list[str], depth: int = 100) -> dict[str, list[list[int]]]:
        import bm25s

        depth = min(depth, len(self.vectors))
        tokens = bm25s.tokenize(queries, stopwords="en", stemmer=self.stemmer, show_progress=False)
        lexical, _ = self.bm25.retrieve(tokens, k=depth, show_progress=False, n_threads=1)
        query_vectors = self.embedder.encode(queries)
        dense = np.argsort(-(query_vectors @ self.vectors.T), axis=1)[:, :depth]
        bm25 = [list(map(int, row)) for row in lexical]
        dense_lists = [list(map(int, row)) for row in dense]
        fused = [rrf([b, d]) for b, d in zip(bm25, dense_lists, strict=True)]
        return {"bm25": bm25, "dense": dense_lists, "bm25+dense rrf": fused}


def rrf(rankings: list[list[int]], k: int = RRF_K) -> list[int]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


def _cached_vectors(units: list[str], embedder, cache: Path | None) -> np.ndarray:
    """Unit embeddings, kept under cache (keyed by model and texts) so reruns skip the encoding."""
    key = hashlib.sha256("\x00".join([embedder.name, *units]).encode()).hexdigest()[:16]
    path = cache / f"baseline-vectors-{key}.npy" if cache else None
    if path and path.is_file():
        return np.load(path)
    started = time.perf_counter()
    vectors = embedder.encode(units, progress=True)
    log(f"baselines: embedded {len(units)} units in {time.perf_counter() - started:.0f} s")
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def print_table(title: str, rows: dict[str, dict[str, float]], columns: list[str]) -> str:
    """A Markdown table (printed and returned), one row per system."""
    lines = [f"### {title}", "", "| system | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]  # fmt: skip
    for name, figures in rows.items():
        cells = [_cell(figures.get(c)) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table + "\n", flush=True)
    return table


def _cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
