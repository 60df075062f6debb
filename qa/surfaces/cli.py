"""The `qa` command line: parse options, call the assistant, print the result."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer

from qa.errors import QAError
from qa.ingest.passages import DEFAULT_MAX_WORDS
from qa.settings import Settings
from qa.surfaces.access import printable

app = typer.Typer(
    help="Offline, cited question answering over a folder of documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: typer's Rich panels give every flag a type ("--help <bool>") and read help
    # text as Rich markup, dropping "[env QA_CORPUS; default corpus]" whole.
    rich_markup_mode=None,
)

CorpusOpt = Annotated[Path | None, typer.Option("--corpus", help="Corpus folder [env QA_CORPUS; default: the folder the index was built from, else corpus]")]  # fmt: skip
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder [env QA_INDEX; default index]")]  # fmt: skip
ModelOpt = Annotated[str | None, typer.Option("--model", help="Local sentence-transformers folder [env QA_MODEL]")]  # fmt: skip
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
LlmOpt = Annotated[str | None, typer.Option("--llm", help="OpenAI-compatible chat endpoint that writes answers, each sentence checked [env QA_LLM_URL]")]  # fmt: skip
LlmModelOpt = Annotated[str | None, typer.Option("--llm-model", help="Model name sent to the LLM endpoint [env QA_LLM_MODEL; default local]")]  # fmt: skip
StoreOpt = Annotated[str | None, typer.Option("--store", help="Where the index lives: a folder, or postgresql://... (pgvector) [env QA_STORE]")]  # fmt: skip
SourceOpt = Annotated[list[str] | None, typer.Option("--source", help="Only these documents (repeatable)")]  # fmt: skip


class LogLevel(StrEnum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def _fail(message: str, code: int = 1) -> None:
    print(f"error: {printable(message)}", file=sys.stderr)
    raise typer.Exit(code)


def _say(message: str) -> None:
    """A line of progress on stderr; names from the corpus in it are data (qa/surfaces/access.py)."""
    print(printable(message), file=sys.stderr, flush=True)


def friendly(command: Callable) -> Callable:
    """Turn domain errors into one line on stderr and exit status 1."""

    @wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except QAError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return run


def _settings(**options) -> Settings:
    """Settings from the options given and QA_* variables; with no corpus chosen, the folder the
    index was built from (qa/index/origin.py)."""
    from qa.index.origin import with_own_corpus

    return with_own_corpus(Settings.from_command_line(**options))


def _assistant(corpus, index, model, llm=None, llm_model=None, store=None):
    from qa.answer.assistant import Assistant

    settings = _settings(
        corpus=corpus, index=index, model=model, llm_url=llm, llm_model=llm_model, store=store
    )
    return Assistant(settings)


@app.command()
@friendly
def index(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    model: ModelOpt = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild even when up to date")
    ] = False,
    max_words: Annotated[
        int, typer.Option("--max-words", min=20, max=400, help="Passage length cap")
    ] = DEFAULT_MAX_WORDS,
    max_file_mb: Annotated[
        float | None,
        typer.Option(
            "--max-file-mb", min=0.001, help="Skip larger files [env QA_MAX_FILE_MB; default 50]"
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep running: update on every change to the corpus")
    ] = False,
) -> None:
    """Build or update the index from the corpus."""
    from qa.index.store import build
    from qa.index.watch import CorpusWatch
    from qa.ingest.corpus import max_file_bytes
    from qa.models.onnx_embedding import BuildEncoder

    settings = _settings(
        corpus=corpus, index=index, store=store, model=model, max_file_mb=max_file_mb
    )
    watching = CorpusWatch(settings.corpus, max_file_bytes(settings.max_file_mb)) if watch else None
    report = build(
        settings,
        BuildEncoder(settings.model, notice=_say),
        _say,
        max_words=max_words,
        rebuild=rebuild,
    )
    _print_build(report, settings)
    if watching is not None:
        _watch(watching, settings, max_words)


def _print_build(report, settings: Settings) -> None:
    from qa.index.pipeline import ENCODER_REPAIRED, counted
    from qa.index.store import location

    passages = counted(report.passages, "passage")
    if report.built and report.reason == ENCODER_REPAIRED:
        print(
            f"repaired the ONNX encoder of the index at {settings.index} in {report.seconds:.1f} s "
            f"({passages} kept as they were, none embedded again)",
            flush=True,
        )
    elif report.built:
        done = [f"{report.embedded:,} embedded"]
        if report.repeats:  # the same text twice (a PDF and its web page) is embedded once
            done.append(f"{counted(report.repeats, 'word-for-word repeat')} not embedded again")
        if report.reused:
            done.append(f"{counted(report.reused, 'unchanged file')} reused")
        print(
            f"indexed {passages} from {counted(report.documents, 'document')} into "
            f"{location(settings)} in {report.seconds:.1f} s ({report.reason}; {', '.join(done)})",
            flush=True,
        )
    else:
        print(
            f"index at {location(settings)} is up to date ({passages}); nothing to do", flush=True
        )


def _watch(watching, settings: Settings, max_words: int) -> None:
    """`qa index --watch`: update the index whenever the corpus changes, until Ctrl-C."""
    import threading

    from qa.index.watch import keep_in_step, updater

    update = updater(settings, _say, max_words)
    _say(f"watching {settings.corpus} for changes (Ctrl-C to stop)")
    try:
        keep_in_step(watching, lambda: _print_build(update(), settings), threading.Event(), _say)
    except KeyboardInterrupt:
        _say("stopped watching")


@app.command()
@friendly
def search(
    query: Annotated[str, typer.Argument(metavar="QUESTION", help="What to look for")],
    k: Annotated[int, typer.Option("-k", "--top-k", help="How many passages (1-50)")] = 5,
    as_json: JsonOpt = False,
    source: SourceOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    model: ModelOpt = None,
) -> None:
    """Ranked passages, each cited to its exact span."""
    from qa.surfaces.render import console, print_hits

    hits = _assistant(corpus, index, model, store=store).search(query, k, source)
    if as_json:
        print(
            json.dumps(
                {"query": query, "results": [h.to_dict() for h in hits]},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print_hits(console(), hits)


@app.command()
@friendly
def ask(
    question: Annotated[
        str, typer.Argument(metavar="QUESTION", help="A question about the corpus")
    ],
    k: Annotated[int, typer.Option("-k", "--top-k", help="Passages to draw on (1-50)")] = 5,
    as_json: JsonOpt = False,
    source: SourceOpt = None,
    llm: LlmOpt = None,
    llm_model: LlmModelOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    model: ModelOpt = None,
) -> None:
    """A short cited answer, or a plain statement that the corpus does not answer."""
    from qa.surfaces.render import console, print_answer, print_stream

    assistant = _assistant(corpus, index, model, llm, llm_model, store)
    if as_json:
        answer = assistant.ask(question, k, source)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    elif sys.stdout.isatty():  # a person watching: the answer as it is written
        print_stream(console(), assistant.ask_stream(question, k, source))
    else:
        print_answer(console(), assistant.ask(question, k, source))


@app.command()
@friendly
def chat(
    llm: LlmOpt = None,
    llm_model: LlmModelOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    model: ModelOpt = None,
) -> None:
    """An interactive question-and-answer session in the terminal."""
    from qa.surfaces.chat import run_chat

    run_chat(_assistant(corpus, index, model, llm, llm_model, store))


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, envvar="QA_PORT", help="Port [env QA_PORT]")
    ] = 8000,  # fmt: skip
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="Origin allowed to embed the widget (repeatable) [env QA_CORS_ORIGINS]",
        ),
    ] = None,  # fmt: skip
    llm: LlmOpt = None,
    llm_model: LlmModelOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    model: ModelOpt = None,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Update the index and swap it in on every corpus change"),
    ] = False,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="info logs one line per request")
    ] = LogLevel.warning,
) -> None:
    """Serve the HTTP API and the chat page."""
    import uvicorn

    _check_port(host, port)
    # The server answers as many requests at once as there are cores, so one onnxruntime
    # thread each (issue 28, 8 clients on 2 cores: /ask 15.2 -> 17.2 requests/s, /search 54.3
    # -> 57.1; benchmarks/RESULTS-load.md); QA_ONNX_THREADS still decides where it is set.
    os.environ.setdefault("QA_ONNX_THREADS", "1")

    from qa.answer.assistant import Assistant
    from qa.index.pipeline import counted
    from qa.surfaces.limits import Limits, uvicorn_options
    from qa.surfaces.server import create_app

    settings = _settings(
        corpus=corpus,
        index=index,
        store=store,
        model=model,
        cors_origins=tuple(cors_origin) if cors_origin else None,
        llm_url=llm,
        llm_model=llm_model,
    )
    assistant = None
    if watch:  # bring the index up to date first: a folder never indexed can be served at once
        from qa.errors import CorpusEmpty
        from qa.index.watch import updater

        try:
            updater(settings, _say)()
            assistant = Assistant(settings)
        except CorpusEmpty as exc:
            if not settings.corpus.is_dir():
                raise
            print(f"{exc}; waiting for documents to arrive", file=sys.stderr)
    else:
        assistant = Assistant(settings)  # fail here, with one line, before binding the port
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key:
        print(
            f"warning: serving on {host} without QA_API_KEY: anyone who can reach it can query",
            file=sys.stderr,
        )
    writer = f", answers written by the LLM at {settings.llm_url}" if settings.llm_url else ""
    passages = assistant.passages if assistant else 0
    print(
        f"serving {counted(passages, 'passage')} on http://{host}:{port}{writer}", file=sys.stderr
    )
    if watch:
        print(f"watching {settings.corpus}: changes are indexed and served", file=sys.stderr)
    limits = Limits()  # the body's size and time, the headers' time, connections at once
    app_ = create_app(settings, assistant, watch=watch, limits=limits)
    _log_requests(log_level.value)
    uvicorn.run(app_, host=host, port=port, log_level=log_level.value, access_log=False, **uvicorn_options(limits))  # fmt: skip


def _check_port(host: str, port: int) -> None:
    """Fail with one line, before anything is loaded or announced, where the port is taken."""
    import errno
    import socket

    def free(number: int) -> bool:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                sock.bind((host, number))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    _fail(f"cannot listen on {host}:{number}: {exc.strerror}")
                return False
            return True

    if not free(port):
        spare = next((n for n in range(port + 1, min(port + 50, 65536)) if free(n)), None)
        hint = f": try `qa serve --port {spare}`" if spare else ""
        _fail(f"port {port} is in use{hint}")


def _log_requests(level: str) -> None:
    """`qa.http` (qa/surfaces/access.py) to stderr at this level: info shows every request."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("qa.http")
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


