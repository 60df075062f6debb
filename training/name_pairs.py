"""Learn when two names name the same thing (qa/models/name_pairs.py) from name pairs mined in public data.

    HF_HUB_OFFLINE=1 .venv/bin/python training/name_pairs.py [--seed 13] [--floor 0.5] [--out qa/models/names]

A question may name what its passage calls otherwise (a paraphrase or a metonym: "Beijing" of a
passage about China), or name something else of the same kind (a swap: "New Zealand" of one about
Australia). The encoder's cosine scores both alike; this script mines examples of each and fits a
logistic regression over the pair's vectors.

Data (public, ../shared/benchmarks/train/README.md): SQuAD 1.0 train less its last
OUT_OF_CORPUS_ARTICLES articles (held out by training/calibrate.py) and SQuAD 2.0 train's first 10
articles (both CC BY-SA 4.0, Rajpurkar et al.), and TyDi QA GoldP English train (Apache-2.0, Clark
et al., Google): the articles training/reader.py's `split` gives for these sources. Nothing from
SQuAD dev is read. The weights derive in part from CC BY-SA 4.0 text: pairs.json carries the
attribution.

- Same (paraphrase, metonym, variant spelling): each name of an answerable question
  (`qa.answer.keys._names`) that its paragraph does not hold (folded, as `missing_names` reads
  it), paired with the paragraph's name (a NAME_RUN match, the first MAX_NAMES as at run time)
  the encoder finds most similar, when their cosine is at least FLOOR.
- Swapped (alternatives of one kind): names a paragraph lists together, "A, B and C", "A, B, or
  C" (three or more: "A, or B" is as often a second name for A) or "A and B", each a name
  (`qa.answer.names.is_name`); every two of a list make a pair, kept at the same FLOOR.

Every name is taken `bare` (qa.models.name_pairs: no possessive ending; a possessive otherwise
marks the question's side, hence the "same" class). Pairs where one name contains the other are
dropped from both classes (a variant of one name, or a list's shared head cut off as in "North
and South Korea": either way it would teach containment, not meaning), as are pairs mined as both. A fifth of the articles (by title, seeded) are held out:
their pairs judge the classifier, less any pair that the training articles also give. Each split is balanced by a seeded draw from the larger class. Features per
pair of unit vectors u, v: [u*v, |u-v|, u·v] (qa.models.name_pairs.features), standardised, with
the scaling folded into the saved weights; C is chosen by 5-fold cross-validation grouped by
article on the training split alone (AUC). Prints the counts, the held-out AUC and accuracy
beside plain cosine's, a control that sees only which names a pair holds (u + v: the classes
differ in the kinds of names mined, and this says how much that alone gives away), both AUCs
again within fifths of the control's score (where which names cannot explain the ranking), and
a few illustrative pairs (a demonstration: nothing is chosen on them).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

from reader import OUT_OF_CORPUS_ARTICLES, split  # noqa: E402
from siblings import listed  # noqa: E402

from qa.answer.keys import MAX_NAMES, _fold, _names  # noqa: E402
from qa.answer.names import NAME_RUN  # noqa: E402
from qa.models.name_pairs import FOLDER, bare, features  # noqa: E402

SOURCES = ("squad1-train", "squad2-train", "tydi")
COMMAND = "HF_HUB_OFFLINE=1 .venv/bin/python training/name_pairs.py"
# Below 0.5 the most similar name of the paragraph is mostly noise (sentence-initial "The", "In",
# or a misspelling's unrelated neighbour), judged by reading 25 mined positives per 0.1 band on
# the training data; swaps are held to the same floor so that cosine alone does not split them.
FLOOR = 0.5
HELD_OUT = 0.2  # of the articles, by title
C_GRID = np.logspace(-5, 2, 15)
BAND = (0.55, 0.75)  # cosine band reported apart: where the brief's metonyms and swaps both sit
STRATA = 5  # held-out pairs are also judged within fifths of the which-names control's score
# Illustrations only (printed, never used to choose anything).
DEMONSTRATION = (
    ("Beijing", "China"), ("Ankara", "Türkiye"), ("the bloc", "the EU"),
    ("Tokyo", "the Japanese government"), ("New Zealand", "Australia"),
    ("Bahrain", "the United Arab Emirates"), ("Space Command", "Space Force"),
)  # fmt: skip


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    article: str

    @property
    def key(self) -> tuple[str, str]:
        x, y = self.a.lower(), self.b.lower()
        return (x, y) if x <= y else (y, x)


def shown(text: str) -> str:
    """Text from the data, safe for a terminal: control characters escaped."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def contains(a: str, b: str) -> bool:
    x, y = a.lower(), b.lower()
    return x in y or y in x


