"""The name-pair classifier (qa/models/name_pairs.py): its shipped weights on the real encoder, and
the record of how they were made (training/name_pairs.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.models.embedding import resolve_model
from qa.models.name_pairs import RECORD, WEIGHTS, NamePairs, bare, features

NAMES = ["China", "Beijing", "Australia", "New Zealand", "the European Union", "NATO", "General Chance Saltzman", "Space Force", "Tornado Cash"]  # fmt: skip


@pytest.fixture(scope="module")
def pairs() -> NamePairs:
    return NamePairs()


@pytest.fixture(scope="module")
def vectors(embedder) -> dict[str, np.ndarray]:
    return dict(zip(NAMES, embedder.encode(NAMES), strict=True))


def test_the_weights_fit_the_encoder_and_stay_small(pairs, embedder):
    assert pairs.dimension == embedder.dimension
    assert pairs.coef.dtype == np.float32 and np.all(np.isfinite(pairs.coef))
    assert WEIGHTS.stat().st_size < 16_000
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert record["encoder"] == resolve_model(None)[0]
    assert pairs.floor == pytest.approx(record["floor"])


def test_probabilities_lie_between_zero_and_one(pairs, vectors):
    for a in NAMES:
        for b in NAMES:
            assert 0.0 <= pairs.same(vectors[a], vectors[b]) <= 1.0


def test_a_name_is_the_same_as_itself_and_likelier_so_than_as_any_other(pairs, vectors):
    for a in NAMES:
        itself = pairs.same(vectors[a], vectors[a])
        assert itself > 0.5, a
        assert all(itself > pairs.same(vectors[a], vectors[b]) for b in NAMES if b != a), a


def test_the_order_of_the_names_does_not_matter(pairs, vectors):
    for a, b in zip(NAMES, NAMES[1:], strict=False):
        assert pairs.same(vectors[a], vectors[b]) == pytest.approx(pairs.same(vectors[b], vectors[a]))  # fmt: skip


def test_a_vector_of_another_size_is_refused(pairs, vectors):
    with pytest.raises(ValueError, match="shape"):
        pairs.same(vectors["China"], np.zeros(2 * pairs.dimension, dtype=np.float32))


def test_saved_weights_load_and_score_as_the_logistic_of_the_features(tmp_path):
    """A round trip through the file layout training/name_pairs.py writes, checked against the
    logistic computed by hand: weight on the cosine alone, and on one product dimension."""
    rng = np.random.default_rng(0)
    u, v = (x / np.linalg.norm(x) for x in rng.normal(size=(2, 8)).astype(np.float32))
    coef = np.zeros(17, dtype=np.float32)
    coef[-1], coef[3] = 4.0, 100.0
    np.savez_compressed(
        tmp_path / "pairs.npz", coef=coef, bias=np.float32(-1.5), floor=np.float32(0.5)
    )
    loaded = NamePairs(tmp_path / "pairs.npz")
    logit = 4.0 * float(u @ v) + 100.0 * float(u[3] * v[3]) - 1.5
    assert loaded.dimension == 8
    assert loaded.same(u, v) == pytest.approx(1.0 / (1.0 + np.exp(-logit)), rel=1e-5)
    assert features(u, v).shape == (17,) and features(u, v)[-1] == pytest.approx(float(u @ v))


def test_the_classifier_beat_plain_cosine_on_held_out_articles():
    """The figures the shipped weights were kept on: held-out pairs, and within strata of a
    control that sees only which names a pair holds (so that the kinds of names mined for each
    class cannot carry the result)."""
    held = json.loads(RECORD.read_text(encoding="utf-8"))["held_out"]
    assert held["auc"] >= held["cosine_auc"]
    assert held["within_strata_auc"] >= held["within_strata_cosine_auc"]


def test_bare_drops_only_a_possessive_ending():
    assert bare("China's") == "China"
    assert bare("the EU’s") == "the EU"
    assert bare("Gleizes'") == "Gleizes"
    assert bare("Jehovah's Witnesses") == "Jehovah's Witnesses"
    assert bare("Saint Helena") == "Saint Helena"