@app.command()
@friendly
def info(corpus: CorpusOpt = None, index: IndexOpt = None, store: StoreOpt = None, model: ModelOpt = None, as_json: JsonOpt = False) -> None:  # fmt: skip
    """What the index holds and whether it is stale; exit status 1 when anything is damaged."""
    from qa.index.store import describe
    from qa.surfaces.info import damaged, print_report

    report = describe(_settings(corpus=corpus, index=index, model=model, store=store))
    if report["status"] == "missing":
        _fail(f"no index at {report['index']}: run `qa index`")
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report)
    if damaged(report):  # said above, with what to run
        raise typer.Exit(1)


@app.command()
@friendly
def show(
    source: Annotated[
        str, typer.Argument(help="A document (as `qa info` lists it) or a passage id")
    ],
    start: Annotated[
        int | None, typer.Option("--start", min=0, help="First character offset")
    ] = None,
    end: Annotated[
        int | None, typer.Option("--end", min=0, help="Offset just past the last character")
    ] = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
) -> None:
    """Print the exact span a citation points to, from the text the index keeps."""
    from qa.index.store import kept_span

    print(kept_span(Settings().with_options(index=index, store=store), source, start, end))


@app.command("eval")
@friendly
def evaluate(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE.jsonl", help="Questions, one JSON object a line (see README)"),
    ],
    as_json: JsonOpt = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    model: ModelOpt = None,
) -> None:
    """Quality figures for this system and two baselines, side by side."""
    from qa.answer.evaluation import evaluate as run_eval
    from qa.answer.evaluation import load_questions, render_table

    questions = load_questions(file)
    report = run_eval(_assistant(corpus, index, model, store=store), questions)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        render_table(report)


def main() -> None:
    app()


if __name__ == "__main__":  # `python -m qa.surfaces.cli`, as `python -m qa`
    main()
