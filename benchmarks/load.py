"""Load: concurrent clients against a real `qa serve` on 127.0.0.1, good and bad requests mixed.

    .venv/bin/python benchmarks/load.py [--clients 16] [--requests 10000] [--corpus DIR --index DIR]

Starts `qa serve` as a subprocess (over a fresh index of the brief unless --index is given), sends
a short warm-up, then `--requests` requests from `--clients` concurrent keep-alive clients: about
45% `POST /search`, 35% `POST /ask` (the dev questions in turn, varied top_k) and 20% bad requests
of nine kinds (empty and over-long questions, top_k out of range, wrong types, malformed JSON, a
body that is not UTF-8, a 70 KB body, a 128 KB chunked upload, an unknown path). Prints
requests/s, p50 and p99 per kind, errors (a good request that did not get a well-formed 200, a bad
one that did not get its 4xx), and the server's RSS after start-up, after the warm-up and at the
end; then streams one 64 MB chunked upload over a raw socket to show it is cut short. Exit status
1 if any request went wrong. A benchmark prints figures; it never fails on a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from timing import SHARED, brief_corpus, free_port, stop, wait_ready

DEV = SHARED / "eval" / "dev.jsonl"
QA = [sys.executable, "-m", "qa"]
FALLBACK_QUESTIONS = [
    "What did France and the UK push for?",
    "How many joint EU-NATO proposals were identified in 2016 and 2017?",
    "Which NATO exercise did the Commission take part in?",
    "Why is information sharing between the EU and NATO problematic?",
]


@dataclass(frozen=True)
class Outcome:
    kind: str
    good: bool  # a request the server should answer with 200
    ok: bool  # got what it should
    seconds: float
    detail: str = ""


def questions() -> list[str]:
    if DEV.is_file():
        return [
            json.loads(line)["question"] for line in DEV.read_text().splitlines() if line.strip()
        ]
    return FALLBACK_QUESTIONS


async def _chunks(n: int, size: int = 16384):
    for _ in range(n):
        yield b"a" * size


def plan(total: int, seed: int = 7) -> list[tuple[str, dict]]:
    """The requests to send, shuffled with a fixed seed: (kind, httpx keyword arguments)."""
    rng = random.Random(seed)
    asked = itertools.cycle(questions())
    json_type = {"Content-Type": "application/json"}
    bad = [
        ("bad: empty question", {"method": "POST", "url": "/ask", "json": {"question": "  \n "}}, 422),
        ("bad: 2001 characters", {"method": "POST", "url": "/search", "json": {"query": "x" * 2001}}, 422),
        ("bad: top_k 51", {"method": "POST", "url": "/ask", "json": {"question": "NATO?", "top_k": 51}}, 422),
        ("bad: wrong type", {"method": "POST", "url": "/search", "json": {"query": 5, "top_k": "x"}}, 422),
        ("bad: malformed JSON", {"method": "POST", "url": "/ask", "content": b'{"question": ', "headers": json_type}, 422),
        ("bad: not UTF-8", {"method": "POST", "url": "/ask", "content": b'{"question": "\xff\xfe"}', "headers": json_type}, 422),
        ("bad: 70 KB body", {"method": "POST", "url": "/ask", "content": b"a" * 70_000, "headers": json_type}, 413),
        ("bad: 128 KB chunked", {"method": "POST", "url": "/ask", "chunks": 8, "headers": json_type}, 413),
        ("bad: unknown path", {"method": "GET", "url": "/nope"}, 404),
    ]  # fmt: skip
    requests: list[tuple[str, dict]] = []
    for _ in range(total):
        draw = rng.random()
        if draw < 0.45:
            body = {"query": next(asked), "top_k": rng.randint(1, 10)}
            requests.append(
                ("search", {"method": "POST", "url": "/search", "json": body, "expect": 200})
            )
        elif draw < 0.80:
            body = {"question": next(asked), "top_k": rng.choice([3, 5, 8])}
            requests.append(("ask", {"method": "POST", "url": "/ask", "json": body, "expect": 200}))
        else:
            kind, kwargs, status = rng.choice(bad)
            requests.append((kind, kwargs | {"expect": status}))
    return requests


def well_formed(kind: str, body: dict) -> bool:
    if kind == "search":
        return isinstance(body.get("results"), list) and all(
            r["text"] and r["citation"]["source"] for r in body["results"]
        )
    return isinstance(body.get("answer"), str) and isinstance(body.get("answerable"), bool)


async def send(client: httpx.AsyncClient, kind: str, spec: dict) -> Outcome:
    spec = dict(spec)
    expect = spec.pop("expect")
    if "chunks" in spec:
        spec["content"] = _chunks(spec.pop("chunks"))
    started = time.perf_counter()
    try:
        response = await client.request(**spec)
        seconds = time.perf_counter() - started
    except httpx.HTTPError as exc:
        return Outcome(
            kind, expect == 200, False, time.perf_counter() - started, type(exc).__name__
        )
    if response.status_code != expect:
        return Outcome(kind, expect == 200, False, seconds, f"status {response.status_code}")
    if expect == 200 and not well_formed(kind, response.json()):
        return Outcome(kind, True, False, seconds, "malformed answer")
    if expect != 200 and not isinstance(response.json().get("detail"), str):
        return Outcome(kind, False, False, seconds, "no readable message")
    return Outcome(kind, expect == 200, True, seconds)


async def run(
    url: str, requests: list[tuple[str, dict]], clients: int
) -> tuple[list[Outcome], float]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    outcomes: list[Outcome] = []

    async def worker() -> None:
        # One keep-alive connection per client, as a browser tab or a script would hold.
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=1)) as client:  # fmt: skip
            while not queue.empty():
                kind, spec = queue.get_nowait()
                outcomes.append(await send(client, kind, spec))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return outcomes, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def report(outcomes: list[Outcome], seconds: float, clients: int, rss: dict[str, int]) -> str:
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    lines = [
        f"{len(outcomes)} requests from {clients} clients in {seconds:.1f} s: "
        f"{len(outcomes) / seconds:.1f} requests/s",
        "",
        f"{'kind':<22} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}",
    ]
    for kind in sorted(by_kind, key=lambda k: (k.startswith("bad"), k)):
        group = by_kind[kind]
        ms = [o.seconds * 1000 for o in group]
        errors = sum(not o.ok for o in group)
        lines.append(
            f"{kind:<22} {len(group):>6} {percentile(ms, 50):>8.1f} {percentile(ms, 99):>8.1f} {errors:>7}"
        )
    good = [o for o in outcomes if o.good]
    bad = [o for o in outcomes if not o.good]
    all_ms = [o.seconds * 1000 for o in good]
    lines += [
        "",
        f"good requests: {len(good)}, p50 {percentile(all_ms, 50):.1f} ms, p99 {percentile(all_ms, 99):.1f} ms, "
        f"errors {sum(not o.ok for o in good)}",
        f"bad requests:  {len(bad)}, answered with the wrong status or no message: {sum(not o.ok for o in bad)}",
    ]
    details = sorted({f"{o.kind}: {o.detail}" for o in outcomes if not o.ok})
    lines += [f"  {d}" for d in details[:20]]
    mb = {k: v / 2**20 for k, v in rss.items()}
    lines += [
        "",
        f"server RSS: {mb['start']:.1f} MB after start-up, {mb['warm']:.1f} MB after warm-up, "
        f"{mb['end']:.1f} MB after the run (peak sampled {mb['peak']:.1f} MB); "
        f"growth over the run {mb['end'] - mb['warm']:+.1f} MB",
    ]
    return "\n".join(lines)


def huge_upload(port: int, megabytes: int = 64) -> str:
    """Stream a chunked body of `megabytes` over a raw socket; say how much went out before the
    server answered or closed, and what came back."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n" % 65536 + b"a" * 65536 + b"\r\n"
    sent = 0
    try:
        while sent < megabytes * 2**20:
            sock.sendall(chunk)
            sent += 65536
    except OSError as exc:
        ending = type(exc).__name__
    else:
        sock.sendall(b"0\r\n\r\n")
        ending = "all sent"
    try:
        answer = sock.recv(4096).split(b"\r\n", 1)[0].decode() or "connection closed"
    except OSError as exc:
        answer = type(exc).__name__
    sock.close()
    return f"{sent / 2**20:.1f} MB of {megabytes} MB sent ({ending}); server said: {answer}"


