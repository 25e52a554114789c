"""docs/skip-guarantees.md: the circular-law fractions, the 1 + s^2 growth, the depth
sweep against its predictions, and the block Jacobians against central differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, numerical_jacobian
from snippets.bp.mlp import build_residual_mlp
from snippets.skip_guarantees import guarantees as page


def test_lens_area_against_a_monte_carlo_and_the_closed_form():
    assert page.lens_area(1.0) == pytest.approx(2 * math.pi / 3 - math.sqrt(3) / 2)
    assert round(100 * page.lens_area(1.0) / math.pi) == 39   # the page's "about 39%"
    pts = np.random.default_rng(0).uniform(-2, 2, size=(1_000_000, 2))
    for r in (0.5, 2.0):
        in_both = (np.hypot(pts[:, 0] - 1, pts[:, 1]) < r) & (np.hypot(*pts.T) < 1)
        assert page.lens_area(r) == pytest.approx(16 * in_both.mean(), rel=0.02)


@pytest.mark.parametrize("s", [0.5, 1.0, 2.0])
def test_eigenvalues_inside_the_unit_circle(s):
    measured = np.mean(np.abs(page.eig[s]) < 1)
    assert measured == pytest.approx(page.lens_area(s) / (math.pi * s * s), abs=0.03)
    assert measured > 0.2                     # many |lambda| < 1: note 000 is wrong


def test_block_jacobian_is_identity_plus_branch():
    net = build_residual_mlp(np.random.default_rng(4), 5, 1)
    x = np.random.default_rng(5).normal(size=5)
    (W_a, b_a), (W_b, _) = [(layer.W, layer.b) for layer in net.layers]
    J_branch = W_b @ ((W_a @ x + b_a > 0)[:, None] * W_a)
    numeric = numerical_jacobian(lambda v: net.forward(v[None, :]).a[-1][0], x)
    assert_close(np.eye(5) + J_branch, numeric, atol=1e-8, what="I + J")


def test_depth_sweep():
    r, L = page.ratios, np.array(page.depths)
    assert np.allclose(r["residual, last layer at 0"], 1.0)
    assert np.allclose(r["shortcut x 0.5, last layer at 0"], 0.5 ** L, rtol=1e-9)
    identity = r["residual, identity shortcut"]
    assert identity[-1] > 1e10 and np.all(np.diff(identity) > 0)
    assert np.all(r["residual, branches x 1/sqrt(L)"] < 5)   # bounded, about e^(s^2/2)
    assert 0.1 < r["plain (ReLU, He)"].min() and r["plain (ReLU, He)"].max() < 10


def test_growth_per_block_matches_sqrt_one_plus_s2():
    growth = page.ratios["residual, identity shortcut"][-1] ** (1 / page.depths[-1])
    assert growth == pytest.approx(math.sqrt(1 + page.s2), rel=0.05)
    assert page.s2 == pytest.approx(2.0, rel=0.05)   # He: 2/n weights, half the units on
