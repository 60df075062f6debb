"""The CLI through Typer's CliRunner: exact output shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.surfaces.cli import app
from qa.surfaces.render import apart


@pytest.fixture
def run(brief_corpus, brief_index, monkeypatch):
    monkeypatch.setenv("QA_CORPUS", str(brief_corpus))
    monkeypatch.setenv("QA_INDEX", str(brief_index))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_search_json_is_the_contracts_passages(run, brief_corpus):
    result = run(
        "search", "Which NATO exercise did the Commission take part in?", "-k", "3", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"].startswith("Which NATO exercise")
    assert [r["rank"] for r in data["results"]] == [1, 2, 3]
    top = data["results"][0]
    assert "Steadfast Duel 24" in top["text"]
    c = top["citation"]
    assert c["id"].startswith("eu-nato-relationship.txt#")
    assert c["endnotes"][0]["number"] == 7
    text = (brief_corpus / c["source"]).read_text(encoding="utf-8")
    assert text[c["start"] : c["end"]] == top["text"]


def test_search_prints_rank_score_section_passage_and_endnotes(run):
    result = run("search", "lack of funding for military mobility", "-k", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. ") and "Challenges · eu-nato-relationship.txt [" in lines[0]
    assert lines[1].startswith("   “Additionally, internal EU problems")
    assert (
        lines[2]
        == "   [12] Mihai Chihaia, “Military Mobility a Critical Enabler,” ICDS, 27 May 2025."
    )


def test_ask_prints_answer_then_sources(run):
    result = run("ask", "When was the latest joint declaration published?")
    assert result.exit_code == 0
    assert result.stdout.startswith("The latest joint declaration was published in 2023. [1]")
    assert "Sources" in result.stdout and "[1] " in result.stdout


def test_ask_json_refusal(run):
    result = run("ask", "What is the population of Estonia?", "--json")
    data = json.loads(result.stdout)
    assert data["answerable"] is False
    assert data["answer"] == "The corpus does not answer this question."
    assert data["short_answer"] is None
    assert data["signals"]["answer_probability"] < data["signals"]["threshold"]


def test_ask_json_short_answer_is_exact(run, brief_corpus):
    result = run("ask", "How many joint EU and NATO proposals were identified in 2016 and 2017?", "--json")  # fmt: skip
    short = json.loads(result.stdout)["short_answer"]
    text = (brief_corpus / short["source"]).read_text(encoding="utf-8")
    assert text[short["start"] : short["end"]] == short["text"] == "74"


def test_ask_refusal_says_why(run):
    question = "What is the population of Estonia?"
    signals = json.loads(run("ask", question, "--json").stdout)["signals"]
    score, threshold = apart(signals["answer_probability"], signals["threshold"])
    result = run("ask", question)
    assert f"(best answer score {score}, below the threshold of {threshold})" in result.stdout


def test_a_refusal_for_want_of_a_figure_says_so_not_that_the_score_was_low(run):
    question = "What is the cost of the European Defence Industrial Strategy and Programme?"
    data = json.loads(run("ask", question, "--json").stdout)
    assert data["answerable"] is False and data["signals"]["reason"] == "no figure stated", data
    result = run("ask", question)
    assert "state no figure, and the question asks for one" in result.stdout
    assert "below the threshold" not in result.stdout


@pytest.mark.parametrize(
    ("score", "threshold", "shown"),
    [
        (0.0681, 0.07, ("0.068", "0.070")),
        (0.06996, 0.07, ("0.06996", "0.07000")),
        (0.031, 0.07, ("0.03", "0.07")),
    ],
)
def test_a_score_is_shown_apart_from_the_threshold_it_fell_below(score, threshold, shown):
    assert apart(score, threshold) == shown


def test_info_reports_documents_and_freshness(run):
    result = run("info")
    assert result.exit_code == 0
    assert "(fresh)" in result.stdout
    assert "eu-nato-relationship.txt:" in result.stdout and "Hague Summit Series" in result.stdout


def test_index_says_when_there_is_nothing_to_do(run):
    result = run("index")
    assert result.exit_code == 0
    assert "is up to date" in result.stdout


def test_missing_index_is_one_line_and_exit_1(tmp_path, brief_corpus):
    result = CliRunner().invoke(
        app,
        ["search", "anything", "--index", str(tmp_path / "none"), "--corpus", str(brief_corpus)],
    )
    assert result.exit_code == 1
    assert result.stderr == f"error: no index at {tmp_path / 'none'}: run `qa index`\n"


@pytest.mark.parametrize("module", ["qa", "qa.surfaces.cli"])
@pytest.mark.parametrize("command", [["info"], ["ask", "What is NATO?"]])
def test_python_m_runs_the_cli_and_a_missing_index_is_named_absolutely(tmp_path, module, command):
    """`python -m qa` and `python -m qa.surfaces.cli` are the CLI; with the default (relative)
    index missing, `qa info` and `qa ask` say where it was looked for, in one line, exit 1."""
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-m", module, *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr == f"error: no index at {tmp_path / 'index'}: run `qa index`\n"
    assert out.stdout == ""


def test_a_new_build_says_the_same_counts_throughout(tmp_path):
    """A report saved twice (same title, same text) is embedded once: the announcement, the
    progress bar and the summary give the same figure, say why the passages are more, and claim
    no reuse on a new build."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    report = "---\ntitle: Lighthouse report\n---\n\nThe Saaremaa lighthouse was relit in 1998.\n"
    (corpus / "report.md").write_text(report)
    (corpus / "report copy.md").write_text(report)
    (corpus / "other.md").write_text("# Ferries\n\nThe ferry to Muhu leaves every hour.\n")
    (corpus / "word.txt").write_text("Lighthouses.\n")
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "embedding 3 passages from 4 documents (and 1 word-for-word repeat, not embedded again)" in result.stderr  # fmt: skip
    assert "| 3/3 [" in result.stderr  # the progress bar counts what is embedded
    assert "word.txt: kept 1 word\n" in result.stderr
    assert result.stdout.startswith("indexed 4 passages from 4 documents into ")
    assert result.stdout.rstrip().endswith("(new; 3 embedded, 1 word-for-word repeat not embedded again)")  # fmt: skip

    (corpus / "other.md").write_text("# Ferries\n\nThe ferry to Muhu leaves every other hour.\n")
    result = CliRunner().invoke(app, args)
    assert result.stdout.rstrip().endswith("(corpus or model changed; 1 embedded, 3 unchanged files reused)")  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert "is up to date (4 passages); nothing to do" in result.stdout
    result = CliRunner().invoke(app, ["info", *args[1:]])
    assert "  word.txt: 1 passage, 1 word — (untitled) (no date)\n" in result.stdout


