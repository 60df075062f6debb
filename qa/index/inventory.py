"""Inventory: what an index holds and whether it is stale, without loading the model."""

from __future__ import annotations

from collections import Counter

from qa.errors import BadInput, IndexCorrupt, IndexMissing
from qa.index import layout
from qa.index.freshness import status
from qa.index.integrity import encoder_damage, verify
from qa.models.embedding import DEFAULT_MODEL_NAME, resolve_model
from qa.settings import Settings


def describe(settings: Settings) -> dict:
    model_name = resolve_model(settings.model)[0] if settings.model else DEFAULT_MODEL_NAME
    state = status(settings.index, settings.corpus, model_name)
    report = {
        "index": str(settings.index.absolute()),
        "corpus": str(settings.corpus),
        "status": state,
    }
    if state in ("missing", "corrupt"):
        return report
    folder = layout.current(settings.index)
    manifest = layout.read_manifest(folder)
    documents = layout.read_documents(folder)
    counts = Counter(record["source"] for record in layout.passage_records(folder))
    report |= {
        "built_from": manifest.get("corpus"),  # None for an index built before it was recorded
        "model": manifest["model"]["name"],
        "dimension": manifest["model"]["dimension"],
        "built_at": manifest["built_at"],
        "max_words": manifest["chunking"]["max_words"],
        "passages": manifest["passages"],
        "dense": manifest.get("dense", {"kind": "exact"}),
        "documents": [summary(s, d, counts[s]) for s, d in documents.items()],
    }
    if state == "encoder damaged":
        report["encoder"] = encoder_warning(encoder_damage(folder, manifest))
    return report


def encoder_warning(damage: str | None) -> str:
    """What `qa info` and `GET /health` say of a damaged encoder."""
    return f"the index's ONNX encoder is damaged ({damage}): run `qa index` to repair it"


def summary(source: str, record: dict, passages: int) -> dict:
    """One document as `qa info` and `GET /health` list it: source, title, date, passages, what
    extraction kept of it and, when something could not be read, a warning saying what to do."""
    row = {"source": source, "title": record["title"], "date": record["date"], "passages": passages}
    if "kept" in record:
        row["kept"] = record["kept"]
    if record.get("warning"):
        row["warning"] = record["warning"]
    return row


def kept_span(
    settings: Settings, source: str, start: int | None = None, end: int | None = None
) -> str:
    """The exact text a citation points to: `text[start:end]` of the document as the index keeps it
    (for PDF and HTML, the extracted text). A passage id (`source#n.k`) stands for its own span."""
    folder = layout.current(settings.index)
    if not layout.has_manifest(folder):
        raise IndexMissing(f"no index at {settings.index.absolute()}: run `qa index`")
    try:  # checked as a loaded index is: an altered documents.json is never shown
        verify(settings.index, folder, layout.read_manifest(folder))
        documents = layout.read_documents(folder)
    except (OSError, ValueError, AttributeError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise IndexCorrupt(
            f"index at {settings.index} is damaged ({reason}): run `qa index --rebuild`"
        ) from exc
    if source not in documents and "#" in source and start is None and end is None:
        records = layout.passage_records(folder)
        passage = next((p for p in records if p["id"] == source), None)
        if passage is None:
            raise BadInput(f"no passage {source} in the index: `qa search` shows passage ids")
        source, start, end = passage["source"], passage["start"], passage["end"]
    if source not in documents:
        raise BadInput(f"no document {source} in the index: `qa info` lists them")
    text = documents[source]["text"]
    start = 0 if start is None else start
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        raise BadInput(
            f"{source} holds {len(text)} characters: give 0 <= start <= end <= {len(text)}"
        )
    return text[start:end]
