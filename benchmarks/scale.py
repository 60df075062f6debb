"""Scale: index size, peak memory and query latency on real corpora, and exact versus HNSW dense
search (latency, recall@10) on synthetic and real vectors.

    .venv/bin/python benchmarks/scale.py [--work DIR] [--sizes 100000,1000000] [--queries 200]

Corpora: the brief, SQuAD v1.1 dev (48 articles, one file each, paragraphs separated by blank
lines) and SciFact (5,183 abstracts, one file each: title, blank line, text), each indexed by
`qa index` in a fresh process (wall time and that process's peak RSS), then searched by a fresh
process that loads the index as `qa search` does and times `Assistant.search` on questions from
the corpus's own question set (first one not counted). With --work, the corpora and indexes are
kept and a fresh index is not rebuilt (its build figures are kept beside it).

Dense search: random unit vectors (384-d, Gaussian then normalised: the hardest case, since they
have no neighbourhood structure) and the real passage vectors of the three corpora, queried with
their own questions. Exact is faiss.IndexFlatIP; HNSW is the graph `qa index` builds above its
threshold (qa.index.dense.hnsw_index), at each efSearch that qa.index.dense.dense_index may choose (it keeps
the first whose recall@10 reaches 0.99 on probes from the passages, else stays exact). Latency is per single query (nq=1, as a
server sees them); recall@10 is the share of exact top-10 found by HNSW's top-10, and "in 100"
the share found among the 100 candidates that qa's retrieval asks for and re-scores exactly.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import BIN, BRIEF, SHARED, folder_mb, log, machine, qa_env, run_with_rss, summary, table

EF_SEARCH = (64, 128, 256, 512, 1024)  # qa uses qa.index.dense.HNSW_EF_SEARCH

SEARCHER = """
import json, sys, time
from pathlib import Path
from qa.answer.assistant import Assistant
from qa.settings import Settings

questions = json.loads(Path(sys.argv[3]).read_text())
assistant = Assistant(Settings(corpus=Path(sys.argv[1]), index=Path(sys.argv[2])))
assistant.search(questions[0], 10)
times = []
for q in questions[1:]:
    started = time.perf_counter()
    assistant.search(q, 10)
    times.append(time.perf_counter() - started)
