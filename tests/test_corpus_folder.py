"""An index remembers the folder it was built from: a command given only `--index` uses it, and a
rebuild from another folder that would drop documents needs `--corpus` given, naming both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.surfaces.cli import app

NOTES = {
    "harbour.md": "# Harbour note\n\nThe harbour walls of Tallinn were raised again in 2016 after the storm.\n",  # fmt: skip
    "lighthouse.md": "# Lighthouse report\n\nThe Keri lighthouse was fitted with a solar lamp in 2019, says the report.\n",  # fmt: skip
}
OTHER = "# Rail note\n\nThe rail gauge in the Baltic states differs from the European standard.\n"


def qa(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def folders(tmp_path, monkeypatch) -> tuple[Path, Path, Path]:
    """An index built from its own folder (two notes), and a working folder elsewhere whose
    corpus/ holds another document; no QA_* variable set."""
    for name in ("QA_CORPUS", "QA_INDEX", "QA_STORE"):
        monkeypatch.delenv(name, raising=False)
    own = tmp_path / "reports"
    own.mkdir()
    for name, text in NOTES.items():
        (own / name).write_text(text, encoding="utf-8")
    index = tmp_path / "idx"
    built = qa("index", "--corpus", str(own), "--index", str(index))
    assert built.exit_code == 0, built.output
    work = tmp_path / "work"
    (work / "corpus").mkdir(parents=True)
    (work / "corpus" / "rail.md").write_text(OTHER, encoding="utf-8")
    monkeypatch.chdir(work)
    return own, index, work


def sources(result) -> set[str]:
    assert result.exit_code == 0, result.output
    return {hit["citation"]["source"] for hit in json.loads(result.stdout)["results"]}


def test_a_command_given_only_the_index_uses_the_folder_it_was_built_from(folders):
    own, index, _ = folders
    assert sources(qa("search", "lighthouse lamp", "--json", "--index", str(index))) == set(NOTES)
    answer = qa("ask", "When was the Keri lighthouse fitted with a solar lamp?", "--json", "--index", str(index))  # fmt: skip
    assert answer.exit_code == 0, answer.output
    cited = json.loads(answer.stdout)["citations"]
    assert cited and cited[0]["citation"]["source"] == "lighthouse.md"
    info = qa("info", "--index", str(index))
    assert info.exit_code == 0, info.output
    lines = info.stdout.splitlines()
    assert lines[0] == f"index:   {index} (fresh)"
    assert lines[1] == f"corpus:  {own.resolve()} (the folder the index was built from)"
    assert [line.split(":")[0].strip() for line in lines if line.startswith("  ")] == sorted(NOTES)


def test_qa_index_given_only_the_index_updates_it_from_its_own_folder(folders):
    own, index, _ = folders
    again = qa("index", "--index", str(index))
    assert again.exit_code == 0 and again.stdout.startswith(f"index at {index} is up to date")
    (own / "rail.md").write_text(OTHER, encoding="utf-8")
    update = qa("index", "--index", str(index))
    assert update.exit_code == 0, update.output
    assert "indexed 3 passages from 3 documents" in update.stdout


def test_a_rebuild_from_another_folder_that_would_drop_documents_needs_corpus_given(
    folders, monkeypatch
):
    own, index, work = folders
    other = work / "corpus"
    monkeypatch.setenv("QA_CORPUS", "corpus")
    refused = qa("index", "--index", str(index))
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"error: the index at {index} was built from {own.resolve()}, not {other}: rebuilding it "
        f"from {other} would drop 2 of its 2 documents (harbour.md, lighthouse.md): give "
        f"`--corpus {other}` to rebuild it from there all the same, or `--corpus {own.resolve()}`\n"
    )
    monkeypatch.delenv("QA_CORPUS")
    assert sources(qa("search", "lighthouse", "--json", "--index", str(index))) <= set(NOTES)

    rebuilt = qa("index", "--corpus", "corpus", "--index", str(index))
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (
        f"rebuilding the index at {index} from {other}, not {own.resolve()} where it was built: "
        "dropping 2 of its 2 documents (harbour.md, lighthouse.md)\n"
    ) in rebuilt.stderr
    assert sources(qa("search", "rail gauge", "--json", "--index", str(index))) == {"rail.md"}


def test_an_index_asked_with_another_folder_names_both(folders, monkeypatch):
    own, index, work = folders
    monkeypatch.setenv("QA_CORPUS", "corpus")
    result = qa("ask", "When was the lamp fitted?", "--index", str(index))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the index at {index} was built from {own.resolve()}, not {work / 'corpus'}: "
        f"give `--corpus {own.resolve()}`, or run `qa index --corpus {work / 'corpus'} --index "
        f"{index}` to rebuild it from {work / 'corpus'}\n"
    )


def test_a_rebuild_from_another_folder_that_drops_nothing_says_so(folders):
    own, index, work = folders
    bigger = work / "bigger"
    bigger.mkdir()
    for name, text in NOTES.items():
        (bigger / name).write_text(text, encoding="utf-8")
    (bigger / "rail.md").write_text(OTHER, encoding="utf-8")
    moved = qa("index", "--corpus", "bigger", "--index", str(index))
    assert moved.exit_code == 0, moved.output
    assert f"the index at {index} was built from {own.resolve()}: it is now built from {bigger}\n" in moved.stderr  # fmt: skip
    assert qa("info", "--index", str(index)).stdout.splitlines()[1] == (
        f"corpus:  {bigger.resolve()} (the folder the index was built from)"
    )
