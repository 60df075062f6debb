"""Read replicas of the PostgreSQL store: a real primary and a streaming replica on 127.0.0.1
(tests/postgres.py). Queries read from the replica and fall back to the primary; builds write
to the primary; a store whose every server is gone answers 503 with one line."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

from tests.postgres import create_database

QUESTION = "When does the fleet sail?"


def _replayed(url: str, passages: int, seconds: float = 20.0) -> bool:
    import psycopg

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with psycopg.connect(url) as conn:
            row = conn.execute("select value->>'passages' from meta where key = 'manifest'").fetchone()  # fmt: skip
        if row and int(row[0]) == passages:
            return True
        time.sleep(0.2)
    return False


def test_queries_read_from_a_replica_and_fall_back_to_the_primary(postgres, tmp_path, embedder):
    from fastapi.testclient import TestClient

    from qa.answer.assistant import Assistant
    from qa.index.postgres.schema import shown
    from qa.index.store import build
    from qa.settings import Settings
    from qa.surfaces.server import create_app
    from tests import postgres as servers

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fleet.txt").write_text("Orders.\n\nThe fleet sails at dawn on Tuesday.\n")
    (corpus / "planes.txt").write_text("Orders.\n\nThe planes land at noon on Friday.\n")
    primary = Settings(corpus=corpus, database=create_database(postgres, "replicated"))
    build(primary, embedder)
    folder = Path(tempfile.mkdtemp(prefix="qa-replica-"))
    replica = servers.replica(postgres, folder / "replica")
    try:
        replica_url = replica.url("replicated")
        both = dataclasses.replace(primary, replicas=(replica_url,))
        # A build with replicas configured writes to the primary; the replica replays it.
        (corpus / "trains.txt").write_text("Orders.\n\nThe trains leave at dusk on Monday.\n")
        report = build(both, embedder)
        assert report.built and _replayed(replica_url, report.passages)

        reader = Assistant(both, embedder)
        assert reader.index.reading_from == shown(replica_url)
        expected = [h.to_dict() for h in Assistant(primary, embedder).search(QUESTION, 3)]
        assert [h.to_dict() for h in reader.search(QUESTION, 3)] == expected
        only_replica = Assistant(dataclasses.replace(primary, database=replica_url), embedder)
        with TestClient(create_app(only_replica.settings, only_replica)) as client:
            assert client.post("/search", json={"query": QUESTION}).status_code == 200
            replica.stop()
            gone = client.post("/search", json={"query": QUESTION})
        # The reader falls back to the primary; the store with no other server says so.
        assert [h.to_dict() for h in reader.search(QUESTION, 3)] == expected
        assert reader.index.reading_from == shown(primary.database)
        assert gone.status_code == 503
        detail = gone.json()["detail"]
        assert detail.startswith(f"cannot read from {shown(replica_url)} (") and "\n" not in detail
    finally:
        replica.stop()
        shutil.rmtree(folder, ignore_errors=True)
