"""Name pairs: the probability that two names name the same thing, from the encoder's vectors.

The encoder's cosine alone cannot tell a paraphrase or metonym ("Beijing" for China) from a swap
of one thing for another of its kind ("New Zealand" for Australia): both sit near 0.6 with
all-MiniLM-L6-v2. A logistic regression over the pair's features (`features`) learns which
dimensions two names of the same referent share and which two siblings share. It was trained by
training/name_pairs.py on pairs mined from SQuAD and TyDi QA (names/pairs.json records the data,
the counts and the held-out figures beside plain cosine's); it runs on numpy alone. Part of what
it learned is which kinds of names each mined class holds, not how two names relate: pairs.json
says how much (a control that sees only which names) and how it fares where that cannot help.

    names/pairs.npz   coef (float32, 2 * dimension + 1) and bias (float32), scaling folded in,
                      and floor (float32): the least cosine of the pairs it was trained on
    names/pairs.json  how the weights were made: data, counts, figures, the command
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).resolve().parent / "names"
WEIGHTS = FOLDER / "pairs.npz"
RECORD = FOLDER / "pairs.json"
_POSSESSIVE = re.compile(r"['’]s?$")


def bare(name: str) -> str:
    """The name as the weights were trained on it, without a possessive ending ("China's" ->
    "China", "Gleizes'" -> "Gleizes"): a possessive says nothing about what is named."""
    return _POSSESSIVE.sub("", name.strip())


def features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """[u*v, |u-v|, u·v] of unit vectors (rows of u and v pair up when they are matrices): the
    same for (u, v) as for (v, u)."""
    u = np.asarray(u, dtype=np.float32)
    v = np.asarray(v, dtype=np.float32)
    product = u * v
    cosine = np.sum(product, axis=-1, keepdims=True)
    return np.concatenate([product, np.abs(u - v), cosine], axis=-1)


class NamePairs:
    """The shipped (or a given) pair classifier, loaded once; immutable, so threads may share it."""

    def __init__(self, path: Path = WEIGHTS) -> None:
        with np.load(path) as saved:
            self.coef = saved["coef"].astype(np.float32)
            self.bias = float(saved["bias"])
            # Trained only on pairs at least this alike: below it the cosine already says that two
            # names differ, and `same` is unproven (unrelated names can score near 0.5 there).
            self.floor = float(saved["floor"])
        self.dimension = (self.coef.size - 1) // 2

    def same(self, u: np.ndarray, v: np.ndarray) -> float:
        """P(the names whose unit-normalised vectors are u and v name the same thing); encode
        the names as `bare` gives them."""
        if np.shape(u) != (self.dimension,) or np.shape(v) != (self.dimension,):
            raise ValueError(
                f"name vectors must have shape ({self.dimension},), not {np.shape(u)} and {np.shape(v)}"
            )
        logit = float(features(u, v) @ self.coef) + self.bias
        return float(0.5 * (1.0 + np.tanh(0.5 * logit)))  # the logistic, without overflow
