"""Answers on questions nobody tuned for: qa beside an earlier qa (default: the heuristic answerer).

    .venv/bin/python benchmarks/answers.py [--baseline 9d884cc] [--work DIR] [--squad 500]

Each system is this script run as a worker with `qa` imported from its own source tree (the
baseline is `git archive` of the given commit), building its indexes with its own `qa index`
and answering through `Assistant.ask` / `Assistant.search`, as `POST /ask` and `/search` do:

- brief: benchmarks/brief-heldout.jsonl (47 questions written for this check and used for no
  choice of any kind; the thresholds come from SQuAD 2.0) and ../shared/eval/dev.jsonl (the dev
  set, a sanity check), through `qa eval --json`;
- SQuAD 2.0: the questions of the part-A articles held out of both training and calibration
  (training/calibrate.py TEST), asked of all 17 part-A articles at once, answerable and
  unanswerable mixed: accuracy = (right answers + refusals of unanswerable questions) / all;
- real folder: benchmarks/real-heldout.jsonl (60 questions over the 7 CRS reports' web versions
  and the 3 White House pages in ../shared/benchmarks, written from the documents alone by a
  session that saw no code: 42 answerable, 12 of them paraphrases; 18 not, 8 of them near
  misses, 5 with a key swapped, 5 out of corpus): answer hit (answered, holding the answer),
  false refusals, and per kind of unanswerable question the share declined;
- SQuAD v1.1: a seeded sample of questions from the 35 articles outside training, asked of all
  48 articles at once: search hit@1 and hit@5 (a passage of the question's article holding an
  answer), and how often `ask` answers and holds an answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "training"))

from calibrate import TEST, contains  # noqa: E402
from reader import SQUAD1, SQUAD1_ALLOWED, SQUAD2, articles  # noqa: E402

BRIEF = ROOT / "corpus" / "eu-nato-relationship.txt"
REAL_SET = HERE / "real-heldout.jsonl"
REAL_FOLDERS = (SHARED / "benchmarks" / "real-pdfs" / "web-version", SHARED / "benchmarks" / "real-markdown")  # fmt: skip
BRIEF_SETS = {"brief held-out": HERE / "brief-heldout.jsonl", "brief dev": SHARED / "eval" / "dev.jsonl"}  # fmt: skip


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def squad_corpus(data: list[dict]) -> tuple[dict[str, str], list[dict]]:
    documents, questions = {}, []
    for article in data:
        name = f"{article['title']}.txt"
        documents[name] = "\n\n".join(" ".join(p["context"].split()) for p in article["paragraphs"]) + "\n"  # fmt: skip
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                answers = sorted({" ".join(a["text"].split()) for a in qa.get("answers") or []})
                questions.append({"question": qa["question"], "source": name, "answers": answers, "article": article["title"]})  # fmt: skip
    return documents, questions


# --- the worker: one system, imported from its own tree -----------------------------------------


def qa_command(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {"PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "qa", *args], env=env, cwd=root, capture_output=True, text=True)  # fmt: skip
    if done.returncode not in (0,):
        raise SystemExit(f"qa {' '.join(args[:1])} failed: {done.stderr[-2000:]}")
    return done


def assistant_over(root: Path, documents: dict[str, str], work: Path):
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        if not (corpus / name).is_file():
            (corpus / name).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    qa_command(root, "index", "--corpus", str(corpus), "--index", str(work / "index"))
    log(f"  indexed {len(documents)} documents in {time.perf_counter() - started:.0f} s")
    from qa.answer.assistant import Assistant
    from qa.settings import Settings

    return Assistant(Settings(corpus=corpus, index=work / "index"))


def worker(root: Path, work: Path, squad: int, seed: int) -> dict:
    sys.path.insert(0, str(root))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results: dict = {}

    corpus = work / "brief" / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / BRIEF.name).write_text(BRIEF.read_text(encoding="utf-8"), encoding="utf-8")
    qa_command(root, "index", "--corpus", str(corpus), "--index", str(work / "brief" / "index"))
    for name, path in BRIEF_SETS.items():
        done = qa_command(root, "eval", str(path), "--json", "--corpus", str(corpus), "--index", str(work / "brief" / "index"))  # fmt: skip
        results[name] = json.loads(done.stdout)["systems"]["qa"]
        log(f"  {name}: {results[name]}")

    results["real folder"] = real_folder(root, work)
    log(f"  real folder: {results['real folder']}")

    documents, questions = squad_corpus(articles(SQUAD2))
    asked = [q for q in questions if q["article"] in TEST]
    assistant = assistant_over(root, documents, work / "squad2")
    right = declined = answered_right = 0
    for q in asked:
        a = assistant.ask(q["question"])
        if not q["answers"]:
            declined += not a.answerable
        elif a.answerable and contains(a.answer, q["answers"]):
            answered_right += 1
    answerable = sum(1 for q in asked if q["answers"])
    right = answered_right + declined
    results["squad2"] = {
        "questions": len(asked),
        "accuracy": right / len(asked),
        "answerable answered right": answered_right / answerable,
        "unanswerable declined": declined / (len(asked) - answerable),
    }
    log(f"  squad2: {results['squad2']}")

    documents, questions = squad_corpus(articles(SQUAD1))
    unseen = [q for q in questions if q["article"] not in SQUAD1_ALLOWED]
    sample = random.Random(seed).sample(unseen, squad)
    assistant = assistant_over(root, documents, work / "squad1")
    first, answered, held, ms = [], 0, 0, []
    for q in sample:
        started = time.perf_counter()
        hits = assistant.search(q["question"], 5)
        ms.append(1000 * (time.perf_counter() - started))
        ranks = [h.rank for h in hits if h.passage.source == q["source"] and contains(h.passage.text, q["answers"])]  # fmt: skip
        first.append(min(ranks) if ranks else None)
        a = assistant.ask(q["question"])
        answered += a.answerable
        held += a.answerable and contains(a.answer, q["answers"])
    results["squad1"] = {
        "questions": len(sample),
        "hit@1": sum(r == 1 for r in first) / len(sample),
        "hit@5": sum(r is not None for r in first) / len(sample),
        "answered": answered / len(sample),
        "answer hit": held / len(sample),
        "search ms (median)": statistics.median(ms),
    }
    log(f"  squad1: {results['squad1']}")
    return results


def real_folder(root: Path, work: Path) -> dict:
    documents = {p.name: p.read_text(encoding="utf-8") for f in REAL_FOLDERS for p in sorted(f.glob("*.md"))}  # fmt: skip
    assistant = assistant_over(root, documents, work / "real")
    rows = [json.loads(line) for line in REAL_SET.read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    judged = []
    for q in rows:
        a = assistant.ask(q["question"])
        hit = a.answerable and contains(a.answer, [q["answer"], q["evidence"]]) if q["answerable"] else not a.answerable  # fmt: skip
        judged.append((q, a.answerable, hit))
    answerable = [(q, x, h) for q, x, h in judged if q["answerable"]]
    out = {
        "questions": len(judged),
        "answer hit": sum(h for _, _, h in answerable) / len(answerable),
        "false refusals": sum(not x for _, x, _ in answerable) / len(answerable),
        "unanswerable declined": sum(h for q, _, h in judged if not q["answerable"])
        / (len(judged) - len(answerable)),  # fmt: skip
    }
    for kind in ("paraphrase", "near_miss", "swapped", "out_of_corpus"):
        rows_of = [h for q, _, h in judged if q.get("kind") == kind]
        label = "paraphrases answered right" if kind == "paraphrase" else f"{kind.replace('_', ' ')} declined"  # fmt: skip
        out[label] = sum(rows_of) / len(rows_of)
    return out


# --- the driver --------------------------------------------------------------------------------


def baseline_tree(commit: str, work: Path) -> Path:
    """The baseline's source, as `git archive` of the commit (no checkout of ours is touched)."""
    tree = work / f"src-{commit}"
    if not (tree / "qa").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout  # fmt: skip
        with tempfile.TemporaryFile() as f:
            f.write(archive)
            f.seek(0)
            with tarfile.open(fileobj=f) as tar:
                tar.extractall(tree, filter="data")
    return tree


