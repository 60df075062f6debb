"""The build into PostgreSQL, by one `qa index` or by several at once.

A build plans (which files changed, were added or removed since the live index, by sha256),
then its workers claim the files to read from the `work` table with FOR UPDATE SKIP LOCKED,
each reading, cutting and embedding its files and COPYing their rows into staging tables. The
worker that finishes the last file swaps the staged rows in and writes the manifest in one
transaction: readers never see half a build, and a build that fails leaves the previous index
live (its plan stays, and the next `qa index` carries on from it, or plans anew if the corpus
changed meanwhile). Start more `qa index --store URL` processes to add workers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from qa.errors import CorpusEmpty, QAError
from qa.index.freshness import FORMAT_VERSION, fingerprint
from qa.index.lexical import VERSION as LEXICAL_VERSION
from qa.index.lexical import tokenize
from qa.index.origin import recorded
from qa.index.pipeline import FORMATS, BuildReport, gather, index_text
from qa.index.postgres import schema
from qa.index.postgres.ranking import document_terms
from qa.ingest.corpus import max_file_bytes, scan
from qa.ingest.passages import DEFAULT_MAX_WORDS
from qa.models.onnx_embedding import ENCODER_DIR, cache_root, export_problem, write_encoder

COLUMNS = (
    "source, position, id, start_char, end_char, text, section, paragraph, endnotes, title, "
    "date, page, page_end, search_text, words, embedding"
)
# Files a worker claims at once, embedded together and committed together: few enough that
# several workers share a folder of large files, enough that small files still batch.
CLAIM = 4


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
    """Bring the index in database up to date with corpus, as one of its build's workers."""
    started = time.perf_counter()
    max_bytes = max_file_bytes(max_file_mb)
    listing = scan(corpus, max_bytes)
    for skipped in listing.skipped:
        progress(f"skipping {skipped.source}: {skipped.reason}")
    files = fingerprint(corpus, max_bytes, listing.files)
    if not files and listing.skipped:
        raise CorpusEmpty(f"nothing to index in {corpus}: every file was skipped (see above)")
    if not files:
        raise CorpusEmpty(f"no documents in {corpus}: add {FORMATS} files, then run `qa index`")
    plan = {"format": FORMAT_VERSION, "model": embedder.name, "max_words": max_words, "files": files, "max_file_bytes": max_bytes}  # fmt: skip
    conn = schema.connect(database)
    try:
        schema.migrate(conn, database)
        reason = _plan(conn, plan, rebuild)
        if reason is not None:
            embedded, staged = _work(conn, corpus, embedder, max_words, progress)
            total = _finish(conn, plan, corpus)
        else:
            total = schema.read_meta(conn, "manifest")["passages"]
    finally:
        conn.close()
    home = encoder_home(database)  # this machine's query encoder, written once per export format
    if export_problem(home / ENCODER_DIR) is not None:
        shutil.rmtree(home / ENCODER_DIR, ignore_errors=True)
        home.mkdir(parents=True, exist_ok=True)
        write_encoder(embedder, home / ENCODER_DIR, progress)
    if reason is None:
        return BuildReport(False, len(files), total, 0.0, Path(), "up to date")
    seconds = time.perf_counter() - started
    if total is None:  # another worker swaps the build in when its last files are done
        return BuildReport(True, len(files), staged, seconds, Path(), "this worker's share; another swaps the build in", embedded, staged - embedded)  # fmt: skip
    return BuildReport(True, len(files), total, seconds, Path(), reason, embedded, staged - embedded)  # fmt: skip


