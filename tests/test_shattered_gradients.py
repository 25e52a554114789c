"""docs/shattered-gradients.md: dy/dx by back-propagation against central differences,
the correlation measure, and the page's claims."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, numerical_gradient
from snippets.shattered_gradients import shattered as page


@pytest.mark.parametrize("kind", ["plain", "residual"])
@pytest.mark.parametrize("depth", [1, 8])
def test_input_gradient_against_finite_differences(kind, depth):
    net = page.make(kind, depth, seed=2)
    backprop = page.input_gradient(net)
    for i in (3, 100, 200):
        numeric = numerical_gradient(
            lambda v: float(net.forward(v[None, :]).a[-1][0, 0]), page.x[i])
        assert_close(backprop[i:i + 1], numeric, atol=1e-8, what=f"dy/dx at point {i}")


def test_autocorrelation_measure():
    t = np.arange(256)
    assert page.autocorrelation(np.sin(0.1 * t)) == pytest.approx(np.cos(0.1), abs=0.01)
    noise = np.random.default_rng(0).normal(size=100_000)
    assert abs(page.autocorrelation(noise)) < 0.01


def test_plain_shatters_and_residual_does_not():
    plain, residual = page.correlation["plain"], page.correlation["residual"]
    assert plain[-1] < plain[0] - 0.2
    assert residual[-1] > plain[-1] + 0.2
    assert residual.min() > 0.9
