"""Siblings (training/siblings.py): names listed together as alternatives, and the swap of a
question's name for one of them, which the reader's and the calibration's swapped keys use."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

from siblings import listed, siblings, swap_sibling  # noqa: E402


def test_names_listed_together_are_siblings_and_other_lists_are_not() -> None:
    text = "Troops came from France, Germany and Italy. The report and the annex were late."
    assert listed(text) == [["France", "Germany", "Italy"]]
    known = siblings([text, "Spain, Portugal or Greece may join.", "Paris and the Paris region."])
    assert known["France"] == ["Germany", "Italy"]
    assert known["Spain"] == ["Greece", "Portugal"]
    assert "Paris" not in known  # one name inside the other is no sibling


def test_a_swap_puts_a_sibling_the_text_never_states_in_the_names_place() -> None:
    known = {"Australia": ["Canada", "New Zealand"], "Canada": ["Australia"]}
    passage = "Trade between the United States and Australia grew, as Canada's did."
    question = "How did trade with Australia change?"
    swapped = swap_sibling(question, passage, known, random.Random(1))
    assert swapped == "How did trade with New Zealand change?"  # Canada is in the passage
    # a figure is swapped more plainly by the reader's own swap; no name to swap, no question
    assert swap_sibling("How did trade with Australia change in 2024?", passage, known, random.Random(1)) is None  # fmt: skip
    assert swap_sibling("How did trade change?", passage, known, random.Random(1)) is None
