"""Memory of `qa serve --watch` over corpus swaps: RSS at start and after each rebuild.

    .venv/bin/python benchmarks/watch_memory.py [--articles 8] [--swaps 5] [--work DIR]

A real server on 127.0.0.1 over a temporary corpus of SQuAD dev articles (one file each). Each
swap adds an article and changes another (a paragraph appended), waits until /health serves the
new build, asks a few questions, then reads the server's RSS (psutil; the server process alone:
a build runs in a child process that ends with it). Issue 21's target: within 100 MB of the start
after 5 swaps.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from common import DATA
from timing import BIN, free_port, log, machine, qa_env, stop, table, wait_ready

QUESTIONS = ("Who founded the university?", "When was it built?", "What is the capital?")


def articles() -> list[tuple[str, str]]:
    """SQuAD dev articles as (file name, text), in the file's order."""
    data = json.loads((DATA / "squad" / "dev-v1.1.json").read_text(encoding="utf-8"))["data"]
    return [
        (f"{a['title']}.txt", "\n\n".join(" ".join(p["context"].split()) for p in a["paragraphs"]))
        for a in data
    ]


def health(url: str) -> dict:
    return httpx.get(f"{url}/health", timeout=30).json()


def ask_a_few(url: str) -> None:
    for question in QUESTIONS:
        response = httpx.post(f"{url}/search", json={"query": question, "top_k": 5}, timeout=60)
        response.raise_for_status()


def wait_for(check, server: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"qa serve exited with status {server.returncode}")
        if check():
            return
        time.sleep(0.5)
    raise SystemExit("the rebuild was not served in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=8, help="articles in the first corpus")
    parser.add_argument("--swaps", type=int, default=5)
    parser.add_argument("--work", type=Path, help="keep the corpus and index here")
    args = parser.parse_args()

    pool = articles()
    first, later = pool[: args.articles], pool[args.articles : args.articles + args.swaps]
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-watch-memory-"))
    corpus, index = work / "corpus", work / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in first:
        (corpus / name).write_text(text + "\n", encoding="utf-8")
    env = qa_env(corpus, index)
    log(f"indexing {len(first)} articles ...")
    subprocess.run([str(BIN / "qa"), "index"], env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "qa"), "serve", "--watch", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rows = []
    try:
        wait_ready(url, server)
        process = psutil.Process(server.pid)
        ask_a_few(url)
        start = process.memory_info().rss / 2**20
        rows.append(["start", str(health(url)["passages"]), f"{start:.0f}", ""])
        for swap, (name, text) in enumerate(later, 1):
            (corpus / name).write_text(text + "\n", encoding="utf-8")
            changed = corpus / first[swap % len(first)][0]
            with changed.open("a", encoding="utf-8") as f:
                f.write(f"\nSwap {swap} appended this paragraph to the article.\n")
            wait_for(lambda n=name: n in {d["source"] for d in health(url)["documents"]}, server)
            ask_a_few(url)
            rss = process.memory_info().rss / 2**20
            passages = str(health(url)["passages"])
            rows.append([f"after swap {swap}", passages, f"{rss:.0f}", f"{rss - start:+.0f}"])
            log(f"swap {swap}: {passages} passages, RSS {rss:.0f} MB")
    finally:
        stop(server)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(machine())
    print(f"`qa serve --watch` over {len(first)} SQuAD dev articles, {len(later)} swaps "
          "(each adds an article and changes another)")  # fmt: skip
    print(table(["when", "passages", "RSS MB", "vs start"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
