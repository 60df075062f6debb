"""Load: concurrent clients against a real `qa serve` on 127.0.0.1, good and bad requests mixed.

    .venv/bin/python benchmarks/load.py [--clients 16] [--requests 10000] [--corpus DIR --index DIR]

Starts `qa serve` as a subprocess (over a fresh index of the brief unless --index is given), sends
a short warm-up, then `--requests` requests from `--clients` concurrent keep-alive clients: about
45% `POST /search`, 35% `POST /ask` (the dev questions in turn, varied top_k) and 20% bad requests
of nine kinds (empty and over-long questions, top_k out of range, wrong types, malformed JSON, a
body that is not UTF-8, a 200 KB body, a 256 KB chunked upload, an unknown path). Prints
requests/s, p50 and p99 per kind, errors (a good request that did not get a well-formed 200, a bad
one that did not get its 4xx), and the server's RSS after start-up, after the warm-up and at the
end; then streams one 64 MB chunked upload over a raw socket to show it is cut short. Exit status
1 if any request went wrong. A benchmark prints figures; it never fails on a time.

    .venv/bin/python benchmarks/load.py --endpoints ask,search --clients 8 --seconds 30

Speed under load (issue 28): over SQuAD v1.1 dev's 48 articles, one file each (the index is kept
under --work, in a folder named by the corpus's content, and brought up to date by `qa index`),
each endpoint in turn gets `--clients` concurrent keep-alive clients for `--seconds` seconds,
after a short uncounted warm-up. Every request asks a different dev question (a seeded shuffle,
none asked twice in a run, warm-up included), so no cache answers one. Prints req/s, p50, p99 and
errors per endpoint beside the run saved in --last, with the machine, its load average before and
at the end, and the qa commit; then saves this run in --last for the next.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from answers import SQUAD1, articles, squad_corpus
from common import write_corpus
from timing import ROOT, SHARED, brief_corpus, cpu_model, free_port, log, stop, table, wait_ready

DEV = SHARED / "eval" / "dev.jsonl"
QA = [sys.executable, "-m", "qa"]
LAST = Path(__file__).resolve().parent / "load-last.json"
ENDPOINTS = {"ask": ("/ask", "question"), "search": ("/search", "query")}  # path, question field
WARM_UP = 2  # uncounted requests per client on each endpoint, before any is measured
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
        ("bad: 200 KB body", {"method": "POST", "url": "/ask", "content": b"a" * 200_000, "headers": json_type}, 413),
        ("bad: 256 KB chunked", {"method": "POST", "url": "/ask", "chunks": 16, "headers": json_type}, 413),
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
    url: str, requests: list[tuple[str, dict]], clients: int, seconds: float | None = None
) -> tuple[list[Outcome], float]:
    """Send requests in order from concurrent clients, until none is left or, with seconds, no
    new one after that long (those in flight finish and count). Requests sent are a prefix."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    outcomes: list[Outcome] = []
    deadline = time.perf_counter() + seconds if seconds else float("inf")

    async def worker() -> None:
        # One keep-alive connection per client, as a browser tab or a script would hold.
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=1)) as client:  # fmt: skip
            while not queue.empty() and time.perf_counter() < deadline:
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


# --- speed per endpoint (issue 28) ---------------------------------------------------------------


def squad_index(work: Path, env: dict) -> tuple[Path, Path, list[str]]:
    """SQuAD v1.1 dev's articles as a corpus under work, in a folder named by their content (so a
    later run reuses it), indexed by `qa index` (which does nothing if up to date); and the dev
    questions, each once."""
    documents, asked = squad_corpus(articles(SQUAD1))
    key = hashlib.sha256(json.dumps(documents, sort_keys=True).encode()).hexdigest()[:12]
    corpus, index = work / f"squad1-{key}" / "corpus", work / f"squad1-{key}" / "index"
    write_corpus(corpus, documents)
    log(f"indexing SQuAD v1.1 dev into {index} (kept as it is if up to date) ...")
    build_index(corpus, index, env)
    return corpus, index, list(dict.fromkeys(q["question"] for q in asked))


