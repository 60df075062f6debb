"""Follow-ups over HTTP: `POST /ask` latency for the last turn of each conversation, sent with
its history, against `qa serve` on 127.0.0.1 over the brief's index.

    .venv/bin/python benchmarks/followups.py [--file benchmarks/conversations-heldout.jsonl ...]

Each conversation is played as the page plays it: every turn is posted with the turns before it
(question, answer and short answer as /ask returned them) as `history`; the last turn's request
is timed, and beside it the same last question asked alone (no history) on a server that has not
read it yet. A fresh server per run, since the reader caches what it has read; several runs, and
the figures are the median, min and max of the runs' medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from timing import (  # fmt: skip
    BIN,
    ROOT,
    brief_corpus,
    free_port,
    log,
    machine,
    qa_env,
    summary,
    table,
    wait_ready,
)


def one_run(url: str, conversations: list[dict], alone: bool = False) -> list[float]:
    """The last turns' times, each asked with its history (or alone: only the last turn)."""
    timed = []
    with httpx.Client(base_url=url, timeout=60) as http:
        http.post("/ask", json={"question": "warm up", "top_k": 5}).raise_for_status()
        for c in conversations:
            history: list[dict] = []
            turns = c["turns"][-1:] if alone else c["turns"]
            for i, question in enumerate(turns):
                started = time.perf_counter()
                response = http.post("/ask", json={"question": question, "top_k": 5, "history": history})  # fmt: skip
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                answer = response.json()
                if i == len(turns) - 1:
                    timed.append(elapsed)
                short = answer.get("short_answer") or {}
                history.append({"question": question, "answer": answer["answer"], "short_answer": short.get("text", "")})  # fmt: skip
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, nargs="+", default=[ROOT / "benchmarks" / "conversations-heldout.jsonl", ROOT / "benchmarks" / "conversations.jsonl"])  # fmt: skip
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    conversations = [json.loads(x) for f in args.file for x in f.read_text().splitlines() if x.strip()]  # fmt: skip
    conversations = [c for c in conversations if c["corpus"] == "brief"]

    medians: dict[bool, list[float]] = {False: [], True: []}
    for run in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="qa-followups-"))
        try:
            corpus, index = brief_corpus(work)
            env = qa_env(corpus, index)
            subprocess.run([str(BIN / "qa"), "index"], env=env, check=True, capture_output=True)
            for alone in (False, True):  # each on a fresh server: the reader caches what it read
                timed = served_run(env, conversations, alone)
                medians[alone].append(statistics.median(timed))
                log(f"run {run + 1}{' alone' if alone else ''}: median {medians[alone][-1] * 1000:.0f} ms over {len(timed)} last turns")  # fmt: skip
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(machine())
    print(f"\n{len(conversations)} conversations about the brief, {args.runs} runs\n")
    rows = [
        ["POST /ask, last turn with history (run medians)", *summary(medians[False], 1000, 1)],
        ["POST /ask, the last question alone (run medians)", *summary(medians[True], 1000, 1)],
    ]
    print(table(["measure", "median ms", "min ms", "max ms"], rows))


def served_run(env: dict, conversations: list[dict], alone: bool) -> list[float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN / "qa"), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_ready(url, server)
        return one_run(url, conversations, alone)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
