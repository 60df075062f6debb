"""What the speed benchmarks share: the machine's description, summaries of repeated runs, tables."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent
BRIEF = ROOT / "corpus" / "eu-nato-relationship.txt"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def qa_env(corpus: Path, index: Path) -> dict[str, str]:
    """The environment for a qa subprocess on corpus and index: no other QA_ setting of ours
    leaks in, and the model hub stays offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return env | {"QA_CORPUS": str(corpus), "QA_INDEX": str(index), "HF_HUB_OFFLINE": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, server: subprocess.Popen, timeout: float = 180) -> None:
    """Wait until the qa serve at url answers /health; exit with its own words if it dies first."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            said = server.stderr.read() if server.stderr else ""
            raise SystemExit(f"qa serve exited with status {server.returncode}: {said}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("qa serve did not answer /health in time")


def stop(server: subprocess.Popen) -> None:
    """End a server started for a benchmark: asked first, killed if it will not go."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def brief_corpus(work: Path) -> tuple[Path, Path]:
    """A corpus folder under work holding only the brief, and where its index goes."""
    corpus = work / "corpus"
    corpus.mkdir()
    shutil.copy(BRIEF, corpus / BRIEF.name)
    return corpus, work / "index"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """One line: CPUs, CPU model, load (other work on the machine skews every figure), versions."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs, {cpu_model()}, load average {load}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def summary(samples: list[float], scale: float = 1.0, digits: int = 3) -> list[str]:
    """median, min, max (scaled and rounded) of a list of measurements."""
    values = [statistics.median(samples), min(samples), max(samples)]
    return [f"{v * scale:.{digits}f}" for v in values]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, so that RESULTS.md can hold the output as printed."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def run_with_rss(args: list[str], env: dict | None = None) -> tuple[float, float, str, str]:
    """Run a command to its end: wall seconds, its own peak RSS in MB, stdout and stderr."""
    import tempfile
    import time

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args[:3]))} failed ({proc.returncode}): {stderr[-2000:]}"
        )
    return seconds, usage.ru_maxrss / 1024, stdout, stderr


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