def test_empty_corpus_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "c").mkdir()
    result = CliRunner().invoke(
        app, ["index", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i")]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no ") and result.stderr.count("\n") == 1


def test_bad_usage_exits_2(run):
    assert run("search", "x", "--no-such-option").exit_code == 2
    assert run("search", "x", "-k", "many").exit_code == 2


def test_empty_question_is_exit_1(run):
    result = run("ask", "   ")
    assert result.exit_code == 1
    assert result.stderr == "error: the question is empty: type a question\n"


def test_help_does_not_import_torch():
    code = "import sys; from qa.surfaces.cli import app; from typer.testing import CliRunner; CliRunner().invoke(app, ['--help']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_chat_over_stdin(brief_corpus, brief_index):
    session = "/help\nWhen was the latest joint declaration published?\n/sources\n/bogus\n"
    env = {
        "QA_CORPUS": str(brief_corpus),
        "QA_INDEX": str(brief_index),
        "HF_HUB_OFFLINE": "1",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-m", "qa", "chat"],
        input=session,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "/sources   show the last answer's passages in full" in out.stdout
    assert "The latest joint declaration was published in 2023. [1]" in out.stdout
    assert "Sources" in out.stdout  # /sources shows the passages in full
    assert "Unknown command /bogus" in out.stdout


def test_unknown_source_is_named(run):
    result = run("search", "anything", "--source", "nope.txt")
    assert result.exit_code == 1
    assert result.stderr == "error: no document 'nope.txt' in the index: `qa info` lists them\n"
