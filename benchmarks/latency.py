"""Latency of questions never asked before: `POST /search` over the 48 SQuAD v1.1 dev articles and
`POST /ask` over the brief, each through `qa serve` on 127.0.0.1, one request at a time.

    .venv/bin/python benchmarks/latency.py [--questions 300] [--seed 2016] [--work DIR]

Every question is asked once (the reader caches what it has read, so a repeated one would cost
nothing): a seeded sample of SQuAD v1.1 dev questions for /search (top 5, as `qa search`), the
brief's held-out, dev and unanswerable questions for /ask. The first five requests of each kind
warm the server up and are not counted. Prints the median, quartiles and maximum in ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from timing import BIN, SHARED, brief_corpus, free_port, log, machine, qa_env, wait_ready

HERE = Path(__file__).resolve().parent
ASK_SETS = (HERE / "brief-heldout.jsonl", SHARED / "eval" / "dev.jsonl", HERE.parent / "tests" / "unanswerable.jsonl")  # fmt: skip
WARM_UP = 5


def squad_corpus(folder: Path) -> list[str]:
    """The 48 articles, one file each (as benchmarks/squad.py writes them), and their questions."""
    data = json.loads((SHARED / "benchmarks" / "squad" / "dev-v1.1.json").read_text())["data"]
    folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for article in data:
        text = "\n\n".join(" ".join(p["context"].split()) for p in article["paragraphs"]) + "\n"
        path = folder / f"{article['title']}.txt"
        if not path.is_file():
            path.write_text(text, encoding="utf-8")
        questions += [qa["question"] for p in article["paragraphs"] for qa in p["qas"]]
    return questions


def timed(corpus: Path, index: Path, path: str, bodies: list[dict]) -> list[float]:
    """ms per request, after WARM_UP uncounted ones, against a fresh `qa serve`."""
    env = qa_env(corpus, index)
    subprocess.run([str(BIN / "qa"), "index"], env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN / "qa"), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_ready(url, server)
        ms = []
        with httpx.Client(base_url=url, timeout=60) as http:
            for n, body in enumerate(bodies):
                started = time.perf_counter()
                http.post(path, json=body).raise_for_status()
                if n >= WARM_UP:
                    ms.append(1000 * (time.perf_counter() - started))
        return ms
    finally:
        server.terminate()
        server.wait(timeout=30)


def summary(name: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=4)
    return f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {q[0]:.1f} | {q[2]:.1f} | {max(ms):.1f} |"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-latency")
    args = parser.parse_args()

    questions = squad_corpus(args.work / "squad" / "corpus")
    sample = random.Random(args.seed).sample(questions, args.questions + WARM_UP)
    log(f"/search: {len(sample)} SQuAD v1.1 questions over 48 articles")
    search = timed(args.work / "squad" / "corpus", args.work / "squad" / "index", "/search", [{"query": q, "top_k": 5} for q in sample])  # fmt: skip
    asked = [json.loads(x)["question"] for f in ASK_SETS for x in f.read_text().splitlines() if x]
    args.work.mkdir(parents=True, exist_ok=True)
    corpus, index = brief_corpus(Path(tempfile.mkdtemp(prefix="brief-", dir=args.work)))
    log(f"/ask: {len(asked)} brief questions")
    ask = timed(corpus, index, "/ask", [{"question": q, "top_k": 5} for q in asked])
    print(machine())
    print("| request | n | median ms | p25 | p75 | max |\n|---|---:|---:|---:|---:|---:|")
    print(summary("POST /search, SQuAD v1.1, 48 articles, distinct questions", search))
    print(summary("POST /ask, the brief, distinct questions", ask))


if __name__ == "__main__":
    main()