def candidates(articles: list[dict]) -> tuple[list[tuple[str, str, list[str]]], list[Pair]]:
    """(article, question name, paragraph's names) to align, and the listed pairs; every name
    `bare`, as the weights will be used."""
    lacking, swapped = [], []
    for article in articles:
        title = article["title"]
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            found = list(dict.fromkeys(m.group(0) for m in NAME_RUN.finditer(context)))[:MAX_NAMES]
            found = [n for n in dict.fromkeys(bare(f) for f in found) if n]
            held = {_fold(w) for w in re.findall(r"[\w’'.-]+", context)}
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or not qa.get("answers") or not found:
                    continue
                for name in dict.fromkeys(_names(qa["question"])):
                    if _fold(name) not in held and bare(name):
                        lacking.append((title, bare(name), found))
            for items in listed(context):
                for i, a in enumerate(items):
                    swapped += [Pair(a, b, False, title) for b in items[i + 1 :]]
    return lacking, swapped


class Vectors:
    """The encoder's unit vectors of every text, encoded once."""

    def __init__(self, encode, texts: set[str]) -> None:
        ordered = sorted(texts)
        self.index = {t: i for i, t in enumerate(ordered)}
        self.matrix = encode(ordered, batch_size=256)

    def __getitem__(self, text: str) -> np.ndarray:
        return self.matrix[self.index[text]]

    def cosine(self, a: str, b: str) -> float:
        return float(self[a] @ self[b])


def aligned(lacking: list[tuple[str, str, list[str]]], vectors: Vectors) -> list[Pair]:
    """Each lacking name with the paragraph's name most like it."""
    pairs = []
    for title, name, found in lacking:
        scores = vectors.matrix[[vectors.index[f] for f in found]] @ vectors[name]
        pairs.append(Pair(name, found[int(np.argmax(scores))], True, title))
    return pairs


def splits(
    pairs: list[Pair], held_out: set[str], rng: random.Random
) -> tuple[list[Pair], list[Pair]]:
    """Training and held-out pairs: one per key, none mined as both kinds, no held-out key that
    training also has, each balanced."""
    kinds: dict[tuple[str, str], set[bool]] = {}
    for p in pairs:
        kinds.setdefault(p.key, set()).add(p.same)
    clean = [p for p in pairs if len(kinds[p.key]) == 1]
    train = list({p.key: p for p in reversed(clean) if p.article not in held_out}.values())
    seen = {p.key for p in train}
    test = [p for p in {p.key: p for p in reversed(clean) if p.article in held_out}.values()]
    test = [p for p in test if p.key not in seen]
    return balanced(train, rng), balanced(test, rng)


def balanced(pairs: list[Pair], rng: random.Random) -> list[Pair]:
    same = sorted((p for p in pairs if p.same), key=lambda p: p.key)
    swapped = sorted((p for p in pairs if not p.same), key=lambda p: p.key)
    n = min(len(same), len(swapped))
    return rng.sample(same, n) + rng.sample(swapped, n)


@dataclass(frozen=True)
class Split:
    """A split's pairs as arrays: features, the which-names control's input (u + v), labels,
    cosines and articles."""

    x: np.ndarray
    which: np.ndarray
    y: np.ndarray
    cosine: np.ndarray
    articles: list[str]

    @classmethod
    def of(cls, pairs: list[Pair], vectors: Vectors) -> Split:
        u = np.stack([vectors[p.a] for p in pairs])
        v = np.stack([vectors[p.b] for p in pairs])
        y = np.array([p.same for p in pairs], dtype=int)
        return cls(features(u, v), u + v, y, np.sum(u * v, axis=1), [p.article for p in pairs])


