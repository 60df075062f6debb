"""`qa serve` under slow clients: RSS and open connections while many bodies stall half sent.

    .venv/bin/python benchmarks/slow_clients.py [--clients 1000] [--body-kb 120] [--hold 30]
                                                [--tree DIR]

A real server on 127.0.0.1 over the brief. Each client connects, sends the headers of a
`POST /search` declaring a 125,000-byte body, sends --body-kb KB of it and then stalls (nothing
more, never closing). The server's RSS (psutil) and its open connections are read every half
second for --hold seconds; a normal `POST /search` is timed meanwhile, once a second.

--tree runs the server from another source tree (say an earlier commit, exported with
`git archive <commit> | tar -x -C DIR`), so that before and after are measured alike.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from timing import ROOT, brief_corpus, free_port, log, machine, qa_env, stop, table, wait_ready

DECLARED = 125_000  # under the server's 128 KB limit: a body it would read to the end


async def stall(port: int, body: bytes, held: list, refused: list) -> None:
    """One slow client: the headers and part of the body, then nothing."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            f"POST /search HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {DECLARED}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        held.append((reader, writer))
    except OSError:
        refused.append(1)


def open_connections(process: psutil.Process, port: int) -> int:
    return sum(
        1
        for c in process.net_connections(kind="tcp")
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


async def attack(args, port: int, process: psutil.Process, url: str) -> list[list[str]]:
    body = b'{"query": "' + b"x" * (args.body_kb * 1024 - 12)
    held: list = []
    refused: list = []
    started = time.monotonic()
    for start in range(0, args.clients, 100):  # in waves, as a client pool would open them
        wave = range(start, min(start + 100, args.clients))
        await asyncio.gather(*(stall(port, body, held, refused) for _ in wave))
    log(
        f"{len(held)} clients stalled, {len(refused)} refused, in {time.monotonic() - started:.1f} s"
    )
    rows, peak, next_probe = [], 0.0, 0.0
    async with httpx.AsyncClient(timeout=30) as client:
        while (elapsed := time.monotonic() - started) < args.hold:
            rss = process.memory_info().rss / 2**20
            peak = max(peak, rss)
            if elapsed >= next_probe:
                probe = time.perf_counter()
                try:
                    status = (
                        await client.post(f"{url}/search", json={"query": "rail"})
                    ).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                ms = (time.perf_counter() - probe) * 1000
                rows.append([f"{elapsed:.0f}", f"{rss:.0f}", str(open_connections(process, port)), f"{status} in {ms:.0f} ms"])  # fmt: skip
                next_probe += args.every
            await asyncio.sleep(0.5)
    for _, writer in held:
        writer.close()
    rows.append(["peak", f"{peak:.0f}", "", ""])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--body-kb", type=int, default=120)
    parser.add_argument(
        "--hold", type=float, default=30, help="seconds to watch the stalled clients"
    )
    parser.add_argument("--every", type=float, default=5, help="seconds between rows")
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree the server runs from")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qa-slow-clients-") as work:
        corpus, index = brief_corpus(Path(work))
        env = qa_env(corpus, index)
        # `python -m qa` from the tree: its own qa package, whatever is installed.
        qa = [sys.executable, "-m", "qa"]
        subprocess.run([*qa, "index"], env=env, cwd=args.tree, check=True, capture_output=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [*qa, "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, env=env, cwd=args.tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            wait_ready(url, server)
            process = psutil.Process(server.pid)
            for _ in range(5):
                httpx.post(f"{url}/search", json={"query": "rail gauges"}, timeout=30)
            idle = process.memory_info().rss / 2**20
            rows = [["idle", f"{idle:.0f}", str(open_connections(process, port)), ""]]
            rows += asyncio.run(attack(args, port, process, url))
            time.sleep(2)
            after = process.memory_info().rss / 2**20
            rows.append(["2 s after they left", f"{after:.0f}", str(open_connections(process, port)), ""])  # fmt: skip
        finally:
            stop(server)
    print(machine())
    print(f"`qa serve` from {args.tree}: {args.clients:,} clients each stalled after "
          f"{args.body_kb} KB of a {DECLARED:,}-byte body")  # fmt: skip
    print(table(["seconds", "RSS MB", "open connections", "a normal POST /search"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