def endpoint_plan(endpoint: str, asked: list[str]) -> list[tuple[str, dict]]:
    path, field = ENDPOINTS[endpoint]
    return [
        (endpoint, {"method": "POST", "url": path, "json": {field: q}, "expect": 200})
        for q in asked
    ]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def measure_endpoints(
    url: str,
    asked: list[str],
    endpoints: list[str],
    clients: int,
    seconds: float,
    server: psutil.Process,  # fmt: skip
) -> dict[str, dict]:
    """Each endpoint in turn for seconds, after every endpoint's warm-up; every request asks the
    next question of asked, so none is asked twice. Beside the speed: the CPU time the server
    and the clients (this process) spent per request, where the 2 cores go."""
    sent = 0
    for endpoint in endpoints:
        warm, _ = await run(
            url, endpoint_plan(endpoint, asked[sent : sent + WARM_UP * clients]), clients
        )
        sent += len(warm)
    figures = {}
    for endpoint in endpoints:
        own = psutil.Process()
        cpu = cpu_seconds(server), cpu_seconds(own)
        outcomes, elapsed = await run(url, endpoint_plan(endpoint, asked[sent:]), clients, seconds)
        server_cpu, client_cpu = cpu_seconds(server) - cpu[0], cpu_seconds(own) - cpu[1]
        sent += len(outcomes)
        ms = [o.seconds * 1000 for o in outcomes]
        figures[endpoint] = {
            "requests": len(outcomes),
            "req/s": round(len(outcomes) / elapsed, 1),
            "p50 ms": round(percentile(ms, 50)),
            "p99 ms": round(percentile(ms, 99)),
            "errors": sum(not o.ok for o in outcomes),
            "server CPU ms/request": round(1000 * server_cpu / max(1, len(outcomes)), 1),
            "client CPU ms/request": round(1000 * client_cpu / max(1, len(outcomes)), 1),
        }
        for detail in sorted({o.detail for o in outcomes if not o.ok})[:10]:
            log(f"{endpoint}: {detail}")
    if sent == len(asked):
        log(f"all {len(asked):,} questions were asked: the last endpoint's run ended early")
    return figures


