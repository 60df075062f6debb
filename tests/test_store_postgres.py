"""The PostgreSQL store against the folder store, on a real server (tests/postgres.py)."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from typer.testing import CliRunner

from tests.conftest import BRIEF
from tests.postgres import create_database

QUESTIONS = [
    "What are the challenges in EU-NATO information sharing?",
    "When was the EU-NATO joint declaration signed?",
    "Which countries are members of NATO but not of the EU?",
]


@pytest.fixture(scope="module")
def pg_settings(postgres, settings, embedder):
    from qa.index.store import build

    pg = dataclasses.replace(settings, database=create_database(postgres, "brief"))
    report = build(pg, embedder)
    assert report.built and report.passages > 0
    return pg


@pytest.fixture(scope="module")
def pg_assistant(pg_settings, embedder):
    from qa.answer.assistant import Assistant

    return Assistant(pg_settings, embedder)


def _exact(hit_dict: dict, document: str) -> bool:
    c = hit_dict["citation"]
    return hit_dict["text"] == document[c["start"] : c["end"]]


def test_database_holds_the_folders_passages(pg_assistant, assistant):
    """Same passages, spans and citations in both stores, in the same order."""
    assert list(pg_assistant.index.passages) == list(assistant.index.passages)
    assert pg_assistant.passages == assistant.passages
    assert list(pg_assistant.index.documents) == list(assistant.index.documents)
    source = BRIEF.name
    assert pg_assistant.index.documents[source]["text"] == assistant.index.documents[source]["text"]  # fmt: skip
    assert pg_assistant.index.summaries() == assistant.index.summaries()


def test_search_and_ask_match_the_folder_store(pg_assistant, assistant):
    document = BRIEF.read_text(encoding="utf-8")
    for question in QUESTIONS:
        pg_hits = [h.to_dict() for h in pg_assistant.search(question, 5)]
        folder_hits = [h.to_dict() for h in assistant.search(question, 5)]
        assert len(pg_hits) == 5
        assert all(_exact(h, document) for h in pg_hits)
        assert pg_hits[0]["citation"] == folder_hits[0]["citation"], question
        pg_answer = pg_assistant.ask(question).to_dict()
        folder_answer = assistant.ask(question).to_dict()
        assert all(_exact(c, document) for c in pg_answer["citations"])
        assert pg_answer["answerable"] == folder_answer["answerable"], question
        # The full-text rank is not BM25, so the reader may order its evidence otherwise; the
        # folder store's first citation is still among the database's.
        if pg_answer["answerable"]:
            cited = [c["citation"]["id"] for c in pg_answer["citations"]]
            assert folder_answer["citations"][0]["citation"]["id"] in cited, question


def test_lexical_scores_are_the_folder_stores(pg_assistant, assistant):
    """The brief's passages are all candidates at depth 100, so the database's BM25 (stems,
    stem pairs, best sentence, from its lexicon table) equals the folder store's exactly."""
    for question in QUESTIONS:
        vector = assistant.embedder.encode([question])[0]
        pg = pg_assistant.index.candidates(question, vector, 100)
        folder = assistant.index.candidates(question, vector, 100)
        assert [p.id for p in pg.passages] == [p.id for p in folder.passages]
        assert pg.lexical == pytest.approx(folder.lexical, rel=1e-4, abs=1e-5), question
        assert pg.dense == pytest.approx(folder.dense, abs=1e-4), question


def test_source_filter(pg_assistant):
    from qa.errors import UnknownDocument

    hits = pg_assistant.search(QUESTIONS[0], 3, [BRIEF.name])
    assert hits and all(h.passage.source == BRIEF.name for h in hits)
    with pytest.raises(UnknownDocument):
        pg_assistant.search(QUESTIONS[0], 3, ["nowhere.txt"])


def test_health_lists_documents(pg_settings, pg_assistant):
    from fastapi.testclient import TestClient

    from qa.surfaces.server import create_app

    with TestClient(create_app(pg_settings, pg_assistant)) as client:
        health = client.get("/health").json()
        found = client.post("/search", json={"query": QUESTIONS[0], "top_k": 2}).json()
    assert health["passages"] == pg_assistant.passages
    assert [d["source"] for d in health["documents"]] == [BRIEF.name]
    assert health["documents"][0]["passages"] == pg_assistant.passages
    assert len(found["results"]) == 2


