"""Follow-up questions: last-turn answer hit with the conversation, without it, and joined.

    python benchmarks/conversations.py [--file benchmarks/conversations.jsonl] [--show]
        [--llm-rewrite URL]

Each conversation is played as a client would: every turn is asked with the turns before it
(their questions and qa's own answers) as `history`, and the last turn's answer must contain the
conversation's `answer` (normalised as `qa eval` does). Beside it, the same last question asked
alone, and the baseline several chat platforms use: all the conversation's questions joined
into one query. Conversations of corpus "brief" run over the brief; "real" over the White House
fact sheets (../shared/benchmarks/real-markdown) and the CRS reports' web versions
(../shared/benchmarks/real-pdfs/web-version); "folder" over those and the reports' PDFs too, as
a new user's folder holds them; all read from ../shared and indexed in a temporary folder.

With `--llm-rewrite URL` (an OpenAI-compatible server, e.g. `python tests/smollm_server.py --port
8080`), the model also writes each follow-up standing alone, as `qa --llm` does; the answers stay
extractive, so that the figures measure the rewrite alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from timing import BRIEF, ROOT, SHARED, log

from qa.answer.conversation import MAX_ANSWER_CHARS
from qa.answer.llm import LLMConfig
from qa.ingest.documents import normalise

REAL = [
    *sorted((SHARED / "benchmarks" / "real-markdown").glob("*.md")),
    *sorted((SHARED / "benchmarks" / "real-pdfs" / "web-version").glob("*.md")),
]
# A new user's folder: the CRS reports as PDF and as web page side by side, and the White House
# pages (conversations of corpus "folder").
FOLDER = [*REAL, *sorted((SHARED / "benchmarks" / "real-pdfs" / "pdf").glob("*.pdf"))]


def assistant_over(files: list[Path], folder: Path):
    from qa.answer.assistant import Assistant
    from qa.index import build
    from qa.models.onnx_embedding import BuildEncoder
    from qa.settings import Settings

    corpus, index = folder / "corpus", folder / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    for f in files:
        if not (corpus / f.name).is_file():
            shutil.copy(f, corpus / f.name)
    build(corpus, index, BuildEncoder(None), progress=log)
    return Assistant(
        Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)
    )


def hit(answer, expected: str) -> bool:
    return answer.answerable and normalise(expected) in normalise(answer.answer)


def play(assistant, turns: list[str]):
    """The last turn's answer, each turn asked with the turns before it as history."""
    history: list[dict] = []
    answer = None
    for question in turns:
        answer = assistant.extractive(question, history=history)
        history.append({"question": question, "answer": answer.answer[:MAX_ANSWER_CHARS]})
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=ROOT / "benchmarks" / "conversations.jsonl")
    parser.add_argument(
        "--show", action="store_true", help="print each last turn's query and answer"
    )
    parser.add_argument("--llm-rewrite", metavar="URL", help="an LLM writes each follow-up standing alone")  # fmt: skip
    parser.add_argument("--work", type=Path, help="keep the indexes here, to reuse (default: a temporary folder)")  # fmt: skip
    args = parser.parse_args()
    conversations = [
        json.loads(line) for line in args.file.read_text().splitlines() if line.strip()
    ]

    rows: dict[str, dict[str, list[bool]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = args.work or tmp
        files = {"brief": [BRIEF], "real": REAL, "folder": FOLDER}
        needed = sorted({c["corpus"] for c in conversations})  # index only what is asked
        assistants = {name: assistant_over(files[name], Path(tmp) / name) for name in needed}
        for a in assistants.values():
            a.llm = LLMConfig(args.llm_rewrite, timeout=120) if args.llm_rewrite else None
        for c in conversations:
            a = assistants[c["corpus"]]
            with_history = play(a, c["turns"])
            alone = a.extractive(c["turns"][-1])
            joined = a.extractive(" ".join(c["turns"]))
            for corpus in (c["corpus"], "all"):
                row = rows.setdefault(corpus, {"with history": [], "last question alone": [], "questions joined": [], "rewritten": []})  # fmt: skip
                row["with history"].append(hit(with_history, c["answer"]))
                row["last question alone"].append(hit(alone, c["answer"]))
                row["questions joined"].append(hit(joined, c["answer"]))
                row["rewritten"].append(with_history.query_used != c["turns"][-1])
            if args.show:
                mark = "ok " if hit(with_history, c["answer"]) else "MISS"
                print(
                    f"{mark} {c['id']}: {with_history.query_used!r}\n     -> {with_history.answer[:160]!r}"
                    + (f"\n     ({with_history.reading})" if with_history.reading else "")
                )

    print(f"\nLast-turn answer hit, {len(conversations)} conversations ({args.file.name})\n")
    print("| corpus | n | with history | last question alone | questions joined | last turns rewritten |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for corpus in ("brief", "real", "folder", "all"):
        if corpus not in rows:
            continue
        r = rows[corpus]
        n = len(r["with history"])
        cells = " | ".join(f"{sum(r[k]) / n:.2f}" for k in ("with history", "last question alone", "questions joined", "rewritten"))  # fmt: skip
        print(f"| {corpus} | {n} | {cells} |")


if __name__ == "__main__":
    main()
