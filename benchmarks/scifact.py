"""BEIR SciFact: nDCG@10 of the abstracts qa ranks for the 300 test claims.

    .venv/bin/python benchmarks/scifact.py [--work DIR]

Each abstract becomes one text file (its title, a blank line, its text) in a corpus folder,
indexed through `qa index`'s code; each claim is asked through the normal retrieval path and the
abstracts are ranked by their best passage. The baselines (whole abstracts, title included) are
computed in the same run (see common.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import tempfile
import time
from pathlib import Path

from common import DATA, Baselines, build_qa, log, print_table, write_corpus

from qa.ingest.passages import DEFAULT_MAX_WORDS
from qa.models.onnx_embedding import BuildEncoder

DEPTH = 10
PASSAGES_PER_QUERY = 100  # enough passages to reach DEPTH distinct abstracts


def load(
    folder: Path,
) -> tuple[dict[str, str], list[str], dict[str, str], dict[str, dict[str, int]]]:
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").open(encoding="utf-8")]
    documents = {
        f"{d['_id']}.txt": f"{d['title'].strip()}\n\n{d['text'].strip()}\n" for d in corpus
    }
    ids = [d["_id"] for d in corpus]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8"))}  # fmt: skip
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels-test.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return documents, ids, {q: queries[q] for q in qrels}, qrels


def ndcg(ranked: list[str], relevant: dict[str, int], depth: int = DEPTH) -> float:
    """nDCG@depth with linear gains, as pytrec_eval (and so BEIR) computes it."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:depth]))
    ideal = sorted(relevant.values(), reverse=True)[:depth]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def by_best_passage(hits) -> list[str]:
    """Abstract ids in the order of their best-ranked passage."""
    return list(dict.fromkeys(h.passage.source.removesuffix(".txt") for h in hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--max-words", type=int, default=DEFAULT_MAX_WORDS, help="qa passage length cap"
    )
    parser.add_argument("--work", type=Path, help="keep corpus, index and baseline vectors here")
    parser.add_argument(
        "--no-rerank", action="store_true", help="retrieval alone, without the reader"
    )
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="qa-scifact-"))
    documents, ids, claims, qrels = load(DATA / "scifact")
    log(f"SciFact: {len(documents)} abstracts, {len(claims)} test claims")
    embedder = BuildEncoder(None, notice=log)  # as `qa index` encodes: ONNX on every core
    write_corpus(work / "corpus", documents)
    retriever = build_qa(
        work / "corpus", work / "index", embedder, args.max_words, not args.no_rerank
    )

    started = time.perf_counter()
    ours = {q: by_best_passage(retriever.search(text, PASSAGES_PER_QUERY)) for q, text in claims.items()}  # fmt: skip
    per_query_ms = 1000 * (time.perf_counter() - started) / len(claims)

    baselines = Baselines([documents[f"{i}.txt"] for i in ids], embedder, cache=work)
    rankings = baselines.rank(list(claims.values()), depth=100)

    def mean_ndcg(ranked: dict[str, list[str]]) -> float:
        return sum(ndcg(ranked[q], qrels[q]) for q in claims) / len(claims)

    short = sum(len(set(r[:DEPTH])) < DEPTH for r in ours.values())
    rows = {f"qa passages (≤{args.max_words} words)": {"nDCG@10": mean_ndcg(ours), "ms/query": per_query_ms}}  # fmt: skip
    for name, ranked in rankings.items():
        rows[f"{name} (abstracts)"] = {"nDCG@10": mean_ndcg({q: [ids[i] for i in r] for q, r in zip(claims, ranked, strict=True)})}  # fmt: skip
    if short:
        log(f"note: {short} claims reached fewer than {DEPTH} abstracts")
    print_table(f"SciFact test: {len(claims)} claims over {len(documents)} abstracts", rows, ["nDCG@10", "ms/query"])  # fmt: skip


if __name__ == "__main__":
    main()
