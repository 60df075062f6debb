"""Terminal rendering of hits and answers with rich.

Document text (passages, answers, titles, file names) is data: it goes out as `rich.text.Text`,
never inside a markup string, so that "[and]" or "[/b]" in a quote is printed as it stands.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from qa.answer.answering import Answer
from qa.search.hybrid import Hit


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _where(hit: Hit) -> str:
    """Which document (its title, then its file) and where in it."""
    c = hit.passage
    title = f"{c.title} · " if c.title else ""
    section = f"{c.section} · " if c.section and c.section != c.title else ""  # not said twice
    return f"{title}{section}{c.source} [{c.start}:{c.end}]"


def print_hit(out: Console, hit: Hit, label: str, full: bool = True) -> None:
    head = Text(label, style="bold")
    head.append(f" {hit.score:.3f}", style="dim").append("  ").append(_where(hit), style="cyan")
    out.print(head)
    text = hit.passage.text if full else _shorten(hit.passage.text, 60)
    out.print(Text(f"   “{text}”"))
    if hit.also_in:  # the same passage in other files (a report saved as PDF and as web page)
        out.print(Text(f"   also in {also_in(hit)}", style="dim"))
    for note in hit.passage.endnotes:
        out.print(Text(f"   [{note.number}] {note.text}", style="dim"))


def also_in(hit: Hit) -> str:
    """The other files that hold a hit's passage, each once, in rank order."""
    return ", ".join(dict.fromkeys(p.source for p in hit.also_in))


def print_hits(out: Console, hits: list[Hit]) -> None:
    if not hits:
        out.print("No passages found.")
    for hit in hits:
        print_hit(out, hit, f"{hit.rank}.")
        out.print()


def print_answer(out: Console, answer: Answer, full: bool = False, text: bool = True) -> None:
    if text:
        out.print(answer_line(answer))
    print_checks(out, answer)
    out.print()
    heading = "Sources" if answer.answerable else "Related passages"
    if answer.citations:
        out.print(Text(heading, style="underline"))
    for marker, hit in answer.citations:
        print_hit(out, hit, f"[{marker}]", full=full or answer.answerable)


def answer_line(answer: Answer) -> Text:
    """The answer as text, with the reader's exact span (the short answer) marked inside it."""
    line = Text(answer.answer, style="bold" if answer.answerable else "bold yellow")
    if answer.short_answer:
        at = answer.answer.find(answer.short_answer.text)
        if at >= 0:
            line.stylize("reverse", at, at + len(answer.short_answer.text))
    return line


def print_reply(out: Console, answer: Answer) -> None:
    """One turn of `qa chat`: the answer, what the checks said, and how to read its sources."""
    if answer.query_used and answer.query_used != answer.question:
        out.print(Text(f"(searched for: {answer.query_used})", style="dim"))
    out.print(answer_line(answer))
    print_checks(out, answer)
    out.print(Text(f"{len(answer.citations)} source(s): /sources to read them", style="dim"))


def apart(score: float, threshold: float) -> tuple[str, str]:
    """A score and the threshold it fell below, to as few places (two at least) as tell them
    apart: 0.068 and 0.070, never 0.07 and 0.07. widget.js `apart` does the same on the page."""
    for places in range(2, 7):
        shown = f"{score:.{places}f}", f"{threshold:.{places}f}"
        if shown[0] != shown[1]:
            break
    return shown


# A refusal of "when?" or "how many?" whose likeliest sentences state no time or figure
# (qa.answer.answering.lacks); widget.js `refusalReason` says the same.
STATES_NONE = {
    "no date stated": "the passages that might answer state no time, and the question asks when",
    "no figure stated": "the passages that might answer state no figure, and the question asks for one",  # fmt: skip
}


def print_checks(out: Console, answer: Answer) -> None:
    """Why a question was refused (the calibrated score and its threshold), and what the
    sentence check said of an LLM's answer: why it fell back, what it flagged."""
    s = answer.signals
    if answer.near_miss:  # it would have answered, but of another year or figure
        miss = answer.near_miss
        found = f"; they state {miss['found']}" if miss["found"] else ""
        out.print(Text(f"(a near miss: the passages never state {miss['asked']}{found})", style="dim"))  # fmt: skip
    elif not answer.answerable and s.get("reason") in STATES_NONE:  # however likely the sentence
        out.print(Text(f"({STATES_NONE[s['reason']]})", style="dim"))
    elif not answer.answerable and "answer_probability" in s:
        score, threshold = apart(s["answer_probability"], s["threshold"])
        out.print(Text(f"(best answer score {score}, below the threshold of {threshold})", style="dim"))  # fmt: skip
    if answer.reading:  # a follow-up read one way where another reading answered otherwise
        out.print(Text(f"({answer.reading})", style="dim"))
    if answer.note:
        out.print(Text(answer.note, style="dim"))
    unsupported = [s for s in answer.sentences if s.get("status") == "unsupported"]
    if unsupported:
        out.print(Text("Not supported by the passages it cited (not part of the answer):", style="yellow"))  # fmt: skip
        for s in unsupported:
            out.print(Text(f"  ✗ {s['text']} (support {s['support']:.2f})", style="dim"))


def print_stream(out: Console, events) -> Answer | None:
    """An answer printed as it comes (`Assistant.ask_stream`), then its sources.

    Each piece is printed when the next item arrives, so that the last one is printed with the
    whole Answer in hand and carries its highlights (the short answer); an extractive answer
    comes as one piece followed at once by its Answer, so it is never held back.
    """
    answer, printed, held = None, 0, ""
    for item in events:
        if not isinstance(item, str):
            answer = item
            break
        if held:
            out.print(Text(held, style="bold"), end="")
            out.file.flush()
            printed += len(held)
        held = item
    if answer is not None and answer.answer.startswith(answer.answer[:printed]):
        out.print(answer_line(answer)[printed:], end="")
    elif held:
        out.print(Text(held, style="bold"), end="")
    out.print()
    if answer is not None:
        print_answer(out, answer, text=False)
    return answer


def _shorten(text: str, words: int) -> str:
    parts = text.split()
    return text if len(parts) <= words else " ".join(parts[:words]) + " …"
