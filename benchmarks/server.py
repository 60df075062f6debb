"""Server: `POST /search` latency against the bare ONNX encode of the same query, `POST /ask`
latency over questions never asked before, then throughput with concurrent clients, against
`qa serve` on 127.0.0.1 over the brief's index.

    .venv/bin/python benchmarks/server.py [--rounds 5] [--clients 8] [--requests 2000] [--runs 5]

Latency: every round sends each dev question once, one request at a time, and encodes the same
question with the index's ONNX encoder in this process (same thread settings as the server), so
the two figures come from the same moments. Load: `--clients` threads, each with its own
keep-alive connection, share `--requests` requests (the dev questions in turn); a run's figures
are requests/s over its wall time and the p50 and p99 of its request latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
from timing import (
    BIN,
    SHARED,
    brief_corpus,
    free_port,
    log,
    machine,
    percentile,
    qa_env,
    summary,
    table,
    wait_ready,
)

ASK_SETS = (
    SHARED / "eval" / "dev.jsonl",
    Path(__file__).parent / "brief-heldout.jsonl",
    Path(__file__).parent.parent / "tests" / "unanswerable.jsonl",
)


def load(url: str, questions: list[str], clients: int, requests: int) -> dict:
    """requests spread over clients threads: wall time, every latency, and the errors."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = {"query": questions[i % len(questions)], "top_k": 5}
                started = time.perf_counter()
                try:
                    response = http.post("/search", json=body)
                    ok = response.status_code == 200 and response.json()["results"]
                    problem = None if ok else f"HTTP {response.status_code}"
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    problem = type(exc).__name__
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="latency rounds over the dev questions"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="requests per load run")
    parser.add_argument("--runs", type=int, default=5, help="load runs")
    args = parser.parse_args()

    questions = [json.loads(x)["question"] for x in (SHARED / "eval" / "dev.jsonl").read_text().splitlines() if x]  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="qa-serve-"))
    server = None
    try:
        corpus, index = brief_corpus(work)
        env = qa_env(corpus, index)
        if os.environ.get("QA_ONNX_THREADS"):
            env["QA_ONNX_THREADS"] = os.environ["QA_ONNX_THREADS"]
        log("building the brief's index (not timed)")
        subprocess.run([str(BIN / "qa"), "index"], env=env, check=True, capture_output=True)

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "qa"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_ready(url, server)

        from qa.models.onnx_embedding import OnnxEmbedder, default_threads

        encoder = OnnxEmbedder(index / "current" / "encoder")
        log(f"onnxruntime threads per encode: {default_threads()}")
        search_ms, encode_ms, ask_ms = [], [], []
        with httpx.Client(base_url=url, timeout=60) as http:
            for q in questions:  # warm-up: first requests and encodes are not counted
                http.post("/search", json={"query": q, "top_k": 5}).raise_for_status()
                encoder.encode([q])
            for _ in range(args.rounds):
                for q in questions:
                    started = time.perf_counter()
                    encoder.encode([q])
                    encode_ms.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    response = http.post("/search", json={"query": q, "top_k": 5})
                    search_ms.append(time.perf_counter() - started)
                    response.raise_for_status()
            # /ask once per distinct question (the reader caches what it has read, so a
            # repeated question would cost nothing): the dev set's, then ours held out and
            # unanswerable, none asked before.
            asked = [json.loads(x)["question"] for f in ASK_SETS for x in f.read_text().splitlines() if x]  # fmt: skip
            for q in asked:
                started = time.perf_counter()
                response = http.post("/ask", json={"question": q, "top_k": 5})
                ask_ms.append(time.perf_counter() - started)
                response.raise_for_status()
        log("latency measured; load runs follow")

        runs = []
        for run in range(args.runs):
            result = load(url, questions, args.clients, args.requests)
            runs.append(result)
            log(f"load run {run + 1}: {args.requests / result['seconds']:.0f} req/s, {len(result['errors'])} errors")  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    ratio = statistics.median(search_ms) / statistics.median(encode_ms)
    print(machine())
    print(
        f"brief index, {len(questions)} dev questions; onnxruntime threads per encode: {default_threads()}"
    )
    print()
    print(f"Latency, one request at a time: {args.rounds} rounds x {len(questions)} questions = {len(search_ms)} samples each")  # fmt: skip
    print(table(
        ["measure", "median ms", "min ms", "max ms"],
        [["POST /search (HTTP round trip)", *summary(search_ms, 1000, 2)],
         ["bare ONNX encode of the query", *summary(encode_ms, 1000, 2)],
         ["ratio of medians", f"{ratio:.2f}x", "", ""],
         [f"POST /ask, {len(ask_ms)} distinct questions, once each", *summary(ask_ms, 1000, 2)]],
    ))  # fmt: skip
    print()
    print(
        f"Load: {args.clients} concurrent clients, {args.requests} requests per run, {args.runs} runs"
    )
    rates = [args.requests / r["seconds"] for r in runs]
    p50 = [percentile(r["latencies"], 50) for r in runs]
    p99 = [percentile(r["latencies"], 99) for r in runs]
    errors = sum(len(r["errors"]) for r in runs)
    print(table(
        ["measure", "median", "min", "max"],
        [["requests/s", *summary(rates, 1, 1)],
         ["p50 latency ms", *summary(p50, 1000, 1)],
         ["p99 latency ms", *summary(p99, 1000, 1)],
         ["errors (all runs)", str(errors), "", ""]],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