@dataclass(frozen=True)
class Fitted:
    """A logistic regression with its standardisation folded into coef and bias."""

    coef: np.ndarray
    bias: np.float32
    c: float
    cv_auc: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef + self.bias

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))


def fit(x: np.ndarray, y: np.ndarray, groups: list[str], seed: int) -> Fitted:
    """Standardised logistic regression, C by 5-fold cross-validation grouped by article (AUC);
    the scaling folded into (coef, bias) so that run time needs neither."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    folds = list(GroupKFold(n_splits=5).split(x, y, groups))
    model = LogisticRegressionCV(
        Cs=C_GRID,
        l1_ratios=(0.0,),  # plain L2
        cv=folds,
        scoring="roc_auc",
        max_iter=5000,
        random_state=seed,
        use_legacy_attributes=False,
    )
    model.fit(scaler.transform(x), y)
    coef = model.coef_[0] / scaler.scale_
    bias = model.intercept_[0] - np.sum(model.coef_[0] * scaler.mean_ / scaler.scale_)
    cv_auc = float(np.max(np.mean(model.scores_, axis=0)))  # scores_: folds x l1_ratios x Cs
    return Fitted(coef.astype(np.float32), np.float32(bias), float(model.C_), cv_auc)


def evaluate(model: Fitted, control: Fitted, train: Split, test: Split) -> dict:
    """Held-out figures of the classifier beside plain cosine's and the control's."""
    from sklearn.metrics import roc_auc_score

    probability = model.probability(test.x)
    cut = best_cut(train.cosine, train.y)
    band = (test.cosine >= BAND[0]) & (test.cosine < BAND[1])
    figures = {
        "auc": roc_auc_score(test.y, probability),
        "accuracy": float(np.mean((probability >= 0.5) == test.y)),
        "cosine_auc": roc_auc_score(test.y, test.cosine),
        "cosine_accuracy": float(np.mean((test.cosine >= cut) == test.y)),
        "cosine_cut": cut,
        "which_names_only_auc": roc_auc_score(test.y, control.logit(test.which)),
        "band": list(BAND),
        "band_pairs": int(band.sum()),
        "band_auc": roc_auc_score(test.y[band], probability[band]),
        "band_cosine_auc": roc_auc_score(test.y[band], test.cosine[band]),
    }
    # Within a stratum the control scores every pair alike, so which names a pair holds cannot
    # explain the ranking there: what is left is how the two names relate.
    scores = control.logit(test.which)
    edges = np.quantile(scores, np.linspace(0, 1, STRATA + 1))[1:-1]
    stratum = np.searchsorted(edges, scores, side="right")
    weighed = {"auc": 0.0, "cosine_auc": 0.0}
    counted = 0
    for k in range(STRATA):
        m = stratum == k
        if len(set(test.y[m])) == 2:
            weighed["auc"] += m.sum() * roc_auc_score(test.y[m], probability[m])
            weighed["cosine_auc"] += m.sum() * roc_auc_score(test.y[m], test.cosine[m])
            counted += int(m.sum())
    figures["within_strata_auc"] = weighed["auc"] / counted
    figures["within_strata_cosine_auc"] = weighed["cosine_auc"] / counted
    return {k: round(float(v), 4) if isinstance(v, float) else v for k, v in figures.items()}


def best_cut(scores: np.ndarray, y: np.ndarray) -> float:
    """The cosine threshold with the best accuracy (on the training split)."""
    return float(max(np.unique(scores), key=lambda c: np.mean((scores >= c) == y)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--floor", type=float, default=FLOOR)
    parser.add_argument("--out", type=Path, default=FOLDER)
    args = parser.parse_args()
    started = time.time()
    rng = random.Random(args.seed)

    from qa.models.onnx_embedding import BuildEncoder

    articles, _ = split(SOURCES)
    titles = sorted({a["title"] for a in articles})
    held_out = set(rng.sample(titles, round(HELD_OUT * len(titles))))
    lacking, swapped = candidates(articles)
    texts = {name for _, name, _ in lacking} | {f for *_, found in lacking for f in found}
    texts |= {t for p in swapped for t in (p.a, p.b)}
    encoder = BuildEncoder(None)
    print(f"{len(articles)} articles ({len(held_out)} of {len(titles)} titles held out), {len(texts)} names to encode")  # fmt: skip
    vectors = Vectors(encoder.encode, texts)

    mined = aligned(lacking, vectors) + swapped
    kept = [p for p in mined if vectors.cosine(p.a, p.b) >= args.floor and not contains(p.a, p.b)]
    counts = {
        "lacking_names": len(lacking),
        "listed_pairs": len(swapped),
        "same": sum(p.same for p in kept),
        "swapped": sum(not p.same for p in kept),
    }
    pairs_train, pairs_test = splits(kept, held_out, rng)
    counts |= {"train_per_class": len(pairs_train) // 2, "held_out_per_class": len(pairs_test) // 2}
    print(f"mined: {counts['same']} same of {len(lacking)} lacking question names, {counts['swapped']} swapped of {len(swapped)} listed pairs (cosine >= {args.floor}, neither name inside the other)")  # fmt: skip
    print(f"distinct, balanced: training {counts['train_per_class']} per class, held out {counts['held_out_per_class']} per class")  # fmt: skip

    train, test = Split.of(pairs_train, vectors), Split.of(pairs_test, vectors)
    model = fit(train.x, train.y, train.articles, args.seed)
    control = fit(train.which, train.y, train.articles, args.seed)
    figures = evaluate(model, control, train, test)
    f = figures
    print(f"C = {model.c:g} (grouped 5-fold AUC {model.cv_auc:.3f} on the training split)")
    print(f"held out: AUC {f['auc']:.3f}, accuracy {f['accuracy']:.3f}; plain cosine AUC {f['cosine_auc']:.3f}, accuracy {f['cosine_accuracy']:.3f} (cut {f['cosine_cut']:.3f}, best on the training split)")  # fmt: skip
    print(f"held out, control that sees which names (u + v), not how they relate: AUC {f['which_names_only_auc']:.3f}")  # fmt: skip
    print(f"held out, within {STRATA} strata of the control's score: AUC {f['within_strata_auc']:.3f}, plain cosine {f['within_strata_cosine_auc']:.3f}")  # fmt: skip
    print(f"held out, cosine in [{BAND[0]}, {BAND[1]}) ({f['band_pairs']} pairs): AUC {f['band_auc']:.3f}, plain cosine {f['band_cosine_auc']:.3f}")  # fmt: skip

    demo = Vectors(encoder.encode, {t for pair in DEMONSTRATION for t in pair})
    demonstrated = []
    print("demonstration (never used to choose anything): P(same), cosine")
    for a, b in DEMONSTRATION:
        p = float(model.probability(features(demo[a], demo[b])))
        demonstrated.append({"pair": [a, b], "same": round(p, 3), "cosine": round(demo.cosine(a, b), 3)})  # fmt: skip
        print(f"  {a} / {b}: {p:.3f}, {demo.cosine(a, b):.3f}")
    print("some mined held-out pairs:")
    for p in rng.sample(pairs_test, 12):
        print(f"  {'same   ' if p.same else 'swapped'} {shown(p.a)} / {shown(p.b)}")

    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / "pairs.npz", coef=model.coef, bias=model.bias, floor=np.float32(args.floor)
    )
    record = {
        "what": "P(two names name the same thing): logistic regression over [u*v, |u-v|, u·v] of the encoder's unit vectors of bare names (qa/models/name_pairs.py)",  # fmt: skip
        "encoder": encoder.name,
        "data": {
            "sources": list(SOURCES),
            "articles": len(articles),
            "held_out_titles": len(held_out),
            "excluded": f"the last {OUT_OF_CORPUS_ARTICLES} SQuAD 1.0 train articles; all of SQuAD dev",  # fmt: skip
            "licences": "SQuAD 1.0/2.0 train: CC BY-SA 4.0 (Rajpurkar et al.); TyDi QA GoldP: Apache-2.0 (Clark et al., Google)",  # fmt: skip
        },
        "floor": args.floor,
        "counts": counts,
        "C": model.c,
        "cv_auc": round(model.cv_auc, 4),
        "held_out": figures,
        "demonstration": demonstrated,
        "seed": args.seed,
        "command": " ".join([COMMAND, *sys.argv[1:]]),
        "seconds": round(time.time() - started),
    }
    (args.out / "pairs.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}/pairs.npz and pairs.json in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
