"""Document text is data: every terminal surface prints it as it stands, whatever it holds."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from qa.answer.answering import Answer
from qa.answer.quoting import ShortAnswer
from qa.ingest.documents import Endnote
from qa.ingest.passages import Passage
from qa.search.hybrid import Hit
from qa.surfaces.render import print_answer, print_hits, print_reply, print_stream

# What markup languages would read: Rich tags, links, escapes, HTML, Markdown, emoji codes.
MARKUP = [
    "[and]", "[/b]", "[b]", "[link=http://x]", "[link]", "[/]", "\\[", "\\", "[1]", "[bold red]",
    "<b>", "</b>", "<script>", "**", "__", "`", ":smile:", "&amp;", "[[x]]", "]", "[",
]  # fmt: skip
# Any character a document can hold, less control characters (ingest keeps none but newlines).
CHARS = st.characters(blacklist_categories=("Cc", "Cs"))
PIECES = st.one_of(st.sampled_from(MARKUP), st.text(CHARS, min_size=1, max_size=8))
DOCUMENT_TEXT = st.lists(PIECES, min_size=1, max_size=12).map("".join).filter(str.strip)
WORDS = st.text(CHARS, min_size=1, max_size=20).filter(str.strip)


def rendered(draw) -> str:
    out = Console(file=io.StringIO(), width=80, soft_wrap=True, highlight=False, color_system=None)
    draw(out)
    return out.file.getvalue()


def hit_of(text: str, title: str, section: str, source: str, note: str) -> Hit:
    passage = Passage(
        id=f"{source}#1.1", source=source, start=10, end=10 + len(text), text=text,
        section=section, paragraph=1, endnotes=(Endnote(1, note, 0, len(note)),), title=title, date=None,
    )  # fmt: skip
    return Hit(passage, score=0.5, rank=1, dense=0.5, lexical=0.5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT_TEXT, WORDS, WORDS, WORDS, DOCUMENT_TEXT, st.booleans())
def test_every_terminal_surface_prints_document_text_verbatim(
    text: str, title: str, section: str, source: str, note: str, answerable: bool
) -> None:
    hit = hit_of(text, title, section, source, note)
    short = ShortAnswer(text.strip()[:5], source, 10, 15) if text.strip() else None
    answer = Answer(
        question=text, answer=f"{text} [1]", answerable=answerable,
        citations=[(1, hit)], short_answer=short, query_used=f"{text}?",
    )  # fmt: skip
    surfaces = {
        "qa search": lambda out: print_hits(out, [hit]),
        "qa ask": lambda out: print_answer(out, answer),
        "qa ask (a terminal)": lambda out: print_stream(out, iter([answer.answer, answer])),
        "qa chat": lambda out: print_reply(out, answer),
        "qa chat /sources": lambda out: print_answer(out, answer, full=True),
    }
    for name, draw in surfaces.items():
        shown = rendered(draw)
        assert f"{text} [1]" in shown if name != "qa search" else text in shown, name
        if name in ("qa search", "qa chat /sources", "qa ask"):
            for part in (title, section, source, note):
                assert part in shown, (name, part)


def test_a_streamed_answer_marks_its_short_answer() -> None:
    hit = hit_of("The lens was made in 1902 by Chance Brothers.", "T", "S", "a.txt", "n")
    answer = Answer(
        "When?", "The lens was made in 1902 by Chance Brothers. [1]", True, [(1, hit)],
        short_answer=ShortAnswer("1902", "a.txt", 31, 35),
    )  # fmt: skip
    out = Console(file=io.StringIO(), width=120, force_terminal=True, color_system="standard")
    print_stream(out, iter([answer.answer, answer]))
    shown = out.file.getvalue()
    # The year in reverse video (SGR 7) inside the bold sentence, not the whole line in one style.
    assert "\x1b[1;7m1902\x1b[0m" in shown, repr(shown)
    assert "\x1b[1mThe lens was made in \x1b[0m" in shown, repr(shown)


# A document whose sentences hold what Rich markup would eat or choke on.
NASTY = (
    "The allies agreed on reducing nuclear-related risks [and] promoting transparency in 2024.\n\n"
    "The lighthouse keepers wrote [/b] in the margin of the Saaremaa logbook in 1902.\n"
)


@pytest.mark.skipif(shutil.which("true") is None, reason="needs a shell")
def test_qa_chat_and_ask_quote_a_nasty_document_verbatim(tmp_path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "[b]notes.txt").write_text(NASTY, encoding="utf-8")
    env_args = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]

    def qa(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "qa", *args], input=stdin, capture_output=True, text=True,
            timeout=300, cwd=tmp_path,
        )  # fmt: skip

    assert qa("index", *env_args).returncode == 0
    chat = qa(
        "chat", *env_args,
        stdin="What did the keepers write in the margin of the logbook?\n/sources\n",
    )  # fmt: skip
    assert chat.returncode == 0, chat.stderr
    assert "Traceback" not in chat.stderr and "MarkupError" not in chat.stderr
    assert "wrote [/b] in the margin" in chat.stdout
    assert "[b]notes.txt" in chat.stdout
    search = qa("search", "risks and promoting transparency", *env_args)
    assert "risks [and] promoting" in search.stdout, search.stdout


@settings(max_examples=200, deadline=None)
@given(DOCUMENT_TEXT, WORDS, st.data())
def test_the_document_page_shows_any_text_verbatim_and_escaped(text, title, data) -> None:
    import html
    import re

    from qa.surfaces.documents import page

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    shown = page("a.txt", {"text": text, "title": title, "date": None}, start, end)
    body = re.search(r'<div class="qa-document-text">(.*)</div></main>', shown, re.S).group(1)
    marked = re.fullmatch(r'(.*)<mark id="cited"[^>]*>(.*)</mark>(.*)', body, re.S)
    assert [html.unescape(part) for part in marked.groups()] == [text[:start], text[start:end], text[end:]]  # fmt: skip
    assert "<" not in "".join(marked.groups())  # no tag of the document's survives as a tag
    assert f'<h1 class="qa-document-title">{html.escape(title)}</h1>' in shown


def test_a_section_named_as_its_document_is_said_once():
    """Text before a report's first heading is in a section named by its title: the terminal
    names the document once ("Defense Primer: U.S. Space Force · IF12610.6.pdf [0:40]")."""
    title = "Defense Primer: U.S. Space Force"
    once = rendered(lambda out: print_hits(out, [hit_of("Some text.", title, title, "r.pdf", "n")]))
    assert once.count(title) == 1 and f"{title} · r.pdf [10:20]" in once
    other = rendered(lambda out: print_hits(out, [hit_of("Some text.", title, "Budget", "r.pdf", "n")]))  # fmt: skip
    assert f"{title} · Budget · r.pdf [10:20]" in other