def test_cli_info_show_and_up_to_date(pg_settings, pg_assistant):
    from qa.surfaces.cli import app

    env = {"QA_STORE": pg_settings.database, "QA_CORPUS": str(pg_settings.corpus)}
    runner = CliRunner()
    info = runner.invoke(app, ["info", "--json"], env=env)
    assert info.exit_code == 0, info.output
    assert '"status": "fresh"' in info.stdout
    passage = next(iter(pg_assistant.index.passages))
    shown = runner.invoke(app, ["show", passage.id], env=env)
    assert shown.exit_code == 0 and shown.stdout == passage.text + "\n"
    again = runner.invoke(app, ["index"], env=env)
    assert again.exit_code == 0
    assert "is up to date" in again.stdout


def test_incremental_build_and_failed_build(postgres, tmp_path, embedder):
    """Only changed files are embedded; removed ones go; a failed build leaves the index live."""
    from qa.errors import IndexStale
    from qa.index.postgres.loaded import DatabaseIndex
    from qa.index.store import build
    from qa.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(BRIEF, corpus / "a.txt")
    (corpus / "b.txt").write_text("Short note.\n\nThe fleet sails at dawn on Tuesday.\n")
    settings = Settings(corpus=corpus, database=create_database(postgres, "incremental"))
    first = build(settings, embedder)
    (corpus / "b.txt").write_text("Short note.\n\nThe fleet sails at noon on Friday.\n")
    second = build(settings, embedder)
    assert second.built and second.embedded == 2  # b.txt's two passages; a.txt's reused
    assert second.passages == first.passages

    class Broken:
        name = embedder.name

        def encode(self, texts, **options):
            raise RuntimeError("the model fell over")

    (corpus / "b.txt").unlink()
    (corpus / "c.txt").write_text("Another note.\n")
    with pytest.raises(RuntimeError):
        build(settings, Broken())
    index = DatabaseIndex(settings.database)
    assert list(index.documents) == ["a.txt", "b.txt"]  # the previous build, whole
    assert "noon" in index.documents["b.txt"]["text"]
    index.close()
    (corpus / "c.txt").unlink()
    third = build(settings, embedder)
    assert third.built and third.embedded == 0
    index = DatabaseIndex(settings.database, corpus, embedder.name)
    assert list(index.documents) == ["a.txt"] and len(index.passages) == third.passages
    # An index from before the lexicon (schema 2) is refused until `qa index` rebuilds it.
    index.query("update meta set value = value - 'lexicon' where key = 'manifest' returning 1")
    index.close()
    with pytest.raises(IndexStale, match="old format: run `qa index --store postgresql://"):
        DatabaseIndex(settings.database, corpus, embedder.name)
    fourth = build(settings, embedder)
    assert fourth.built and fourth.embedded == fourth.passages == third.passages
    DatabaseIndex(settings.database, corpus, embedder.name).close()


def test_bad_stores_say_what_to_do(postgres, pg_settings):
    """A wrong connection string, a database without pgvector, an older schema: one line, exit 1."""
    import psycopg

    from qa.surfaces.cli import app

    runner = CliRunner()

    def run(*args, store: str):
        result = runner.invoke(app, [*args, "--store", store])
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return lines[0]

    closed = postgres.url().replace(f":{postgres.port}/", ":1/")
    line = run("search", "x", store=closed)
    assert "cannot connect to postgresql://postgres@127.0.0.1:1/postgres" in line
    assert "check QA_STORE" in run("info", store=postgres.url("missing"))
    bare = create_database(postgres, "bare", vector=False)
    assert "no pgvector extension" in run("ask", "What is NATO?", store=bare)
    with psycopg.connect(postgres.url(), autocommit=True) as conn:  # may not CREATE EXTENSION
        conn.execute("create role reader login")
    line = run("index", "--corpus", str(pg_settings.corpus), store=bare.replace("postgres@", "reader@"))  # fmt: skip
    assert line.startswith("error: cannot enable pgvector in postgresql://reader@") and "install pgvector" in line  # fmt: skip
    old = create_database(postgres, "old")
    with psycopg.connect(old, autocommit=True) as conn:
        conn.execute("create table schema_version (version integer not null)")
        conn.execute("insert into schema_version values (0)")
    line = run("search", "What is NATO?", store=old)
    assert "schema version 0" in line and "run `qa index --store postgresql://" in line
    from qa.index.postgres import schema  # what `qa index` does first: migrate, step by step

    conn = schema.connect(old)
    schema.migrate(conn, old)
    assert schema.installed_version(conn) == schema.SCHEMA_VERSION == 3
    conn.close()
    # The embedded default is unaffected.
    result = runner.invoke(app, ["info", "--json", "--index", str(pg_settings.index)], env={"QA_STORE": ""})  # fmt: skip
    assert result.exit_code == 0 and '"status": "fresh"' in result.stdout


