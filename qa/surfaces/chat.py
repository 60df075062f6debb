"""`qa chat`: an interactive session in the terminal, with line editing and history."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.text import Text

from qa.answer.conversation import MAX_ANSWER_CHARS, MAX_TURN_CHARS, MAX_TURNS
from qa.errors import QAError
from qa.index.pipeline import counted
from qa.surfaces.render import console, print_answer, print_reply

HELP = """Type a question and press Enter; follow-ups ("and the one before?") read the turns before.
  /sources   show the last answer's passages in full
  /new       forget the conversation so far
  /help      this help
  /quit      leave (or Ctrl-D)"""


def _reader():
    """prompt_toolkit on a terminal (editing, history); plain lines when input is piped."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history = Path.home() / ".qa_history"
        session = PromptSession(history=FileHistory(str(history)))
        return lambda: session.prompt("qa> ")

    def plain() -> str:
        print("qa> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return plain


def run_chat(assistant) -> None:
    out = console()
    assistant.warm_up()  # load the model before the first prompt, not after the first question
    out.print(
        Text(
            f"qa chat: {counted(assistant.passages, 'passage')} loaded. /help for commands, Ctrl-D to leave."
        )
    )
    read = _reader()
    last = None
    history: list[dict] = []  # the turns so far, oldest first, so that follow-ups resolve
    while True:
        try:
            line = read().strip()
        except EOFError:
            out.print()
            return
        except KeyboardInterrupt:
            continue
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return
        if line == "/help":
            out.print(Text(HELP))
        elif line == "/new":
            history.clear()
            out.print("New conversation.")
        elif line == "/sources":
            if last is None:
                out.print("No answer yet: ask a question first.")
            else:
                print_answer(out, last, full=True)
        elif line.startswith("/"):
            out.print(Text(f"Unknown command {line}. /help lists the commands."))
        else:
            try:
                last = assistant.ask(line, history=history[-MAX_TURNS:])
            except QAError as exc:
                out.print(Text(f"error: {exc}"))
                continue
            short = last.short_answer.text[:MAX_TURN_CHARS] if last.short_answer else ""
            history.append(
                {
                    "question": line[:MAX_TURN_CHARS],
                    "answer": last.answer[:MAX_ANSWER_CHARS],
                    "short_answer": short,
                }  # fmt: skip
            )
            print_reply(out, last)
