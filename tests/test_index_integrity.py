"""Index integrity: damaged files are refused with one line, builds killed with -9 lose nothing,
and a loaded index keeps answering while another build replaces it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qa.errors import IndexCorrupt
from qa.index import CURRENT, Index, build, status
from qa.search.retrieval import Retriever
from qa.surfaces.cli import app

QUESTION = "Which NATO exercise did the Commission take part in?"


def build_files(root: Path) -> list[str]:
    """Every file of the build but its manifest and its ONNX encoder (which has its own check
    and a fallback: tests/test_onnx.py)."""
    folder = (root / CURRENT).resolve()
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "manifest.json" and p.relative_to(folder).parts[0] != "encoder"
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory, brief_index) -> Path:
    """One copy of the session index for this module; every test leaves it as it found it."""
    root = tmp_path_factory.mktemp("integrity") / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    return root


@contextmanager
def damaged(path: Path, how: str):
    original = path.read_bytes()
    try:
        if how == "truncated":
            path.write_bytes(original[: len(original) // 2])
        elif how == "altered":  # one byte, in the middle, where no parser would notice
            middle = len(original) // 2
            path.write_bytes(
                original[:middle] + bytes([original[middle] ^ 0x01]) + original[middle + 1 :]
            )
        elif how == "emptied":
            path.write_bytes(b"")
        elif how == "removed":
            path.unlink()
        yield
    finally:
        path.write_bytes(original)


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_every_file_of_a_build_has_its_checksum_in_the_manifest(copy):
    folder = (copy / CURRENT).resolve()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["checksums"]) == build_files(copy)
    for relative, digest in manifest["checksums"].items():
        assert hashlib.sha256((folder / relative).read_bytes()).hexdigest() == digest


def test_no_pickle_anywhere_in_the_index(copy):
    folder = (copy / CURRENT).resolve()
    for relative in build_files(copy):
        path = folder / relative
        data = path.read_bytes()
        assert path.suffix.lower() not in (".pkl", ".pickle", ".joblib"), relative
        # Every pickle protocol >= 2 starts with PROTO; protocols 0-1 are text or `(`/`]`-led.
        assert not (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")), (
            relative
        )
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)  # refuses object arrays, which need pickle
        elif path.suffix in (".json", ".jsonl"):
            for line in data.decode("utf-8").splitlines() if path.suffix == ".jsonl" else [data]:
                json.loads(line)
    assert any(name.startswith("lexical/") and name.endswith(".npy") for name in build_files(copy))


@pytest.mark.parametrize("how", ["truncated", "altered"])
def test_a_damaged_file_is_refused_in_one_line(copy, brief_corpus, how):
    for relative in build_files(copy):
        with damaged((copy / CURRENT).resolve() / relative, how):
            result = cli("search", "NATO", "--corpus", str(brief_corpus), "--index", str(copy))
            assert result.exit_code == 1, (relative, result.output)
            assert result.stderr == (
                f"error: index at {copy} is damaged ({relative} does not match its checksum): "
                "run `qa index --rebuild`\n"
            ), relative
            assert "Traceback" not in result.output
    assert len(Index.load(copy, brief_corpus).passages) > 0  # all restored


def test_a_missing_file_is_refused(copy, brief_corpus):
    with damaged((copy / CURRENT).resolve() / "dense.faiss", "removed"):
        result = cli("ask", "NATO?", "--corpus", str(brief_corpus), "--index", str(copy))
    assert result.exit_code == 1
    assert result.stderr.endswith("(dense.faiss is missing): run `qa index --rebuild`\n")


@pytest.mark.parametrize("how", ["truncated", "altered", "emptied"])
def test_a_damaged_manifest_is_refused_in_one_line(copy, brief_corpus, how):
    with damaged((copy / CURRENT).resolve() / "manifest.json", how):
        result = cli("search", "NATO", "--corpus", str(brief_corpus), "--index", str(copy))
        info = cli("info", "--corpus", str(brief_corpus), "--index", str(copy))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: index at {copy} ")
    assert result.stderr.endswith("run `qa index --rebuild`\n") and result.stderr.count("\n") == 1
    assert info.exit_code == 1 and "qa index --rebuild" in info.stdout  # damaged


def test_a_manifest_without_checksums_is_refused(copy, brief_corpus):
    path = (copy / CURRENT).resolve() / "manifest.json"
    original = path.read_text()
    manifest = json.loads(original)
    del manifest["checksums"]
    try:
        path.write_text(json.dumps(manifest))
        with pytest.raises(IndexCorrupt, match=r"has no checksums: run `qa index --rebuild`"):
            Index.load(copy, brief_corpus)
    finally:
        path.write_text(original)


def test_qa_index_rebuilds_a_damaged_index(tmp_path, brief_index, brief_corpus, embedder):
    root = tmp_path / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    passages = (root / CURRENT).resolve() / "passages.jsonl"
    passages.write_bytes(passages.read_bytes().replace(b"Steadfast Duel 24", b"Steadfast Duel 25"))
    assert status(root, brief_corpus, embedder.name) == "corrupt"
    report = build(brief_corpus, root, embedder)  # not "up to date": damaged
    assert report.built and report.reason == "the old one was damaged"
    assert report.embedded == report.passages  # nothing carried over from the damaged build
    assert status(root, brief_corpus, embedder.name) == "fresh"
    assert "Steadfast Duel 24" in ((root / CURRENT) / "passages.jsonl").read_text()


def test_a_loaded_index_keeps_answering_after_a_build_removes_its_files(
    tmp_path, brief_index, brief_corpus, embedder
):
    from qa.models.onnx_embedding import load_embedder

    corpus = tmp_path / "corpus"
    shutil.copytree(brief_corpus, corpus)
    root = tmp_path / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    index = Index.load(root, corpus)
    encoder = load_embedder(index.folder)  # the ONNX encoder a server would use
    before = [h.to_dict() for h in Retriever(index, encoder).search(QUESTION, 5)]

    (corpus / "extra.md").write_text("# Extra\n\nThe Baltic states host NATO battlegroups.\n")
    build(corpus, root, embedder)  # what `qa index` beside a running server does
    assert not index.folder.exists()  # the build it was loaded from is gone

    after = [h.to_dict() for h in Retriever(index, encoder).search(QUESTION, 5)]
    assert after == before
    assert "Steadfast Duel 24" in after[0]["text"]
    # Until it reloads: then it has the new build.
    fresh = Index.load(root, corpus)
    assert fresh.folder != index.folder
    assert len(fresh.passages) > len(index.passages)


# kill -9 during `qa index --rebuild` ------------------------------------------------------------


def _start_build(corpus: Path, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa",
            "index",
            "--rebuild",
            "--corpus",
            str(corpus),
            "--index",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )


def _kill_when(process: subprocess.Popen, ready, timeout: float = 120) -> str:
    """Kill -9 the build once ready() holds; say what it had reached."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            return "finished first"
        if time.monotonic() > deadline:
            break
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return "killed"