def _plan(conn, plan: dict, rebuild: bool) -> str | None:
    """Join the build under way for the same corpus, or plan one; None when up to date."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (schema.BUILD_LOCK,))
        under_way = schema.read_meta(conn, "plan") or {}
        if {k: v for k, v in under_way.items() if k != "reset"} == plan and not rebuild:
            return "joined the build under way"
        manifest = schema.read_meta(conn, "manifest")
        same = manifest is not None and (FORMAT_VERSION, plan["model"], {"max_words": plan["max_words"]}, True) == (
            manifest.get("format"), manifest["model"]["name"], manifest["chunking"], "lexicon" in manifest
        )  # fmt: skip
        stored = dict(conn.execute("select source, sha256 from documents").fetchall())
        if rebuild or not same:
            stored = {}
        changed = {s: digest for s, digest in plan["files"].items() if stored.get(s) != digest}
        removed = [s for s in stored if s not in plan["files"]]
        if same and not rebuild and not changed and not removed:
            conn.execute("delete from meta where key = 'plan'")
            return None
        conn.execute("truncate work, documents_staging, passages_staging, document_terms_staging")
        with conn.cursor() as cur:
            cur.executemany("insert into work (source, sha256) values (%s, %s)", list(changed.items()))  # fmt: skip
        schema.write_meta(conn, "plan", plan | {"reset": not stored})
    if manifest is None:
        return "new"
    return "rebuilt on request" if rebuild else "corpus or model changed"


def _work(conn, corpus: Path, embedder, max_words: int, progress) -> tuple[int, int]:
    """Claim files until none is left; stage each claim's rows. Returns the texts embedded and
    the passages staged."""
    embedded = staged = 0
    while True:
        with conn.transaction():
            claimed = dict(
                conn.execute(
                    "select source, sha256 from work where not done order by source "
                    "limit %s for update skip locked",
                    (CLAIM,),
                ).fetchall()
            )
            if not claimed:
                return embedded, staged
            documents, passages, vectors, count = gather(corpus, claimed, {}, embedder, max_words, progress)  # fmt: skip
            embedded, staged = embedded + count, staged + len(passages)
            _stage(conn, claimed, documents, passages, vectors)
            conn.execute("update work set done = true where source = any(%s)", (list(claimed),))


def _stage(conn, files: dict[str, str], documents: dict, passages: list, vectors) -> None:
    if len(passages) and vectors.shape[1] != schema.DIMENSION:
        raise QAError(
            f"the model gives {vectors.shape[1]}-d vectors; the PostgreSQL store holds "
            f"{schema.DIMENSION}-d ones: use the folder store for this model"
        )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into documents_staging (source, sha256, position, record) values (%s, %s, 0, %s)",  # fmt: skip
            [(s, files[s], json.dumps(r)) for s, r in documents.items()],
        )
        texts = [index_text(p) for p in passages]
        for source in documents:
            mine = [i for i, p in enumerate(passages) if p.source == source]
            terms = document_terms([passages[i] for i in mine], [texts[i] for i in mine])
            cur.execute("insert into document_terms_staging values (%s, %s)", (source, json.dumps(terms)))  # fmt: skip
        counters: dict[str, int] = {}
        with cur.copy(f"copy passages_staging ({COLUMNS}) from stdin") as copy:
            for p, text, vector in zip(passages, texts, vectors, strict=True):
                position = counters[p.source] = counters.get(p.source, -1) + 1
                endnotes = json.dumps([note.__dict__ for note in p.endnotes], ensure_ascii=False)
                copy.write_row((
                    p.source, position, p.id, p.start, p.end, p.text, p.section, p.paragraph,
                    endnotes, p.title, p.date, p.page, p.page_end, text, len(tokenize(text)),
                    "[" + ",".join(map(str, vector.tolist())) + "]",
                ))  # fmt: skip


def _finish(conn, plan: dict, corpus: Path) -> int | None:
    """Swap the staged build in, if every file is done and this plan is still the one under
    way; returns the passages then live, or None when other workers still hold files."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (schema.BUILD_LOCK,))
        under_way = schema.read_meta(conn, "plan")
        if under_way is None:  # another worker finished it
            return schema.read_meta(conn, "manifest")["passages"]
        if under_way != plan | {"reset": under_way.get("reset")}:
            raise QAError("another `qa index` planned a newer build meanwhile: run `qa index` again")  # fmt: skip
        if conn.execute("select exists (select 1 from work where not done)").fetchone()[0]:
            return None
        files = plan["files"]
        # Passages first: across shards, no foreign key takes them with their documents.
        if under_way["reset"]:
            conn.execute("delete from passages")
            conn.execute("delete from documents")
            conn.execute("delete from document_terms")
        done = [s for (s,) in conn.execute("select source from work").fetchall()]
        gone = "source = any(%s) or not (source = any(%s))"
        conn.execute(f"delete from passages where {gone}", (done, list(files)))
        conn.execute(f"delete from documents where {gone}", (done, list(files)))
        conn.execute(f"delete from document_terms where {gone}", (done, list(files)))
        conn.execute("insert into documents select * from documents_staging")
        conn.execute("insert into document_terms select * from document_terms_staging")
        statistics = _count_lexicon(conn)
        conn.execute(f"insert into passages ({COLUMNS}) select {COLUMNS} from passages_staging")
        conn.execute(
            "update documents set position = p.n from unnest(%s::text[], %s::int[]) as p(s, n) "
            "where source = p.s",
            (list(files), list(range(len(files)))),
        )
        conn.execute("truncate work, documents_staging, passages_staging, document_terms_staging")
        conn.execute("delete from meta where key = 'plan'")
        total, average_words = conn.execute("select count(*), avg(words) from passages").fetchone()
        if not total:
            raise CorpusEmpty("the documents hold no text to index")
        schema.write_meta(conn, "manifest", {
            "format": FORMAT_VERSION,
            "model": {"name": plan["model"], "dimension": schema.DIMENSION},
            "chunking": {"max_words": plan["max_words"]},
            "lexical": LEXICAL_VERSION,
            "limits": {"max_file_bytes": plan["max_file_bytes"]},
            "corpus": recorded(corpus),  # the worker that swaps the build in says where
            "files": files,
            "documents": len(files),
            "passages": total,
            "average_words": float(average_words),
            "lexicon": statistics,
            "dense": {"kind": "pgvector", "m": schema.HNSW_M, "ef_search": schema.HNSW_EF_SEARCH},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })  # fmt: skip
        return total


def _count_lexicon(conn) -> dict:
    """The lexicon recounted from every document's share, and the sizes and average lengths
    BM25 needs beside it."""
    conn.execute("delete from lexicon")
    for kind, name in enumerate(("words", "pairs", "sentences")):
        conn.execute(
            "insert into lexicon select %s, t.key, sum(t.value::int) from document_terms, "
            "jsonb_each_text(terms->%s) t group by t.key",
            (kind, name),
        )
    sums = conn.execute(
        "select coalesce(sum((terms->'counts'->>'passages')::bigint), 0), "
        "coalesce(sum((terms->'counts'->>'pairs')::bigint), 0), "
        "coalesce(sum((terms->'counts'->>'sentences')::bigint), 0), "
        "coalesce(sum((terms->'counts'->>'sentence_stems')::bigint), 0) from document_terms"
    ).fetchone()
    passages, pairs, sentences, sentence_stems = (int(x) for x in sums)
    return {
        "sentences": sentences,
        "average_pairs": pairs / max(passages, 1),
        "average_sentence": sentence_stems / max(sentences, 1),
    }