def test_store_selection(monkeypatch, tmp_path):
    from qa.settings import Settings

    monkeypatch.delenv("QA_STORE", raising=False)
    monkeypatch.delenv("QA_INDEX", raising=False)
    assert Settings().database is None and str(Settings().index) == "index"
    monkeypatch.setenv("QA_STORE", str(tmp_path))
    assert Settings().database is None and Settings().index == tmp_path
    monkeypatch.setenv("QA_STORE", "postgresql://db.example/qa")
    assert Settings().database == "postgresql://db.example/qa"
    chosen = Settings().with_options(store=str(tmp_path))
    assert chosen.database is None and chosen.index == tmp_path


def test_workers_share_a_build_through_the_work_table(postgres, tmp_path, embedder):
    """A worker skips the files another holds (FOR UPDATE SKIP LOCKED) and leaves the swap to
    whoever finishes last; until then readers see no half-built index."""
    import psycopg

    from qa.errors import IndexMissing
    from qa.index.postgres.loaded import DatabaseIndex
    from qa.index.store import build
    from qa.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in [("a", "Ships sail at dawn."), ("b", "Planes land at noon."), ("c", "Trains leave at dusk.")]:  # fmt: skip
        (corpus / f"{name}.txt").write_text(f"A note.\n\n{text}\n")
    settings = Settings(corpus=corpus, database=create_database(postgres, "workers"))

    class Broken:
        name = embedder.name

        def encode(self, texts, **options):
            raise RuntimeError("the model fell over")

    with pytest.raises(RuntimeError):  # plans the build, then fails: the files stay to do
        build(settings, Broken())
    with psycopg.connect(settings.database) as other:  # another worker holds b.txt
        other.execute("select 1 from work where source = 'b.txt' for update").fetchone()
        share = build(settings, embedder)
        assert share.built and share.reason.startswith("this worker's share")
        with pytest.raises(IndexMissing):
            DatabaseIndex(settings.database)
        other.rollback()  # that worker died: its file is free again
    last = build(settings, embedder)
    assert last.reason == "joined the build under way"
    index = DatabaseIndex(settings.database, corpus, embedder.name)
    assert list(index.documents) == ["a.txt", "b.txt", "c.txt"]
    assert share.embedded + last.embedded == len(index.passages) == last.passages
    assert index.query("select count(*) from work")[0][0] == 0
    index.close()


def test_passages_partitioned_across_two_shards(postgres, pg_settings, embedder):
    """A coordinator whose passages live on two shards (postgres_fdw, hash by document) answers
    as one database holding the same corpus does; each shard holds its documents' passages."""
    import tempfile
    from pathlib import Path

    import psycopg

    from qa.answer.assistant import Assistant
    from qa.index.postgres.shards import partition
    from qa.index.store import build
    from tests import postgres as servers

    folders = [Path(tempfile.mkdtemp(prefix="qa-shard-")) for _ in range(2)]
    shards = [servers.start(folder) for folder in folders]
    try:
        corpus = pg_settings.corpus.parent / "two-documents"
        corpus.mkdir(exist_ok=True)
        shutil.copy(BRIEF, corpus / BRIEF.name)
        for name in ("fleet", "planes", "trains"):
            (corpus / f"{name}.txt").write_text(
                f"Orders.\n\nThe {name} leave at dawn on Tuesday.\n"
            )
        coordinator = create_database(postgres, "coordinator")
        partition(coordinator, [shard.url() for shard in shards])
        settings = dataclasses.replace(pg_settings, corpus=corpus, database=coordinator)
        report = build(settings, embedder)
        counts = []
        for shard in shards:
            with psycopg.connect(shard.url()) as conn:
                counts.append(conn.execute("select count(distinct source), count(*) from passages").fetchone())  # fmt: skip
        assert all(documents for documents, _ in counts)  # hashed by document: some on each
        assert sum(documents for documents, _ in counts) == 4
        assert sum(c[1] for c in counts) == report.passages
        single = dataclasses.replace(settings, database=create_database(postgres, "unsharded"))
        build(single, embedder)
        sharded, whole = Assistant(settings, embedder), Assistant(single, embedder)
        for question in QUESTIONS:
            got = [h.to_dict() for h in sharded.search(question, 3)]
            assert got == [h.to_dict() for h in whole.search(question, 3)], question
        sharded.index.close()
        whole.index.close()
    finally:
        for shard, folder in zip(shards, folders, strict=True):
            shard.stop()
            shutil.rmtree(folder, ignore_errors=True)
