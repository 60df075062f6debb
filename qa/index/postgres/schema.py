"""Connecting to the PostgreSQL store, and its schema: versioned, migrated by `qa index`.

schema_version  one row: the schema's version (MIGRATIONS below, applied in order)
meta            the build's manifest (format, model, chunking, every file's sha256)
documents       each document's sha256, place in the corpus and kept record (text, title,
                date, pages, warnings), as the folder store's documents.json keeps it
document_terms  each document's share of the lexicon; lexicon: in how many passages (or
                sentences) each of qa's stems and stem pairs occurs, for BM25
passages        exact spans with their citations, the text that is matched, a vector(384)
                under an HNSW cosine index, a generated tsvector under a GIN index, and the
                number of stems BM25 normalises by
"""

from __future__ import annotations

import json

from qa.errors import IndexMissing, IndexStale, QAError

# HNSW parameters measured on 200,000 passages of 384-d vectors (issue 20): m=16,
# ef_construction=64 built in 60 s; ef_search 40 gave recall@10 0.990, 100 gave 0.9995 at 0.8 ms.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 200  # at least the candidate depth (hybrid asks for 100 or more)
DIMENSION = 384
CONNECT_TIMEOUT_S = 5

# The passages' columns, on one server or on each shard (qa/index/postgres/shards.py).
PASSAGE_COLUMNS = f"""
    source text not null,
    position integer not null,
    id text not null,
    start_char integer not null,
    end_char integer not null,
    text text not null,
    section text,
    paragraph integer not null,
    endnotes jsonb not null,
    title text,
    date text,
    page integer,
    page_end integer,
    search_text text not null,
    words integer not null,
    embedding vector({DIMENSION}) not null,
    tsv tsvector generated always as (to_tsvector('english', search_text)) stored"""
# A partitioned table over foreign tables can hold no unique index: the shards keep the key.
PASSAGES = f"({PASSAGE_COLUMNS}, primary key (source, position))"
# Where the passages are (each shard's, when partitioned: an index cannot span foreign tables).
PASSAGE_INDEXES = [
    f"""create index if not exists passages_embedding on passages
        using hnsw (embedding vector_cosine_ops)
        with (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})""",
    "create index if not exists passages_tsv on passages using gin (tsv)",
    "create index if not exists passages_id on passages (id)",
]

