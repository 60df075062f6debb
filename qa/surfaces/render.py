"""Terminal rendering of hits and answers with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from qa.answer.answering import Answer
from qa.search.hybrid import Hit


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _where(hit: Hit) -> str:
    c = hit.passage
    section = f"{c.section} · " if c.section else ""
    return f"{section}{c.source} [{c.start}:{c.end}]"


def print_hit(out: Console, hit: Hit, label: str, full: bool = True) -> None:
    out.print(
        f"[bold]{escape(label)}[/bold] [dim]{hit.score:.3f}[/dim]  [cyan]{escape(_where(hit))}[/cyan]"
    )
    text = hit.passage.text if full else _shorten(hit.passage.text, 60)
    out.print(Text(f"   “{text}”"))
    for note in hit.passage.endnotes:
        out.print(Text(f"   [{note.number}] {note.text}", style="dim"))


def print_hits(out: Console, hits: list[Hit]) -> None:
    if not hits:
        out.print("No passages found.")
    for hit in hits:
        print_hit(out, hit, f"{hit.rank}.")
        out.print()


def print_answer(out: Console, answer: Answer, full: bool = False, text: bool = True) -> None:
    style = "bold" if answer.answerable else "bold yellow"
    if text:
        line = Text(answer.answer, style=style)
        if answer.short_answer:  # the reader's exact span, marked inside the quoted sentence
            at = answer.answer.find(answer.short_answer.text)
            if at >= 0:
                line.stylize("reverse", at, at + len(answer.short_answer.text))
        out.print(line)
    print_checks(out, answer)
    out.print()
    heading = "Sources" if answer.answerable else "Related passages"
    if answer.citations:
        out.print(f"[underline]{heading}[/underline]")
    for marker, hit in answer.citations:
        print_hit(out, hit, f"[{marker}]", full=full or answer.answerable)


def print_checks(out: Console, answer: Answer) -> None:
    """Why a question was refused (the calibrated score and its threshold), and what the
    sentence check said of an LLM's answer: why it fell back, what it flagged."""
    s = answer.signals
    if not answer.answerable and "answer_probability" in s:
        out.print(f"[dim](best answer score {s['answer_probability']:.2f}, below the threshold of {s['threshold']:.2f})[/dim]")  # fmt: skip
    if answer.note:
        out.print(Text(answer.note, style="dim"))
    unsupported = [s for s in answer.sentences if s.get("status") == "unsupported"]
    if unsupported:
        out.print(Text("Not supported by the passages it cited (not part of the answer):", style="yellow"))  # fmt: skip
        for s in unsupported:
            out.print(Text(f"  ✗ {s['text']} (support {s['support']:.2f})", style="dim"))


def print_stream(out: Console, events) -> Answer:
    """An answer printed as it comes (`Assistant.ask_stream`), then its sources."""
    answer = None
    for item in events:
        if isinstance(item, str):
            out.print(Text(item, style="bold"), end="")
            out.file.flush()
        else:
            answer = item
    out.print()
    if answer is not None:
        print_answer(out, answer, text=False)
    return answer


def _shorten(text: str, words: int) -> str:
    parts = text.split()
    return text if len(parts) <= words else " ".join(parts[:words]) + " …"
