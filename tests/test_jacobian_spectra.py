"""docs/jacobian-spectra.md: the critical point by Monte Carlo, the Jacobian product by
central differences (float64, h = 1e-6, atol 1e-8), and the claims about the spectra."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, numerical_jacobian
from snippets.jacobian_spectra import spectra as page


def test_critical_point_by_monte_carlo():
    h = np.random.default_rng(0).normal(scale=np.sqrt(page.q_star), size=2_000_000)
    chi = page.sigma_w ** 2 * np.mean((1 - np.tanh(h) ** 2) ** 2)
    q = page.sigma_w ** 2 * np.mean(np.tanh(h) ** 2) + page.sigma_b ** 2
    assert chi == pytest.approx(1.0, abs=2e-3)
    assert q == pytest.approx(page.q_star, rel=2e-3)
    assert page.chi == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("name", list(page.NETWORKS))
def test_the_jacobian_product_against_finite_differences(name):
    kw = page.NETWORKS[name]
    layers, x = page.make_network(kw["g"], kw["init"], kw["gain"], kw["bias"], depth=3,
                                  width=6, seed=1)
    J = page.input_output_jacobians(kw["g"], layers, x, depths=(3,))[3]
    numeric = numerical_jacobian(lambda v: page.forward(kw["g"], layers, v), x)
    assert J.shape == numeric.shape == (6, 6)
    assert_close(J, numeric, atol=1e-8, what=f"Jacobian of {name}")


@pytest.mark.parametrize("name", list(page.NETWORKS))
def test_expected_mean_squared_singular_value_is_one(name):
    """Averaged over 40 networks of depth 8, as all four are initialised to give."""
    kw = page.NETWORKS[name]
    means = [np.mean(page.jacobian_singular_values(depths=(8,), seed=seed, **kw)[8] ** 2)
             for seed in range(40)]
    assert np.mean(means) == pytest.approx(1.0, abs=0.2)


def test_spectra_claims():
    s = page.spectra
    assert np.allclose(np.concatenate(list(s["linear, orthogonal"].values())), 1, atol=1e-10)
    assert np.median(s["linear, Gaussian"][32]) < 1e-3          # "of order 1e-5"
    for depth, values in s["ReLU, He"].items():
        assert np.mean(values < 1e-13 * values.max()) > 0.5, depth   # rank at most ~n/2
    for depth in (8, 32):
        assert np.median(s["tanh, orthogonal, critical"][depth]) > 0.5