def test_a_build_killed_at_any_point_leaves_a_working_index(
    tmp_path, brief_index, brief_corpus, embedder
):
    corpus = tmp_path / "corpus"
    shutil.copytree(brief_corpus, corpus)
    root = tmp_path / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    good = Index.load(root, corpus)
    expected = [h.to_dict() for h in Retriever(good, embedder).search(QUESTION, 3)]

    def staging() -> bool:
        return any(p.name.startswith(".tmp-") for p in root.iterdir())

    # Each run loads the model, so the runs are few: three timed kills (during start-up and the
    # model load) and one while the new build's files are being written, the riskiest moment.
    moments = [
        ("after 0.5 s", None, 0.5),
        ("after 2 s", None, 2.0),
        ("after 4 s", None, 4.0),
        ("while writing the new build", staging, None),
    ]
    outcomes = []
    for label, ready, seconds in moments:
        process = _start_build(corpus, root)
        if seconds is not None:
            time.sleep(seconds)
            process.send_signal(signal.SIGKILL)
            process.wait()
            outcome = "killed"
        else:
            outcome = _kill_when(process, ready)
        outcomes.append((label, outcome))
        # Whatever the moment, the index in place loads, is complete, and answers as before.
        index = Index.load(root, corpus)
        assert len(index.passages) == len(good.passages), label
        got = [h.to_dict() for h in Retriever(index, embedder).search(QUESTION, 3)]
        assert got == expected, label
        good = index
    assert outcomes[3] == ("while writing the new build", "killed"), outcomes
    assert staging()  # the killed build's half-written folder is still there

    # Debris of killed builds does not get in the way, and the next `qa index` clears it.
    report = build(corpus, root, embedder)
    assert report.reason == "up to date"
    left = sorted(p.name for p in root.iterdir())
    assert [n for n in left if n.startswith(("build-", ".tmp-", f".{CURRENT}-"))] == [
        (root / CURRENT).resolve().name
    ], left
    assert [
        h.to_dict() for h in Retriever(Index.load(root, corpus), embedder).search(QUESTION, 3)
    ] == expected


