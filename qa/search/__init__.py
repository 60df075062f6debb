"""Search: a question -> ranked, cited passages.

hybrid.py     dense and BM25 scores fused, overlapping passages removed (Hit, the result type)
duplicates.py one passage held by several files (a PDF and its web page): shown once
reranking.py  the top candidates reordered by the learned reader
retrieval.py  the Retriever: hybrid search, then reranking where there is a reader

May import: qa.errors, qa.settings, qa.ingest, qa.models, qa.index.
"""