def run_worker(root: Path, work: Path, args, reuse: bool = False) -> dict:
    """The worker's figures; a fixed baseline commit's are reused from an earlier run."""
    out = work / f"results-{args.squad}-{args.seed}.json"
    if reuse and out.is_file():
        return json.loads(out.read_text())
    command = [sys.executable, __file__, "--worker", str(root), "--work", str(work), "--squad", str(args.squad), "--seed", str(args.seed), "--out", str(out)]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(root)})
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="9d884cc", help="the commit to compare with")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-answers")
    parser.add_argument("--squad", type=int, default=500, help="SQuAD v1.1 questions in the sample")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--only", choices=["qa", "baseline"], help="run one system")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.out.write_text(json.dumps(worker(args.worker, args.work, args.squad, args.seed)))
        return

    systems = {}
    for name in ["qa", "baseline"] if args.only is None else [args.only]:
        root = ROOT if name == "qa" else baseline_tree(args.baseline, args.work)
        label = "qa" if name == "qa" else f"heuristic answerer ({args.baseline})"
        log(f"{label}: {root}")
        systems[label] = run_worker(root, args.work / name, args, reuse=name == "baseline")
    print(
        f"machine: {os.cpu_count()} CPUs; SQuAD v1.1 sample: {args.squad} questions, seed {args.seed}\n"
    )
    sets = list(next(iter(systems.values())))
    for s in sets:
        keys = [k for k in next(iter(systems.values()))[s] if isinstance(next(iter(systems.values()))[s][k], (int, float))]  # fmt: skip
        print(
            f"### {s}\n\n| system | " + " | ".join(keys) + " |\n" + "|---" * (len(keys) + 1) + "|"
        )
        for name, figures in systems.items():
            cells = [_cell(figures[s].get(k)) for k in keys]
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()


def _cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
