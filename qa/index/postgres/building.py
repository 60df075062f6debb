"""The build into PostgreSQL: only changed and added files are read, cut and embedded; their
rows replace the old ones, and removed files' rows go, all in one transaction, so a build that
fails leaves the previous index live and readers never see half of one."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from qa.errors import CorpusEmpty, QAError
from qa.index.freshness import FORMAT_VERSION, fingerprint
from qa.index.lexical import VERSION as LEXICAL_VERSION
from qa.index.lexical import tokenize
from qa.index.pipeline import BuildReport, gather, index_text
from qa.index.postgres import schema
from qa.ingest.corpus import max_file_bytes, scan
from qa.ingest.passages import DEFAULT_MAX_WORDS
from qa.models.onnx_embedding import ENCODER_DIR, cache_root, write_encoder

COLUMNS = (
    "source, position, id, start_char, end_char, text, section, paragraph, endnotes, title, "
    "date, page, page_end, search_text, words, embedding"
)


def encoder_home(database: str) -> Path:
    """Where this machine keeps the ONNX encoder for a database's index (queries then need no
    torch); the folder store keeps it inside the index folder instead."""
    key = hashlib.sha256(schema.shown(database).encode()).hexdigest()[:16]
    return cache_root() / "stores" / key


def build(
    corpus: Path,
    database: str,
    embedder,
    max_words: int = DEFAULT_MAX_WORDS,
    rebuild: bool = False,
    progress: Callable[[str], None] = lambda message: None,
    max_file_mb: float | None = None,
) -> BuildReport:
    """Bring the index in database up to date with corpus (see the module's docstring)."""
    started = time.perf_counter()
    max_bytes = max_file_bytes(max_file_mb)
    listing = scan(corpus, max_bytes)
    for skipped in listing.skipped:
        progress(f"skipping {skipped.source}: {skipped.reason}")
    files = fingerprint(corpus, max_bytes, listing.files)
    if not files and listing.skipped:
        raise CorpusEmpty(f"nothing to index in {corpus}: every file was skipped (see above)")
    if not files:
        raise CorpusEmpty(f"no documents in {corpus}: add some, then run `qa index`")
    conn = schema.connect(database)
    try:
        schema.migrate(conn, database)
        with conn.transaction():
            # One build at a time; readers go on reading the previous build until the commit.
            conn.execute("select pg_advisory_xact_lock(%s)", (schema.BUILD_LOCK,))
            report = _build(conn, corpus, files, embedder, max_words, rebuild, progress, max_bytes)
    finally:
        conn.close()
    if report.built:
        home = encoder_home(database)
        if not (home / ENCODER_DIR).is_dir():
            home.mkdir(parents=True, exist_ok=True)
            write_encoder(embedder, home / ENCODER_DIR, progress)
    seconds = time.perf_counter() - started
    return BuildReport(report.built, report.documents, report.passages, seconds, Path(schema.shown(database)), report.reason, report.embedded)  # fmt: skip


def _build(conn, corpus, files, embedder, max_words, rebuild, progress, max_bytes) -> BuildReport:
    manifest = schema.read_manifest(conn)
    built_with = (FORMAT_VERSION, embedder.name, {"max_words": max_words})
    same = manifest is not None and built_with == (
        manifest.get("format"), manifest["model"]["name"], manifest["chunking"]
    )  # fmt: skip
    stored = dict(conn.execute("select source, sha256 from documents").fetchall())
    if rebuild or not same:
        stored = {}
        conn.execute("delete from documents")  # the passages go with them
    changed = {s: digest for s, digest in files.items() if stored.get(s) != digest}
    removed = [s for s in stored if s not in files]
    if same and not rebuild and not changed and not removed:
        return BuildReport(False, len(files), manifest["passages"], 0.0, Path(), "up to date")
    conn.execute("delete from documents where source = any(%s)", (removed + list(changed),))
    documents, passages, vectors, embedded = gather(
        corpus, changed, {}, embedder, max_words, progress
    )
    if len(passages) and vectors.shape[1] != schema.DIMENSION:
        raise QAError(
            f"the model gives {vectors.shape[1]}-d vectors; the PostgreSQL store holds "
            f"{schema.DIMENSION}-d ones: use the folder store for this model"
        )
    order = {s: i for i, s in enumerate(files)}
    with conn.cursor() as cur:
        cur.executemany(
            "insert into documents (source, sha256, position, record) values (%s, %s, %s, %s)",
            [(s, files[s], order[s], json.dumps(r)) for s, r in documents.items()],
        )
        counters: dict[str, int] = {}
        with cur.copy(f"copy passages ({COLUMNS}) from stdin") as copy:
            for p, vector in zip(passages, vectors, strict=True):
                position = counters[p.source] = counters.get(p.source, -1) + 1
                text = index_text(p)
                endnotes = json.dumps([note.__dict__ for note in p.endnotes], ensure_ascii=False)
                copy.write_row((
                    p.source, position, p.id, p.start, p.end, p.text, p.section, p.paragraph,
                    endnotes, p.title, p.date, p.page, p.page_end, text, len(tokenize(text)),
                    "[" + ",".join(map(str, vector.tolist())) + "]",
                ))  # fmt: skip
        cur.execute(
            "update documents set position = p.n from unnest(%s::text[], %s::int[]) as p(s, n) "
            "where source = p.s",
            (list(order), list(order.values())),
        )
    total, average_words = conn.execute("select count(*), avg(words) from passages").fetchone()
    if not total:
        raise CorpusEmpty(f"the documents in {corpus} hold no text to index")
    schema.write_manifest(
        conn,
        {
            "format": FORMAT_VERSION,
            "model": {"name": embedder.name, "dimension": schema.DIMENSION},
            "chunking": {"max_words": max_words},
            "lexical": LEXICAL_VERSION,
            "limits": {"max_file_bytes": max_bytes},
            "files": files,
            "documents": len(files),
            "passages": total,
            "average_words": float(average_words),
            "dense": {"kind": "pgvector", "m": schema.HNSW_M, "ef_search": schema.HNSW_EF_SEARCH},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    reason = "new" if manifest is None else "rebuilt on request" if rebuild else "corpus or model changed"  # fmt: skip
    return BuildReport(True, len(files), total, 0.0, Path(), reason, embedded)
