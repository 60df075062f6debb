"""What a newcomer meets first: `qa --help`, and the README's commands as written."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from qa.surfaces.cli import app


def test_help_gives_flags_no_type_and_keeps_every_hint():
    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    assert re.search(r"(?m)^  --help\s+Show this message and exit\.$", top.stdout)
    for command in ("search", "ask", "index", "serve", "info", "eval"):
        shown = runner.invoke(app, [command, "--help"]).stdout
        assert "<bool>" not in shown, command
        hint = "[env QA_CORPUS; default: the folder the index was built from, else corpus]"
        assert hint in " ".join(shown.split()), command  # not eaten as markup (wrapped, maybe)
    search = runner.invoke(app, ["search", "--help"]).stdout
    assert re.search(r"(?m)^  --json\s+Print JSON instead of text$", search)
    assert "QUESTION" in search and "-k, --top-k <int>" in search
