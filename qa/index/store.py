"""Where the index lives: the folder (the default: FAISS + bm25s, no server) or PostgreSQL with
pgvector (QA_STORE / --store postgresql://...). Everything past qa/index/ goes through here, so
retrieval, reranking and answering never know which store they read."""

from __future__ import annotations

from collections.abc import Callable

from qa.index.pipeline import BuildReport
from qa.settings import Settings


def open_index(settings: Settings, model: str | None = None):
    """The index settings name, loaded (folder) or connected (database); refuses one that is
    missing, stale for the corpus or model, or damaged, with a message saying what to run."""
    if settings.database:
        from qa.index.postgres.loaded import DatabaseIndex

        return DatabaseIndex(settings.database, settings.corpus, model, settings.replicas)
    from qa.index.loaded import Index

    return Index.load(settings.index, settings.corpus, model)


def build(settings: Settings, embedder, progress: Callable[[str], None] = lambda message: None, **options) -> BuildReport:  # fmt: skip
    """Build or update the index settings name from settings.corpus (qa/index/pipeline.py),
    which it then records; never from another folder than its own where that drops documents
    the corpus was not chosen for (qa/index/origin.py)."""
    from qa.index.origin import check_rebuild

    options.setdefault("max_file_mb", settings.max_file_mb)
    check_rebuild(settings, location(settings), options["max_file_mb"], progress)
    if settings.database:
        from qa.index.postgres.building import build as build_database

        return build_database(settings.corpus, settings.database, embedder, progress=progress, **options)  # fmt: skip
    from qa.index.pipeline import build as build_folder

    return build_folder(settings.corpus, settings.index, embedder, progress=progress, **options)


def location(settings: Settings) -> str:
    """The index's place as messages name it (a database without its password)."""
    if settings.database:
        from qa.index.postgres.schema import shown

        return shown(settings.database)
    return str(settings.index)


def describe(settings: Settings) -> dict:
    """What the index holds and whether it is stale (`qa info`), without loading the model, and
    whether the model's own files are damaged."""
    from qa.models.embedding import DEFAULT_MODEL_NAME, model_damage_said, resolve_model

    if settings.database:
        from qa.index.postgres import inventory

        model = resolve_model(settings.model)[0] if settings.model else DEFAULT_MODEL_NAME
        report = inventory.describe(settings, model)
    else:
        from qa.index import inventory

        report = inventory.describe(settings)
    damage = model_damage_said(settings.model)
    return report | ({"model_damage": damage} if damage else {})


def kept_span(settings: Settings, source: str, start: int | None = None, end: int | None = None) -> str:  # fmt: skip
    """The exact text a citation points to (`qa show`), from the text the index keeps."""
    if settings.database:
        from qa.index.postgres import inventory

        return inventory.kept_span(settings, source, start, end)
    from qa.index import inventory

    return inventory.kept_span(settings, source, start, end)
