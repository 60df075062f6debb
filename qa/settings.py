"""Settings: where the corpus, the index and the model are, from options or QA_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in os.environ.get(name, "").split(",") if x.strip())


@dataclass(frozen=True)
class Settings:
    corpus: Path = field(default_factory=lambda: Path(os.environ.get("QA_CORPUS", "corpus")))
    index: Path = field(default_factory=lambda: Path(os.environ.get("QA_INDEX", "index")))
    model: str | None = field(default_factory=lambda: os.environ.get("QA_MODEL") or None)
    cors_origins: tuple[str, ...] = field(default_factory=lambda: _env_list("QA_CORS_ORIGINS"))
    api_key: str | None = field(default_factory=lambda: os.environ.get("QA_API_KEY") or None)

    def with_options(self, **options) -> Settings:
        """A copy with every option that was given (not None) applied."""
        given = {k: v for k, v in options.items() if v is not None}
        for key in ("corpus", "index"):
            if key in given:
                given[key] = Path(given[key])
        return Settings(**{**self.__dict__, **given})
