"""Inventory: what an index holds and whether it is stale, without loading the model."""

from __future__ import annotations

import json
from collections import Counter

from qa.embedding import DEFAULT_MODEL_NAME, resolve_model
from qa.index import CURRENT, status
from qa.settings import Settings


def describe(settings: Settings) -> dict:
    model_name = resolve_model(settings.model)[0] if settings.model else DEFAULT_MODEL_NAME
    state = status(settings.index, settings.corpus, model_name)
    report = {"index": str(settings.index), "corpus": str(settings.corpus), "status": state}
    if state == "missing":
        return report
    folder = settings.index / CURRENT
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
    counts: Counter[str] = Counter()
    with (folder / "passages.jsonl").open(encoding="utf-8") as f:
        for line in f:
            counts[json.loads(line)["source"]] += 1
    report |= {
        "model": manifest["model"]["name"],
        "dimension": manifest["model"]["dimension"],
        "built_at": manifest["built_at"],
        "max_words": manifest["chunking"]["max_words"],
        "passages": manifest["passages"],
        "documents": [
            {"source": s, "title": d["title"], "date": d["date"], "passages": counts[s]}
            for s, d in documents.items()
        ],
    }
    return report
