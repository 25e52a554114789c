"""docs/degradation.md: the networks' gradients against central differences, and the
training results the page describes."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.bp.gradcheck import check_network
from snippets.bp.losses import squared_error, squared_error_grad
from snippets.degradation import training as page


@pytest.mark.parametrize("kind", page.KINDS)
def test_the_networks_gradients(kind):
    """The same builders as the page, at depth 6, float64, atol 1e-8."""
    rng = np.random.default_rng(0)
    net = page.network(kind, 6)
    for l, layer in enumerate(net.layers, start=1):   # nonzero biases and branches
        net = net.with_param(f"b{l}", rng.normal(scale=0.3, size=layer.b.shape))
        if not layer.W.any():
            net = net.with_param(f"W{l}", rng.normal(scale=0.2, size=layer.W.shape))
    x, y = page.X[:5], page.Y[:5]
    check_network(net, x, lambda y_hat: squared_error(y_hat, y),
                  lambda y_hat: squared_error_grad(y_hat, y), atol=1e-8)


def test_depth_in_weight_layers():
    for kind in page.KINDS:
        for depth in page.DEPTHS:
            assert len(page.network(kind, depth).layers) == depth


def test_plain_networks_degrade_and_residual_ones_improve():
    final = {key: curve[-1] for key, curve in page.curves.items()}
    assert final["plain", 56] > 3 * final["plain", 20]
    assert final["residual, branches start at 0", 56] < final["residual, branches start at 0", 20]
    assert final["residual, branches start at 0", 56] < final["plain", 56] / 5
    assert page.curves["plain", 56][10] > 0.4            # "its first hundred steps at 0.5"
    for depth in (20, 56):
        assert not np.isfinite(final["residual, He branches", depth])   # diverged


def test_the_target_is_standardised():
    assert page.Y.mean() == pytest.approx(0, abs=1e-12) and page.Y.std() == pytest.approx(1)
    assert squared_error(np.zeros_like(page.Y), page.Y) == pytest.approx(0.5)