MIGRATIONS: dict[int, list[str]] = {
    1: [
        "create table if not exists meta (key text primary key, value jsonb not null)",
        """create table if not exists documents (
            source text primary key,
            sha256 text not null,
            position integer not null,
            record jsonb not null)""",
        f"create table if not exists passages {PASSAGES}",
        # A partitioned passages table (across shards) cannot reference documents.
        """do $$ begin
            if (select relkind from pg_class where relname = 'passages') = 'r' and not exists (
                select 1 from pg_constraint where conname = 'passages_source_fkey') then
                alter table passages add constraint passages_source_fkey foreign key (source)
                    references documents (source) on delete cascade;
            end if;
        end $$""",
        *PASSAGE_INDEXES,
    ],
    # Parallel builds: workers claim files from `work` and stage their rows; the last one
    # to finish swaps the staged rows in, in one transaction.
    2: [
        """create table if not exists work (
            source text primary key,
            sha256 text not null,
            done boolean not null default false)""",
        "create table if not exists documents_staging (like documents including all)",
        f"""create table if not exists passages_staging (
            source text not null,
            position integer not null,
            id text not null,
            start_char integer not null,
            end_char integer not null,
            text text not null,
            section text,
            paragraph integer not null,
            endnotes jsonb not null,
            title text,
            date text,
            page integer,
            page_end integer,
            search_text text not null,
            words integer not null,
            embedding vector({DIMENSION}) not null)""",
    ],
    # The lexicon: qa's own document frequencies (stems, stem pairs, sentence stems), so that
    # the database ranks as the folder store does (qa/index/postgres/ranking.py). Each
    # document's share is kept apart, so an incremental build recounts from those alone.
    3: [
        "create table if not exists document_terms (source text primary key, terms jsonb not null)",  # fmt: skip
        "create table if not exists document_terms_staging (like document_terms including all)",
        """create table if not exists lexicon (
            kind smallint not null,
            term text not null,
            passages integer not null,
            primary key (kind, term))""",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)
# Any constant key: builds (and migrations) of one database run one at a time.
BUILD_LOCK = 0x7161_6964_78  # "qaidx"


def shown(database: str) -> str:
    """The connection string without its password or options, for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(database)
    except Exception:
        return "the PostgreSQL store"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host", "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"


def connect(database: str):
    """An autocommit connection with pgvector's types, or QAError with one line saying why not."""
    import psycopg

    try:
        conn = psycopg.connect(database, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except (psycopg.Error, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise QAError(f"cannot connect to {shown(database)} ({reason}): check QA_STORE") from exc
    if _has_vector(conn):  # else check() or migrate() says what to do
        conn.execute(f"set hnsw.ef_search = {HNSW_EF_SEARCH}")
    return conn


def _has_vector(conn) -> bool:
    return (
        conn.execute("select 1 from pg_extension where extname = 'vector'").fetchone() is not None
    )


def check(conn, database: str) -> dict:
    """The current build's manifest, or the one-line reason it cannot be read (what to run)."""
    run = f"run `qa index --store {shown(database)}`"
    if not _has_vector(conn):
        raise QAError(
            f"{shown(database)} has no pgvector extension: {run} as the database's owner "
            "(it runs CREATE EXTENSION vector), or ask its administrator to"
        )
    version = installed_version(conn)
    if version is None:
        raise IndexMissing(f"no index in {shown(database)}: {run}")
    if version < SCHEMA_VERSION:
        raise IndexStale(
            f"{shown(database)} holds schema version {version}, this qa needs {SCHEMA_VERSION}: "
            f"{run} to migrate it"
        )
    if version > SCHEMA_VERSION:
        raise IndexStale(
            f"{shown(database)} holds schema version {version}, newer than this qa's "
            f"{SCHEMA_VERSION}: upgrade qa"
        )
    row = conn.execute("select value from meta where key = 'manifest'").fetchone()
    if row is None:
        raise IndexMissing(f"no index in {shown(database)}: {run}")
    return row[0]


def installed_version(conn) -> int | None:
    exists = conn.execute("select to_regclass('schema_version') is not null").fetchone()[0]
    if not exists:
        return None
    row = conn.execute("select max(version) from schema_version").fetchone()
    return row[0] if row and row[0] is not None else 0


def migrate(conn, database: str) -> None:
    """Bring the schema to SCHEMA_VERSION, each step in its own transaction."""
    import psycopg

    try:
        conn.execute("create extension if not exists vector")
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise QAError(
            f"cannot enable pgvector in {shown(database)} ({reason}): install pgvector on the "
            "server, or have its owner run CREATE EXTENSION vector"
        ) from exc
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (BUILD_LOCK,))
        conn.execute("create table if not exists schema_version (version integer not null)")
        version = installed_version(conn) or 0
        if version > SCHEMA_VERSION:
            raise IndexStale(
                f"{shown(database)} holds schema version {version}, newer than this qa's "
                f"{SCHEMA_VERSION}: upgrade qa"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                if statement in PASSAGE_INDEXES and partitioned(conn):
                    continue  # each shard indexes its own passages
                conn.execute(statement)
            conn.execute("delete from schema_version")
            conn.execute("insert into schema_version values (%s)", (step,))
    conn.execute(f"set hnsw.ef_search = {HNSW_EF_SEARCH}")


def partitioned(conn) -> bool:
    """Whether passages is partitioned (across shards, qa/index/postgres/shards.py)."""
    row = conn.execute("select relkind from pg_class where relname = 'passages'").fetchone()
    return row is not None and row[0] == "p"


def passage_tables(conn) -> list[str]:
    """Where passages are read: the table itself, or each shard's partition when partitioned."""
    if not partitioned(conn):
        return ["passages"]
    rows = conn.execute(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "where i.inhparent = 'passages'::regclass order by c.relname"
    ).fetchall()
    return [f'"{name}"' for (name,) in rows]


def read_meta(conn, key: str) -> dict | None:
    row = conn.execute("select value from meta where key = %s", (key,)).fetchone()
    return row[0] if row else None


def write_meta(conn, key: str, value: dict) -> None:
    conn.execute(
        "insert into meta values (%s, %s) on conflict (key) do update set value = excluded.value",
        (key, json.dumps(value)),
    )