async def sample_rss(process: psutil.Process, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def measure(url: str, server: psutil.Process, args) -> tuple[list[Outcome], float, dict]:
    rss = {"start": server.memory_info().rss}
    warm, _ = await run(url, plan(args.warmup, seed=1), args.clients)
    rss["warm"] = server.memory_info().rss
    peak, stop = [rss["warm"]], asyncio.Event()
    sampler = asyncio.create_task(sample_rss(server, peak, stop))
    outcomes, seconds = await run(url, plan(args.requests), args.clients)
    stop.set()
    await sampler
    rss["end"] = server.memory_info().rss
    rss["peak"] = max(peak[0], rss["end"])
    return warm + outcomes if args.count_warmup else outcomes, seconds, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (8-32)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--corpus", type=Path, help="with --index: serve this index as it is")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--count-warmup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("QA_API_KEY", None)
    work = Path(tempfile.mkdtemp(prefix="qa-load-"))
    try:
        if args.index is None:
            corpus, index = brief_corpus(work)
            print("building an index of the brief ...", file=sys.stderr)
            subprocess.run([*QA, "index", "--corpus", str(corpus), "--index", str(index)], env=env, check=True, capture_output=True)  # fmt: skip
        else:
            corpus, index = args.corpus or Path("corpus"), args.index
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [*QA, "serve", "--host", "127.0.0.1", "--port", str(port), "--corpus", str(corpus), "--index", str(index)]  # fmt: skip
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_ready(url, server)
            print(f"qa serve on {url} (pid {server.pid}); {args.warmup} warm-up requests, then {args.requests}", file=sys.stderr)  # fmt: skip
            outcomes, seconds, rss = asyncio.run(measure(url, psutil.Process(server.pid), args))
            probe = huge_upload(port)
            rss["after probe"] = psutil.Process(server.pid).memory_info().rss
        finally:
            stop(server)
        load = os.getloadavg()
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
              f"load average at the end {load[0]:.1f} (clients and server share the machine)")  # fmt: skip
        print(report(outcomes, seconds, args.clients, rss))
        print(
            f"a 64 MB chunked upload: {probe}; server RSS then {rss['after probe'] / 2**20:.1f} MB"
        )
        return 0 if all(o.ok for o in outcomes) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
