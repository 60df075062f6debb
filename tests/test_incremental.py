"""Incremental index: a changed, added or removed file re-embeds only that file's passages."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from qa.index import CURRENT, Index, build, fingerprint, index_text, vectors_of


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, embedder) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.embedded = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts, **options):
        self.embedded += len(texts)
        return self.inner.encode(texts, **options)


def note(title: str, *paragraphs: str) -> str:
    return f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"


def own_passages(index: Index, source: str) -> list:
    return [p for p in index.passages if p.source == source]


def test_only_changed_and_added_files_are_embedded(tmp_path, embedder):
    corpus, root = tmp_path / "corpus", tmp_path / "index"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "rail.md").write_text(note("Rail", "Gauges differ between Spain and France.", "Bridges limit the weight of tanks."))  # fmt: skip
    (corpus / "sub" / "ports.txt").write_text(note("Ports", "Rotterdam handles most of the military cargo."))  # fmt: skip
    (corpus / "air.md").write_text(note("Air", "Air tankers are scarce.", "Pilots train together."))  # fmt: skip
    counting = CountingEmbedder(embedder)

    first = build(corpus, root, counting)
    before = Index.load(root)
    assert counting.embedded == first.embedded == len(before.passages) == 5

    (corpus / "rail.md").write_text(note("Rail", "Gauges differ between Spain and France.", "Bridges limit tanks.", "Sleepers rot."))  # fmt: skip
    (corpus / "fuel.md").write_text(note("Fuel", "Pipelines carry jet fuel across the alliance."))
    (corpus / "air.md").unlink()
    counting.embedded = 0
    second = build(corpus, root, counting)
    after = Index.load(root, corpus, embedder.name)

    changed = own_passages(after, "rail.md") + own_passages(after, "fuel.md")
    assert counting.embedded == second.embedded == len(changed) == 4
    assert {p.source for p in after.passages} == {"rail.md", "fuel.md", "sub/ports.txt"}
    assert after.manifest["files"] == fingerprint(corpus)
    assert len(after.manifest["files"]["fuel.md"]) == 64  # sha256 of each file
    # The unchanged file's passages and vectors are carried over exactly.
    kept_before = [i for i, p in enumerate(before.passages) if p.source == "sub/ports.txt"]
    kept_after = [i for i, p in enumerate(after.passages) if p.source == "sub/ports.txt"]
    assert [before.passages[i] for i in kept_before] == [after.passages[i] for i in kept_after]
    assert np.array_equal(vectors_of(before)[kept_before], vectors_of(after)[kept_after])
    # Every passage's vector is the one its text gets from scratch.
    fuel = next(i for i, p in enumerate(after.passages) if p.source == "fuel.md")
    fresh = embedder.encode([index_text(after.passages[fuel])])
    assert float(vectors_of(after)[fuel] @ fresh[0]) > 0.999

    counting.embedded = 0
    assert not build(corpus, root, counting).built and counting.embedded == 0
    assert build(corpus, root, counting, rebuild=True).embedded == counting.embedded == 5


def test_info_lists_documents_with_their_passage_counts(tmp_path, embedder):
    from qa.surfaces.cli import app

    corpus, root = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "rail.md").write_text(note("Rail", "Gauges differ between Spain and France.", "Bridges limit the weight of tanks."))  # fmt: skip
    (corpus / "fuel.md").write_text(note("Fuel", "Pipelines carry jet fuel."))
    build(corpus, root, embedder)
    env = {"QA_INDEX": str(root), "QA_CORPUS": str(corpus)}
    result = CliRunner().invoke(app, ["info", "--json"], env=env)
    assert result.exit_code == 0
    documents = {d["source"]: d["passages"] for d in json.loads(result.output)["documents"]}
    assert documents == {"fuel.md": 1, "rail.md": 2}
    text = CliRunner().invoke(app, ["info"], env=env).output
    assert "rail.md: 2 passages" in text and "fuel.md: 1 passage," in text
    assert (root / CURRENT / "documents.json").is_file()
