"""Search: a question -> ranked, cited passages.

retrieval.py  dense and BM25 scores fused, overlapping passages removed
reranking.py  the top candidates reordered by the learned reader

May import: qa.errors, qa.settings, qa.ingest, qa.models, qa.index.
"""
