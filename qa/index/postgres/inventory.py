"""What an index in PostgreSQL holds (`qa info`, whether it is stale) and the exact text a
citation points to (`qa show`), as qa/index/inventory.py gives them for the folder store."""

from __future__ import annotations

from qa.errors import BadInput, IndexStale, QAError
from qa.index.freshness import check_fresh
from qa.index.postgres import schema
from qa.index.postgres.loaded import summaries
from qa.settings import Settings


def describe(settings: Settings, model: str) -> dict:
    database = settings.database
    report = {"index": schema.shown(database), "corpus": str(settings.corpus), "status": "missing"}
    conn = schema.connect(database)
    try:
        try:
            manifest = schema.check(conn, database)
        except IndexStale:
            return report | {"status": "stale"}
        except QAError:
            return report
        try:
            check_fresh(manifest, settings.corpus, model, index=schema.shown(database))
            report["status"] = "fresh"
        except IndexStale:
            report["status"] = "stale"
        report |= {
            "built_from": manifest.get("corpus"),
            "model": manifest["model"]["name"],
            "dimension": manifest["model"]["dimension"],
            "built_at": manifest["built_at"],
            "max_words": manifest["chunking"]["max_words"],
            "passages": manifest["passages"],
            "dense": manifest["dense"],
            "documents": summaries(lambda sql: conn.execute(sql).fetchall()),
        }
        return report
    finally:
        conn.close()


def kept_span(settings: Settings, source: str, start: int | None, end: int | None) -> str:
    database = settings.database
    conn = schema.connect(database)
    try:
        schema.check(conn, database)
        row = conn.execute(
            "select record->>'text' from documents where source = %s", (source,)
        ).fetchone()
        if row is None and "#" in source and start is None and end is None:
            found = conn.execute(
                "select source, start_char, end_char from passages where id = %s", (source,)
            ).fetchone()
            if found is None:
                raise BadInput(f"no passage {source} in the index: `qa search` shows passage ids")
            source, start, end = found
            row = conn.execute(
                "select record->>'text' from documents where source = %s", (source,)
            ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise BadInput(f"no document {source} in the index: `qa info` lists them")
    text = row[0]
    start = 0 if start is None else start
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        raise BadInput(
            f"{source} holds {len(text)} characters: give 0 <= start <= end <= {len(text)}"
        )
    return text[start:end]
