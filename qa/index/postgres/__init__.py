"""The index in PostgreSQL with pgvector, for archives past one machine (QA_STORE=postgresql://...).

schema.py    connecting, the versioned schema and its migrations, the one place naming tables
building.py  the build: changed files read, embedded and COPYed in one transaction
loaded.py    a store open for queries: hybrid candidates (HNSW + full text), documents, spans
reading.py   where queries read: the read replicas (QA_STORE_REPLICAS), else the primary
shards.py    the passages hash-partitioned by document over servers through postgres_fdw

The folder store (qa/index/loaded.py) stays the default; qa/index/store.py chooses between them.
"""
