"""Settings: where the corpus, the index and the model are, from options or QA_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

# Corpus files over this size are skipped unread (QA_MAX_FILE_MB, --max-file-mb).
DEFAULT_MAX_FILE_MB = 50.0


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in os.environ.get(name, "").split(",") if x.strip())


# Where the index lives when QA_STORE / --store names a database rather than a folder.
DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database(store: str | None) -> bool:
    return bool(store) and store.startswith(DATABASE_SCHEMES)


def _index_folder() -> Path:
    """QA_STORE when it names a folder, else QA_INDEX, else index/."""
    store = os.environ.get("QA_STORE")
    if store and not is_database(store):
        return Path(store)
    return Path(os.environ.get("QA_INDEX", "index"))


def _database() -> str | None:
    """QA_STORE when it is a connection string."""
    store = os.environ.get("QA_STORE")
    return store if is_database(store) else None


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Settings:
    corpus: Path = field(default_factory=lambda: Path(os.environ.get("QA_CORPUS", "corpus")))
    # Where corpus came from: "given" (by the code that made these settings), "option" (--corpus),
    # "env" (QA_CORPUS), "default" (corpus/ in the working folder, which the folder the index
    # was built from then replaces: qa/index/origin.py) or "index" (that folder). Only a choice
    # ("given", "option") rebuilds an index from another folder where that drops documents.
    corpus_from: str = "given"
    index: Path = field(default_factory=_index_folder)
    # A PostgreSQL connection string (QA_STORE, --store) holding the index instead of the folder.
    database: str | None = field(default_factory=_database)
    # Streaming replicas of that database that queries read from (QA_STORE_REPLICAS, comma
    # separated); builds write to the primary, and queries fall back to it.
    replicas: tuple[str, ...] = field(default_factory=lambda: _env_list("QA_STORE_REPLICAS"))
    model: str | None = field(default_factory=lambda: os.environ.get("QA_MODEL") or None)
    cors_origins: tuple[str, ...] = field(default_factory=lambda: _env_list("QA_CORS_ORIGINS"))
    api_key: str | None = field(default_factory=lambda: os.environ.get("QA_API_KEY") or None)
    # Corpus files over this size are skipped, unread.
    max_file_mb: float = field(
        default_factory=lambda: _env_float("QA_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)
    )

    # An OpenAI-compatible chat endpoint that writes answers (optional; qa/answer/llm.py).
    llm_url: str | None = field(default_factory=lambda: os.environ.get("QA_LLM_URL") or None)
    llm_model: str = field(default_factory=lambda: os.environ.get("QA_LLM_MODEL") or "local")
    llm_timeout: float = field(default_factory=lambda: _env_float("QA_LLM_TIMEOUT", 60.0))

    @classmethod
    def from_command_line(cls, **options) -> Settings:
        """Settings from a command's options (those given) and QA_* variables, saying where the
        corpus came from."""
        if options.get("corpus") is not None:
            origin = "option"
        else:
            origin = "env" if os.environ.get("QA_CORPUS") else "default"
        return replace(cls().with_options(**options), corpus_from=origin)

    def with_options(self, **options) -> Settings:
        """A copy with every option that was given (not None) applied."""
        given = {k: v for k, v in options.items() if v is not None}
        store = given.pop("store", None)
        if store is not None and is_database(store):
            given["database"] = store
        elif store is not None:  # a folder, as --index names one
            given["index"], given["database"] = store, None
        for key in ("corpus", "index"):
            if key in given:
                given[key] = Path(given[key])
        return Settings(**{**self.__dict__, **given})