ENCODER_FILES = [
    "encoder/encoder.json",
    "encoder/model.onnx",
    "encoder/model.weights",
    "encoder/tokenizer.json",
]


def test_every_encoder_file_has_its_checksum_in_the_manifest(copy):
    folder = (copy / CURRENT).resolve()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["encoder"]) == ENCODER_FILES
    for relative, digest in manifest["encoder"].items():
        assert hashlib.sha256((folder / relative).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("relative", ENCODER_FILES)
def test_a_damaged_encoder_is_named_by_info_and_health_and_repaired_by_qa_index(
    tmp_path, brief_index, brief_corpus, embedder, relative
):
    from fastapi.testclient import TestClient

    from qa.answer.assistant import Assistant
    from qa.settings import Settings
    from qa.surfaces.server import create_app

    root = tmp_path / "index"
    shutil.copytree(brief_index, root, symlinks=True)
    before = (root / CURRENT).resolve()
    passages = (before / "passages.jsonl").read_bytes()
    target = before / relative
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    warning = (
        f"the index's ONNX encoder is damaged ({relative} does not match its checksum): "
        "run `qa index` to repair it"
    )
    where = ("--corpus", str(brief_corpus), "--index", str(root))

    info = cli("info", *where)
    assert info.exit_code == 1  # damaged: said, with what to run
    assert info.stdout.splitlines()[0] == f"index:   {root} (encoder damaged)"
    assert f"warning: {warning}\n" in info.stdout

    settings = Settings(corpus=brief_corpus, index=root, cors_origins=(), api_key=None)
    with TestClient(create_app(settings, Assistant(settings, embedder))) as client:
        health = client.get("/health").json()
    assert health["status"] == "ok" and health["warning"] == warning

    repair = cli("index", *where)
    assert repair.exit_code == 0, repair.output
    assert repair.stdout.startswith(f"repaired the ONNX encoder of the index at {root} in ")
    after = (root / CURRENT).resolve()
    assert after != before and not before.exists()  # a new build, swapped in whole
    assert (after / "passages.jsonl").read_bytes() == passages  # nothing embedded again
    assert status(root, brief_corpus, embedder.name) == "fresh"
    assert cli("info", *where).stdout.splitlines()[0] == f"index:   {root} (fresh)"
    again = cli("index", *where)
    assert again.stdout.startswith(f"index at {root} is up to date")
    with TestClient(create_app(settings, Assistant(settings, embedder))) as client:
        assert "warning" not in client.get("/health").json()


def test_qa_show_refuses_an_edited_documents_json_as_qa_ask_does(copy, brief_corpus):
    """`sed -i 's/June 19, 2025/June 18, 2025/' INDEX/current/documents.json`: same size, valid
    JSON, only the text a citation points to changed."""
    path = (copy / CURRENT).resolve() / "documents.json"
    original = path.read_text(encoding="utf-8")
    assert "June 19, 2025" in original
    where = ("--index", str(copy))
    shown = cli("show", "eu-nato-relationship.txt", *where)
    assert shown.exit_code == 0 and "June 19, 2025" in shown.stdout
    try:
        path.write_text(original.replace("June 19, 2025", "June 18, 2025"), encoding="utf-8")
        show = cli("show", "eu-nato-relationship.txt", *where)
        passage = cli("show", "eu-nato-relationship.txt#1.1", *where)
        ask = cli("ask", "When was the brief published?", "--corpus", str(brief_corpus), *where)
    finally:
        path.write_text(original, encoding="utf-8")
    said = (
        f"error: index at {copy} is damaged (documents.json does not match its checksum): "
        "run `qa index --rebuild`\n"
    )
    assert (show.exit_code, show.stdout, show.stderr) == (1, "", said)
    assert (passage.exit_code, passage.stderr) == (1, said)
    assert (ask.exit_code, ask.stderr) == (1, said)
