"""Partitioning across servers by the engine: the passages hash-partitioned by document over
shards that a coordinator reads through postgres_fdw. qa connects to the coordinator only (one
connection string); documents, the manifest and the build's work table stay on it.

    python -m qa.index.postgres.shards postgresql://coordinator/qa postgresql://shard1/qa ...

then `qa index --store postgresql://coordinator/qa` as usual. Each shard holds its passages
with their own HNSW and GIN indexes; `extensions 'vector'` on each server definition lets the
coordinator push the vector ordering to the shards (issue 20: otherwise it sorts everything).
The coordinator's user must be able to log in to the shards as the same user (a user mapping
is made for it without a password: trust or a .pgpass on the coordinator's host).
"""

from __future__ import annotations

import sys

from qa.errors import QAError
from qa.index.postgres import schema


def partition(coordinator: str, shards: list[str]) -> None:
    """Make coordinator's passages a hash partition by document over shards (each one prepared
    with the passages table and its indexes), then migrate the coordinator as `qa index` does."""
    from psycopg.conninfo import conninfo_to_dict

    if len(shards) < 2:
        raise QAError("give at least two shards")
    for shard in shards:
        conn = schema.connect(shard)
        try:
            conn.execute("create extension if not exists vector")
            conn.execute(f"create table if not exists passages {schema.PASSAGES}")
            for statement in schema.PASSAGE_INDEXES:
                conn.execute(statement)
            database = conn.execute("select current_database()").fetchone()[0]
            conn.execute(f'alter database "{database}" set hnsw.ef_search = {schema.HNSW_EF_SEARCH}')  # fmt: skip
        finally:
            conn.close()
    conn = schema.connect(coordinator)
    try:
        if schema.installed_version(conn) is not None:
            raise QAError(f"{schema.shown(coordinator)} already holds an index: partition a new database")  # fmt: skip
        conn.execute("create extension if not exists vector")
        conn.execute("create extension if not exists postgres_fdw")
        with conn.transaction():
            conn.execute(f"create table passages ({schema.PASSAGE_COLUMNS}) partition by hash (source)")  # fmt: skip
            for i, shard in enumerate(shards):
                parts = conninfo_to_dict(shard)
                options = ", ".join(
                    f"{key} '{parts[key]}'" for key in ("host", "port", "dbname") if parts.get(key)
                )
                # use_remote_estimate: without the shard's row counts the coordinator guesses
                # one row matches the full text, sorts locally, and so fetches every match
                # (26 s a query over 2 x 500,000 passages, benchmarks/scale_postgres.py); with
                # them, each shard ranks and LIMITs its own (an EXPLAIN round trip each).
                conn.execute(
                    f"create server qa_shard_{i} foreign data wrapper postgres_fdw "
                    f"options ({options}, extensions 'vector', batch_size '1000', "
                    "use_remote_estimate 'true')"
                )
                user = f", password '{parts['password']}'" if parts.get("password") else ""
                conn.execute(
                    f"create user mapping for current_user server qa_shard_{i} "
                    f"options (user '{parts.get('user', 'postgres')}'{user})"
                )
                conn.execute(
                    f"create foreign table passages_{i} partition of passages for values with "
                    f"(modulus {len(shards)}, remainder {i}) server qa_shard_{i} "
                    "options (table_name 'passages')"
                )
        schema.migrate(conn, coordinator)
    finally:
        conn.close()


def main() -> None:
    if len(sys.argv) < 4:
        print("usage: python -m qa.index.postgres.shards COORDINATOR SHARD SHARD...", file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    try:
        partition(sys.argv[1], sys.argv[2:])
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{schema.shown(sys.argv[1])}: passages partitioned over {len(sys.argv) - 2} shards")


if __name__ == "__main__":
    main()
