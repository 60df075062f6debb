"""The sentence check's scorers on hand-written claims, true and false, about two brief passages.

    python benchmarks/support.py

For each claim: the learned reader's `support` (what qa/answer/checking.py thresholds), the sentence
embedding's cosine to the passage sentence the claim matches best, whether the exactness guard
passes on that sentence, and the rule's verdict.
"""

from __future__ import annotations

from types import SimpleNamespace

from timing import BRIEF

from qa.answer.assistant import support_score
from qa.answer.checking import SUPPORT_THRESHOLD, exact
from qa.models.onnx_embedding import BuildEncoder

TEXT = BRIEF.read_text(encoding="utf-8")
P1 = TEXT[TEXT.index("In 2018, alongside") :][:1100]
P2 = TEXT[TEXT.index("In a security environment") :][:700]
CLAIMS = [
    (True, "The latest joint declaration was published in 2023.", P1),
    (
        True,
        "In 2018 a second joint declaration was published alongside the NATO summit in Brussels.",
        P1,
    ),  # fmt: skip
    (True, "Finland and Sweden applied for NATO membership.", P2),
    (
        True,
        "The two organisations agreed to prioritise military mobility and counter-terrorism.",
        P1,
    ),
    (True, "NATO remains the foundation of collective defence for its Allies.", P2),
    (
        True,
        "Both organisations stressed that NATO is the cornerstone of the continent's defence.",
        P2,
    ),
    (
        True,
        "The 2023 declaration reflects the consequences of Russia's full-scale war in Ukraine.",
        P1,
    ),
    (False, "The EU and NATO have both applied for NATO membership in the same year.", P2),
    (False, "The latest joint declaration was published in 2023.", P2),  # true, but not in P2
    (False, "The two organisations agreed to prioritise space exploration and tourism.", P1),
    (False, "The EU remains the foundation of collective defence for its Allies.", P2),
    (False, "The joint declaration was signed by the United Nations.", P1),
]


def main() -> None:
    encoder = BuildEncoder(None)
    try:
        from qa.models.reading import Reader

        reader = Reader()
    except ImportError:  # before the reader: the embedding's cosine is the support
        reader = None
    with_reader = SimpleNamespace(embedder=encoder, reader=reader)
    embedding_only = SimpleNamespace(embedder=encoder, reader=None)
    print("| claim is | reader support | cosine to matched sentence | guard | verdict | claim |")
    print("| --- | ---: | ---: | --- | --- | --- |")
    for truth, claim, passage in CLAIMS:
        score, evidence = support_score(with_reader, claim, passage)
        cosine, _ = support_score(embedding_only, claim, passage)
        guard = exact(claim, evidence.sentence, numbers_also_in=evidence.before)
        verdict = "supported" if score >= SUPPORT_THRESHOLD and guard else "unsupported"
        read = f"{score:.3f}" if reader else "-"
        print(f"| {'true' if truth else 'false'} | {read} | {cosine:.3f} | {'pass' if guard else 'fail'} | {verdict} | {claim} |")  # fmt: skip


if __name__ == "__main__":
    main()