def qa_commit() -> tuple[str, bool]:
    """The commit the server ran at, and whether qa/ had changes not committed."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    return git("rev-parse", "--short", "HEAD"), bool(git("status", "--porcelain", "--", "qa"))


def describe(run: dict) -> str:
    """One line: which code, when, on what machine under what load, with how many clients."""
    changed = " (qa/ with uncommitted changes)" if run.get("qa changed") else ""
    load = run.get("load") or ["?", "?"]
    return (
        f"{run.get('commit') or '?'}{changed} at {run.get('date') or '?'}; {run['cpus']} CPUs, "
        f"{run['machine']}; load average {load[0]} before, {load[1]} at the end; "
        f"{run['clients']} clients, {run['seconds']} s per endpoint; {run['corpus']}"
        + (f"; {run['note']}" if run.get("note") else "")
    )


def comparison(before: dict | None, now: dict) -> str:
    rows = []
    for endpoint in now["endpoints"]:
        for label, run in (("before", before), ("now", now)):
            if f := (run or {}).get("endpoints", {}).get(endpoint):
                cells = [f"{f['req/s']:.1f}", f"{f['p50 ms']:,} ms", f"{f['p99 ms']:,} ms"]
                cpu = [f.get(f"{who} CPU ms/request") for who in ("server", "client")]
                cpu_cells = ["?" if c is None else f"{c:.1f} ms" for c in cpu]
                rows.append([f"POST {ENDPOINTS[endpoint][0]}", label, *cells, str(f["errors"]), *cpu_cells])  # fmt: skip
    return table(["endpoint", "run", "req/s", "p50", "p99", "errors", "server CPU/req", "clients' CPU/req"], rows)  # fmt: skip


def speed(args, env: dict) -> int:
    """--endpoints: req/s, p50, p99 and errors per endpoint over SQuAD v1.1 dev, beside the run
    saved in --last; this run is then saved there."""
    load_before = os.getloadavg()[0]  # before anything of ours runs: the machine's other work
    corpus, index, asked = squad_index(args.work, env)
    random.Random(args.seed).shuffle(asked)
    with serving(corpus, index, env) as (url, server):
        passages = httpx.get(f"{url}/health").json()["passages"]
        log(f"qa serve on {url} (pid {server.pid}); {args.seconds} s on each of {args.endpoints}")
        figures = asyncio.run(
            measure_endpoints(
                url,
                asked,
                args.endpoints.split(","),
                args.clients,
                args.seconds,
                psutil.Process(server.pid),
            )  # fmt: skip
        )
    commit, changed = qa_commit()
    now = {
        "commit": commit,
        "qa changed": changed,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": cpu_model(),
        "cpus": os.cpu_count(),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "clients": args.clients,
        "seconds": args.seconds,
        "corpus": f"SQuAD v1.1 dev, {len(list(corpus.glob('*.txt')))} articles, {passages:,} passages",
        "endpoints": figures,
    }
    before = json.loads(args.last.read_text()) if args.last.is_file() else None
    print(f"now:    {describe(now)}")
    print(f"before: {describe(before)}" if before else f"before: no run saved in {args.last}")
    print("(load average: 1 minute; the server and the clients share the machine)\n")
    print(comparison(before, now))
    args.last.write_text(json.dumps(now, indent=2) + "\n")
    log(f"this run saved in {args.last}")
    return 0 if all(f["errors"] == 0 for f in figures.values()) else 1


# --- shared ------------------------------------------------------------------------------------


def build_index(corpus: Path, index: Path, env: dict) -> None:
    done = subprocess.run(
        [*QA, "index", "--corpus", str(corpus), "--index", str(index)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"qa index failed: {done.stderr[-2000:]}")


@contextlib.contextmanager
def serving(corpus: Path, index: Path, env: dict) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real `qa serve` on 127.0.0.1 over corpus and index, ready to answer; stopped after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*QA, "serve", "--host", "127.0.0.1", "--port", str(port), "--corpus", str(corpus), "--index", str(index)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(url, server)
        yield url, server
    finally:
        stop(server)


def endpoint_names(value: str) -> str:
    unknown = set(value.split(",")) - set(ENDPOINTS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"not an endpoint: {', '.join(sorted(unknown))} (ask, search)"
        )
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (8-32)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--corpus", type=Path, help="with --index: serve this index as it is")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--count-warmup", action="store_true", help=argparse.SUPPRESS)
    speed_options = parser.add_argument_group("speed per endpoint over SQuAD v1.1 dev (issue 28)")
    speed_options.add_argument(
        "--endpoints",
        type=endpoint_names,
        help="e.g. ask,search: measure each in turn instead of the mixed run",
    )
    speed_options.add_argument("--seconds", type=int, default=30, help="per endpoint (default 30)")
    speed_options.add_argument("--seed", type=int, default=2016, help="the questions' shuffle")
    speed_options.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "qa-load",
        help="keep the SQuAD corpus and index here between runs",
    )
    speed_options.add_argument(
        "--last",
        type=Path,
        default=LAST,
        help=f"the previous run, compared and then replaced (default {LAST.relative_to(ROOT)})",
    )
    args = parser.parse_args()
    if args.endpoints and (args.corpus or args.index):
        parser.error(
            "--endpoints measures over SQuAD v1.1 dev; --corpus and --index are for the mixed run"
        )

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("QA_API_KEY", None)
    if args.endpoints:
        return speed(args, env)
    work = Path(tempfile.mkdtemp(prefix="qa-load-"))
    try:
        if args.index is None:
            corpus, index = brief_corpus(work)
            print("building an index of the brief ...", file=sys.stderr)
            build_index(corpus, index, env)
        else:
            corpus, index = args.corpus or Path("corpus"), args.index
        with serving(corpus, index, env) as (url, server):
            print(f"qa serve on {url} (pid {server.pid}); {args.warmup} warm-up requests, then {args.requests}", file=sys.stderr)  # fmt: skip
            outcomes, seconds, rss = asyncio.run(measure(url, psutil.Process(server.pid), args))
            probe = huge_upload(httpx.URL(url).port)
            rss["after probe"] = psutil.Process(server.pid).memory_info().rss
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
