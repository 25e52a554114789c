"""docs/products-of-jacobians.md: each claim recomputed independently, each Jacobian
against central differences (float64, h = 1e-6, atol 1e-8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snippets.bp.activations import SIGMOID
from snippets.bp.gradcheck import assert_close, numerical_jacobian
from snippets.products_of_jacobians import products as page


def test_one_matrix_repeated_follows_its_eigenvalues_up_to_cond_V():
    for t in range(1, 101):
        Wt = np.linalg.matrix_power(page.W, t)
        assert_close(Wt, page.V @ np.diag(page.lam ** t) @ np.linalg.inv(page.V),
                     atol=1e-12, what=f"W^{t}")
        assert page.norm2(Wt) <= np.linalg.cond(page.V) * 0.9 ** t


def test_non_normal_transient_growth():
    assert page.spectral_radius(page.N) == pytest.approx(0.9)
    assert max(page.norms) > 10 and page.norms[-1] < 0.1


def test_alternating_product_of_matrices_with_eigenvalues_one_half():
    for M in (page.A, page.B):
        assert np.allclose(np.linalg.eigvals(M), 0.5)
    rho = (1.5 + math.sqrt(2)) / 2          # BA has trace 3/2 and determinant 1/16
    assert page.spectral_radius(page.B @ page.A) == pytest.approx(rho)
    assert 1e3 < page.norm2(page.BA_25) < 1e5
    assert page.norm2(page.BA_25) == pytest.approx(rho ** 25, rel=0.1)


def test_entries_do_not_measure_a_matrix():
    assert page.spectral_radius(page.W_half) == pytest.approx(5.0)
    assert np.allclose(page.s_orth, 1.0, atol=1e-12)
    assert all(np.abs(Q).max() < 1 for Q in page.Qs)


def test_lyapunov_exponent_and_d2l_explosion():
    # the constant: psi(2) = 1 - gamma, from the derivative of log Gamma
    h = 1e-5
    digamma_2 = (math.lgamma(2 + h) - math.lgamma(2 - h)) / (2 * h)
    assert page.lyapunov_gaussian(4) == pytest.approx(0.5 * (math.log(2) + digamma_2),
                                                      abs=1e-9)
    measured = page.log_growth.mean() / page.n_factors
    assert measured == pytest.approx(page.lyapunov_gaussian(4), abs=0.01)
    assert 1e20 < np.abs(page.M_d2l).max() < 1e32   # d2l.ai reports 1e22 to 1e27


def test_sigmoid_layer_jacobian_and_the_norm_bound():
    rng = np.random.default_rng(0)
    W, a = rng.normal(size=(5, 4)), rng.normal(size=4)
    numeric = numerical_jacobian(lambda v: SIGMOID(W @ v), a)
    assert_close(SIGMOID.df(W @ a)[:, None] * W, numeric, atol=1e-8, what="diag(s') W")
    for l, total, prod, bound in page.rows:
        assert total <= prod * (1 + 1e-12) and prod <= bound * (1 + 1e-12), l
    assert all(page.norm2(W_l) == pytest.approx(2.0) for W_l in page.Ws)


@pytest.mark.parametrize("gain", [0.9, 1.1])
def test_linear_layers_scale_the_gradient_by_the_gain(gain):
    profile = page.profiles[f"linear, gain {gain}"]
    assert profile[0] == pytest.approx(gain ** 50, rel=1.0)   # within a factor 2


def test_nonlinear_profiles():
    assert page.profiles["sigmoid, N(0, 1/n)"][0] < 1e-30     # "more than 30 orders"
    assert 1e-2 < page.profiles["tanh, Glorot"][0] < 10
    assert 1e-2 < page.profiles["ReLU, He"][0] < 10


def test_product_spectra():
    assert page.curves["radii"][-1] > 10 * page.curves["rho"][-1]
    assert 5 < page.lost < page.depth
    # Gelfand: the largest singular value of W^t grows like rho(W)^t
    growth = page.curves["rep_smax"][-1] ** (1 / page.depth)
    assert growth == pytest.approx(page.spectral_radius(page.W_rep), rel=0.05)
