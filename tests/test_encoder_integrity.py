"""A damaged encoder is never used silently: 1 MiB flipped in the middle of its weights, the size
kept (a model that still loads and passes its probe self-test), is caught by its checksums;
queries fall back to the model itself with a notice, `qa info` exits 1, /health warns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qa.errors import QAError
from qa.index import CURRENT
from qa.models.checksums import installed_checksums
from qa.models.embedding import DEFAULT_MODEL_NAME, Embedder
from qa.models.onnx_embedding import (
    ENCODER_DIR,
    WEIGHTS,
    EncoderUnavailable,
    OnnxEmbedder,
    load_embedder,
)
from qa.surfaces.cli import app

QUESTION = "Which NATO exercise did the Commission take part in?"
MIB = 1 << 20


def flip_a_mib(path: Path) -> None:
    """Invert 1 MiB in the middle of a file, keeping its size."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 - MIB // 2
    data[middle : middle + MIB] = bytes(b ^ 0xFF for b in data[middle : middle + MIB])
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, brief_index) -> Path:
    """A copy of the session's index whose encoder weights have 1 MiB flipped."""
    root = tmp_path_factory.mktemp("damaged") / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    weights = root / CURRENT / ENCODER_DIR / WEIGHTS
    size = weights.stat().st_size
    flip_a_mib(weights)
    assert weights.stat().st_size == size
    return root


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_the_damage_passes_the_probe_self_test_but_not_the_checksums(damaged):
    encoder = OnnxEmbedder(damaged / CURRENT / ENCODER_DIR)  # loads, and its probes agree
    with pytest.raises(EncoderUnavailable, match=r"is damaged \(model.weights does not match its checksum\)$"):  # fmt: skip
        encoder.verify()
    with pytest.raises(EncoderUnavailable):
        encoder.encode([QUESTION])  # no fallback given: nothing is encoded with it


def test_queries_fall_back_to_the_model_with_a_notice(damaged, embedder, capsys):
    encoder = load_embedder(damaged / CURRENT)
    vectors = encoder.encode([QUESTION, "rail gauges"])
    notice = capsys.readouterr().err.splitlines()
    assert len(notice) == 1 and notice[0].startswith("notice: encoder in "), notice
    assert "is damaged (model.weights does not match its checksum); using sentence-transformers instead" in notice[0]  # fmt: skip
    assert float((vectors * embedder.encode([QUESTION, "rail gauges"])).sum(axis=1).min()) > 0.9999
    encoder.encode([QUESTION])
    assert capsys.readouterr().err == ""  # said once


def test_qa_search_on_a_damaged_encoder_says_so_and_ranks_as_the_model_does(
    damaged, brief_index, brief_corpus
):
    sound = cli("search", QUESTION, "--json", "--corpus", str(brief_corpus), "--index", str(brief_index))  # fmt: skip
    result = cli("search", QUESTION, "--json", "--corpus", str(brief_corpus), "--index", str(damaged))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "is damaged (model.weights does not match its checksum)" in result.stderr
    ours, theirs = json.loads(result.stdout)["results"], json.loads(sound.stdout)["results"]
    assert [r["citation"]["id"] for r in ours] == [r["citation"]["id"] for r in theirs]
    assert [r["score"] for r in ours] == pytest.approx([r["score"] for r in theirs], abs=1e-4)


def test_qa_info_exits_1_on_a_damaged_encoder(damaged, brief_corpus):
    result = cli("info", "--corpus", str(brief_corpus), "--index", str(damaged))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"index:   {damaged} (encoder damaged)"
    warning = (
        "warning: the index's ONNX encoder is damaged (encoder/model.weights does not match "
        "its checksum): run `qa index` to repair it"
    )
    assert warning in result.stdout.splitlines()
    as_json = cli("info", "--json", "--corpus", str(brief_corpus), "--index", str(damaged))
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["status"] == "encoder damaged"


def test_the_server_never_ranks_with_a_damaged_encoder(damaged, brief_corpus, assistant):
    from qa.answer.assistant import Assistant
    from qa.settings import Settings
    from qa.surfaces.server import create_app

    settings = Settings(corpus=brief_corpus, index=damaged, cors_origins=(), api_key=None)
    with TestClient(create_app(settings, Assistant(settings))) as client:
        health = client.get("/health").json()
        found = client.post("/search", json={"query": QUESTION}).json()["results"]
    assert "encoder/model.weights does not match its checksum" in health["warning"]
    expected = [h.passage.id for h in assistant.search(QUESTION, 5)]
    assert [r["citation"]["id"] for r in found] == expected


def test_a_damaged_model_is_refused_before_it_loads(tmp_path):
    """The model package's own files, checked against the sha256 pip recorded at install: a
    copy stands in for the installed folder, which the test never touches."""
    installed = Embedder().path.resolve()
    expected = installed_checksums(DEFAULT_MODEL_NAME, installed)
    assert "model.safetensors" in expected
    copy = tmp_path / "model"
    shutil.copytree(installed, copy)
    flip_a_mib(copy / "model.safetensors")
    with pytest.raises(QAError, match=r"is damaged \(model.safetensors does not match its checksum\): reinstall it"):  # fmt: skip
        Embedder(str(copy), expected).encode([QUESTION])
