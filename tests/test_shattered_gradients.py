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
    """In every seed, not only in the median."""
    plain, residual = page.correlation["plain"], page.correlation["residual"]
    assert plain.shape == residual.shape == (len(page.DEPTHS), page.SEEDS)
    assert (plain[-1] < plain[0]).all()
    assert np.median(plain[-1]) < np.median(plain[0]) - 0.2
    assert (residual[-1] > plain[-1] + 0.1).all()
    assert residual.min() > 0.9


def test_weights_and_biases_come_from_independent_streams():
    """The bug this replaced: biases drawn from a generator seeded like the weights', so
    that for the one-input first layer b_1 was a fixed multiple of W_1 and every first-layer
    ReLU bent at the same input."""
    net = page.make("plain", 2, seed=3)
    W1, b1 = net.layers[0].W[:, 0], net.layers[0].b
    kinks = -b1 / W1                       # where each first-layer unit switches
    assert np.unique(np.round(kinks, 9)).size == page.WIDTH
    assert abs(np.corrcoef(W1, b1)[0, 1]) < 0.3
    other = page.make("plain", 3, seed=3)  # another depth: other streams
    assert not np.allclose(other.layers[0].W, net.layers[0].W)


def test_a_stack_gives_each_networks_own_gradient():
    nets = [page.make("residual", 4, seed) for seed in range(3)]
    stacked = page.input_gradient(page.MLP.stack(nets))
    for i, net in enumerate(nets):
        assert_close(stacked[i], page.input_gradient(net), atol=1e-12, what=f"net {i}")