print(json.dumps({"times": times, "embedder": type(assistant.embedder).__name__}))
"""


def squad() -> tuple[dict[str, str], list[str]]:
    articles = json.loads((SHARED / "benchmarks" / "squad" / "dev-v1.1.json").read_text())["data"]
    documents = {
        f"{a['title']}.txt": "\n\n".join(" ".join(p["context"].split()) for p in a["paragraphs"])
        + "\n"
        for a in articles
    }
    questions = [q["question"] for a in articles for p in a["paragraphs"] for q in p["qas"]]
    return documents, questions[::20]


def scifact() -> tuple[dict[str, str], list[str]]:
    folder = SHARED / "benchmarks" / "scifact"
    documents = {}
    for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        documents[f"{doc['_id']}.txt"] = f"{doc['title'].strip()}\n\n{doc['text'].strip()}\n"
    tested = {
        line.split("\t")[0] for line in (folder / "qrels-test.tsv").read_text().splitlines()[1:]
    }
    claims = [json.loads(x) for x in (folder / "queries.jsonl").read_text().splitlines() if x]
    return documents, [c["text"] for c in claims if c["_id"] in tested]


def brief() -> tuple[dict[str, str], list[str]]:
    dev = (SHARED / "eval" / "dev.jsonl").read_text().splitlines()
    return {BRIEF.name: BRIEF.read_text(encoding="utf-8")}, [
        json.loads(x)["question"] for x in dev if x
    ]


def write_corpus(folder: Path, documents: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def corpus_figures(name: str, documents: dict, questions: list[str], work: Path) -> dict:
    corpus, index = work / name / "corpus", work / name / "index"
    write_corpus(corpus, documents)
    env = qa_env(corpus, index)
    record = work / name / "build.json"
    _, _, out, _ = run_with_rss([str(BIN / "qa"), "info", "--json"], env)
    if json.loads(out)["status"] == "fresh" and record.is_file():  # measured by an earlier run
        build = json.loads(record.read_text())
    else:  # a whole build, even where an update would reuse vectors
        seconds, rss, out, _ = run_with_rss([str(BIN / "qa"), "index", "--rebuild"], env)
        build = {"seconds": seconds, "rss": rss, "line": out.strip()}
        record.write_text(json.dumps(build))
    log(f"{name}: {build['line']}")
    asked = work / name / "questions.json"
    asked.write_text(json.dumps(questions))
    script = work / "searcher.py"
    script.write_text(SEARCHER)
    _, search_rss, out, err = run_with_rss([sys.executable, str(script), str(corpus), str(index), str(asked)], env)  # fmt: skip
    result = json.loads(out)
    if result["embedder"] != "OnnxEmbedder":
        log(f"warning: {name} searched with {result['embedder']}: {err.strip()}")
    folder = (index / "current").resolve()
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        "name": name,
        "documents": manifest["documents"],
        "passages": manifest["passages"],
        "size": folder_mb(folder),
        "encoder": folder_mb(folder / "encoder") if (folder / "encoder").is_dir() else 0.0,
        "build": build,
        "search_rss": search_rss,
        "times": result["times"],
        "vectors_of": folder,
    }


def unit_vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, 384), dtype=np.float32)
    for start in range(0, n, 100_000):  # in slices: 1M x 384 float64 would need 3 GB
        block = rng.standard_normal((min(100_000, n - start), 384), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_row(label: str, vectors: np.ndarray, queries: np.ndarray):
    """Exact search: its row, and the true top 100 of every query."""
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 100)
    times = _single_query_times(exact, queries, 100)
    log(f"{label} {len(vectors):,}: exact {statistics.median(times) * 1000:.2f} ms")
    row = [label, f"{len(vectors):,}", "exact (IndexFlatIP)", "-", *summary(times, 1000, 2), "1.000", "1.000"]  # fmt: skip
    return row, truth


def hnsw_rows(label: str, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> list[list[str]]:  # fmt: skip
    """HNSW as `qa index` builds it (qa.index.hnsw_index), at each efSearch."""
    from qa.index.dense import HNSW_EF_CONSTRUCTION, HNSW_M, hnsw_index, tune

    log(f"{label} {len(vectors):,}: building HNSW (M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION})")  # fmt: skip
    started = time.perf_counter()
    hnsw = _hnsw(vectors, hnsw_index)
    built = time.perf_counter() - started
    log(f"{label} {len(vectors):,}: HNSW built in {built:.0f} s")
    kept, probed = tune(hnsw, vectors)  # what `qa index` would keep for these vectors
    choice = f"HNSW at efSearch {kept}" if kept else "exact search (no efSearch reached 0.99)"
    log(f"{label} {len(vectors):,}: qa would keep {choice}; probe recall@10 {probed:.3f}")
    rows = []
    for ef in EF_SEARCH:
        hnsw.hnsw.efSearch = ef
        _, top10 = hnsw.search(queries, 10)
        _, top100 = hnsw.search(queries, 100)
        recall10 = np.mean(
            [len(set(a) & set(t[:10])) / 10 for a, t in zip(top10, truth, strict=True)]
        )
        in100 = np.mean(
            [len(set(a) & set(t[:10])) / 10 for a, t in zip(top100, truth, strict=True)]
        )
        times = _single_query_times(hnsw, queries, 100)
        mark = " (qa keeps)" if ef == kept else ""
        rows.append([label, f"{len(vectors):,}", f"HNSW M={HNSW_M}, efC={HNSW_EF_CONSTRUCTION} (built in {built:.0f} s)", f"{ef}{mark}", *summary(times, 1000, 2), f"{recall10:.3f}", f"{in100:.3f}"])  # fmt: skip
    if kept is None:
        rows.append([label, f"{len(vectors):,}", f"qa keeps exact search (probe recall@10 at most {probed:.3f})", "-", "-", "-", "-", "1.000", "1.000"])  # fmt: skip
    return rows


def _hnsw(vectors: np.ndarray, hnsw_index):
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # a build uses every core, as `qa index` does
    return hnsw_index(vectors)


def _single_query_times(index, queries: np.ndarray, k: int) -> list[float]:
    """Seconds per query, one at a time on one thread, as qa's retrieval searches (its depth is
    100 candidates)."""
    import faiss

    faiss.omp_set_num_threads(1)
    times = []
    for q in queries:
        started = time.perf_counter()
        index.search(q[None, :], k)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, help="keep corpora and indexes here between runs")
    parser.add_argument("--sizes", default="10000,30000,100000,300000,1000000", help="random set sizes, exact search")  # fmt: skip
    parser.add_argument("--hnsw-sizes", default="100000,1000000", help="random set sizes, HNSW too")  # fmt: skip
    parser.add_argument("--queries", type=int, default=200, help="queries per dense measurement")
    parser.add_argument("--skip-corpora", action="store_true")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="qa-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    corpora = []
    try:
        if not args.skip_corpora:
            for name, load in (("brief", brief), ("squad", squad), ("scifact", scifact)):
                documents, questions = load()
                corpora.append(corpus_figures(name, documents, questions, work))

        dense_rows = []
        queries = unit_vectors(args.queries, seed=1)
        hnsw_sizes = {int(x) for x in args.hnsw_sizes.split(",") if x}
        for n in sorted({int(x) for x in args.sizes.split(",") if x} | hnsw_sizes):
            vectors = unit_vectors(n, seed=n)
            row, truth = exact_row("random", vectors, queries)
            dense_rows.append(row)
            if n in hnsw_sizes:
                dense_rows += hnsw_rows("random", vectors, queries, truth)
            del vectors
        if corpora:
            from qa.index import Index
            from qa.models.onnx_embedding import OnnxEmbedder

            real, asked = [], []
            for c in corpora:
                loaded = Index.load(c["vectors_of"].parent)
                real.append(loaded.dense.reconstruct_n(0, loaded.dense.ntotal))
                asked += json.loads((work / c["name"] / "questions.json").read_text())
            encoder = OnnxEmbedder(corpora[0]["vectors_of"] / "encoder")
            picked = asked[:: max(1, len(asked) // args.queries)][: args.queries]
            vectors, queries = np.vstack(real), encoder.encode(picked)
            row, truth = exact_row("real passages", vectors, queries)
            dense_rows += [row, *hnsw_rows("real passages", vectors, queries, truth)]
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    print(machine())
    if corpora:
        print()
        print("Corpora: `qa index` in a fresh process, then a fresh process searching (top 10)")
        print(table(
            ["corpus", "documents", "passages", "index MB (encoder MB)", "qa index s", "qa index peak RSS MB",
             "search peak RSS MB", "queries", "search median ms", "min ms", "max ms"],
            [[c["name"], str(c["documents"]), str(c["passages"]), f"{c['size']:.1f} ({c['encoder']:.1f})",
              f"{c['build']['seconds']:.1f}", f"{c['build']['rss']:.0f}", f"{c['search_rss']:.0f}",
              str(len(c["times"])), *summary(c["times"], 1000, 1)] for c in corpora],
        ))  # fmt: skip
    print()
    print(f"Dense search: {args.queries} queries, one at a time on one thread, 100 results each")
    print(table(
        ["vectors", "count", "index", "efSearch", "median ms", "min ms", "max ms", "recall@10", "recall@10 in 100"],
        dense_rows,
    ))  # fmt: skip


if __name__ == "__main__":
    main()
