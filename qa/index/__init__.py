"""Index: passages -> a self-describing folder of passages, dense vectors and a BM25 index.

layout.py     the one place that names the index's files (and reads and writes them)
pipeline.py   the build: corpus -> documents -> passages -> vectors and BM25 -> a new build
integrity.py  checksums and the manifest's seal
freshness.py  whether a build still matches the corpus, the model and qa's formats
origin.py     the folder an index was built from: used when no corpus is named, guarded on rebuild
dense.py      exact search or HNSW, chosen by measured recall
loaded.py     a loaded index, in memory
lexical.py    BM25 over stems, stem pairs and best sentences (bm25s)
inventory.py  what an index holds, per document (`qa info`, /health)
watch.py      keeps the index in step with the corpus folder (--watch)
worker.py     a build in a child process, for the processes that live on (--watch)

May import: qa.errors, qa.settings, qa.ingest, qa.models.
"""

from __future__ import annotations

from qa.index.dense import HNSW_ABOVE, MIN_RECALL, dense_index, hnsw_index, tune
from qa.index.freshness import FORMAT_VERSION, check_fresh, fingerprint, status
from qa.index.layout import CURRENT
from qa.index.loaded import Index, vectors_of
from qa.index.pipeline import BuildReport, build, index_text, name_of, read_document

__all__ = [
    "CURRENT",
    "FORMAT_VERSION",
    "HNSW_ABOVE",
    "MIN_RECALL",
    "BuildReport",
    "Index",
    "build",
    "check_fresh",
    "dense_index",
    "fingerprint",
    "hnsw_index",
    "index_text",
    "name_of",
    "read_document",
    "status",
    "tune",
    "vectors_of",
]
