"""docs/activations-and-initialisation.md: the exact derivative facts, the sweep, and the
Glorot & Bengio reproduction, against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.activations_and_initialisation import activations as page
from snippets.bp.activations import SIGMOID, TANH
from snippets.bp.gradcheck import assert_close, numerical_jacobian


def test_derivative_facts():
    x = page.x
    assert SIGMOID.df(0.0) == 0.25 and SIGMOID.df(x).max() == 0.25
    assert TANH.df(0.0) == 1.0 and np.all(TANH.df(x) > 0)
    assert page.gap < 1e-15
    assert set(np.unique(page.ACTS["ReLU"].df(x))) == {0.0, 1.0}
    assert set(np.unique(page.ACTS["LeakyReLU"].df(x))) == {0.01, 1.0}
    # tanh(x) = 2 sigma(2x) - 1, whose derivative is the identity above
    assert_close(np.tanh(x), 2 * SIGMOID(2 * x) - 1, atol=1e-15, what="tanh vs sigmoid")
    t = np.linspace(-3, 3, 7)
    assert_close(np.diag(TANH.df(t)), numerical_jacobian(TANH, t), atol=1e-8, what="tanh'")


def test_sweep_matches_the_variance_factor():
    v = page.variances
    assert v["ReLU", "N(0, 1/n)"][0] == pytest.approx(2.0 ** -29, rel=5)  # factor 1/2 a layer
    assert 0.1 < v["ReLU", "He"][0] < 10 and 0.1 < v["LeakyReLU", "He"][0] < 10
    assert all(v["sigmoid", init][0] < 1e-20 for init in page.INITS)
    assert v["tanh", "He"][0] > 1 and 1e-3 < v["tanh", "N(0, 1/n)"][0] < 1


@pytest.mark.parametrize("key", [("standard", 1.0), ("standard", 0.1),
                                 ("normalized", 1.0), ("normalized", 0.1)])
def test_glorot_bengio_prediction_matches_measurement(key):
    stats = page.gb[key]
    measured = page.factor(*key)
    predicted = 1 / np.exp(np.mean(np.log(stats["predicted"])))
    assert measured == pytest.approx(predicted, rel=0.05)
    assert page.spread(key[0]) < 1.5          # weight gradients about level


def test_glorot_bengio_factors_of_the_paper():
    assert page.factor("standard", 0.1) == pytest.approx(3.0, rel=0.1)
    assert page.factor("normalized", 0.1) == pytest.approx(1.0, abs=0.1)
    assert 1.1 < page.factor("normalized", 1.0) < 2.0
    assert page.spread("standard") < 1.5 and page.spread("normalized") < 1.5
