"""docs/backprop-mlp.md: each formula function of the chapter against central differences
(float64, h = 1e-6, atol 1e-8 unless stated), for more sizes and seeds than the page shows,
and the notes' formulas shown to differ where the page says they do."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.backprop_mlp import backprop as page
from snippets.bp.activations import RELU, SIGMOID
from snippets.bp.gradcheck import assert_close, numerical_gradient, numerical_jacobian

ATOL = 1e-8
SIZES = [(5, 4, 3, 1), (3, 4, 2, 2), (1, 1, 1, 1), (2, 6, 5, 3)]


def network_000(sizes, seed):
    M, L1, L2, L3 = sizes
    rng = np.random.default_rng(seed)
    W = {"W1": rng.normal(size=(L1, M)), "W2": rng.normal(size=(L2, L1)),
         "W3": rng.normal(size=(L3, L2))}
    return rng.normal(size=M), rng.uniform(size=L3), W


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_sigmoid_layers_by_hand(sizes, seed):
    x, y, W = network_000(sizes, seed)
    for name, analytic in zip(W, page.grads_000(x, y, **W), strict=True):
        numeric = numerical_gradient(lambda V, name=name: page.loss_000(x, y, **{**W, name: V}),
                                     W[name])
        assert analytic.shape == W[name].shape
        assert_close(analytic, numeric, atol=ATOL, what=f"dL/d{name}, sizes {sizes}")


def test_the_notes_W3_shape_does_not_multiply():
    with pytest.raises(ValueError):
        page.W3_note @ page.alpha2
    assert (page.alpha2 @ page.W3_note).shape == (page.L3,)


def test_layer_jacobian_shape_is_L_N_by_L_N_minus_1():
    assert page.J3.shape == (page.L3, page.L2) and page.J2.shape == (page.L2, page.L1)
    assert_close(page.J3, SIGMOID.df(page.z3)[:, None] * page.W["W3"], atol=ATOL,
                 what="d alpha3 / d alpha2")


@pytest.mark.parametrize("M, L1", [(5, 4), (1, 3), (4, 1)])
def test_the_3_tensor_and_its_contraction(M, L1):
    rng = np.random.default_rng(M * 7 + L1)
    x, W1n = rng.normal(size=M), rng.normal(size=(M, L1))
    T = page.tensor_000(x, W1n)
    numeric = numerical_jacobian(lambda W: SIGMOID(x @ W), W1n)
    assert T.shape == numeric.shape == (L1, M, L1)
    assert_close(T, numeric, atol=ATOL, what="d alpha1 / d W1")
    g = rng.normal(size=L1)  # any upstream row vector
    contracted = np.einsum("i,ijk->jk", g, T)
    loss_grad = numerical_gradient(lambda W: float(g @ SIGMOID(x @ W)), W1n)
    assert_close(contracted, loss_grad, atol=ATOL, what="contraction")


def test_the_page_contraction_is_the_W1_gradient():
    assert_close(page.contracted, page.analytic["W1"].T, atol=1e-12, what="page contraction")


def test_library_backprop_was_checked_on_the_page():
    assert set(page.diffs) == {"x", *page.net.param_names()}
    assert max(page.diffs.values()) < ATOL


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_note002_separated_products_agree_only_at_width_one(seed):
    for width in (1, 2, 8):
        correct, separated, numeric = page.note002_gradient(width, seed)
        assert_close(correct, numeric, atol=ATOL, what=f"dR/dW1, width {width}")
        gap = np.max(np.abs(separated - correct)) / np.max(np.abs(correct))
        if width == 1:
            assert gap < 1e-12
        else:
            assert gap > 1e-3, f"width {width}: separated product agreed ({gap:.1e})"


@pytest.mark.parametrize("d, k", [(3, 4), (1, 1), (5, 2)])
@pytest.mark.parametrize("seed", [0, 1])
def test_note004_block_gradient(d, k, seed):
    rng = np.random.default_rng(seed)
    params = dict(W1=rng.normal(size=(k, d)), b1=rng.normal(size=k),
                  W2=rng.normal(size=(d, k)), b2=rng.normal(size=d))
    x, y = rng.normal(size=d), rng.normal(size=d)
    _, correct, literal = page.note004(x, y, **params)
    numeric = numerical_gradient(lambda V: page.note004(x, y, **{**params, "W1": V})[0],
                                 params["W1"])
    assert_close(correct, numeric, atol=ATOL, what="dL/dW1 of the residual block")
    assert literal.shape == (d,) and literal.shape != (k, d)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_note001_output_minus_target_is_neither_gradient(seed):
    rng = np.random.default_rng(seed)
    x5 = rng.uniform(0.1, 2.0, size=4)
    p = np.eye(4)[rng.integers(4)]
    for loss, grad in [(page.log_output_cross_entropy, page.log_output_cross_entropy_grad),
                       (page.softmax_cross_entropy, page.softmax_cross_entropy_grad)]:
        numeric = numerical_gradient(lambda v, loss=loss: loss(v, p), x5)
        assert_close(grad(x5, p), numeric, atol=ATOL, what=loss.__name__)
        assert np.max(np.abs((x5 - p) - numeric)) > 0.1


def test_layer_gradient_norms_shrink_through_sigmoid_layers_only():
    sigmoid = page.layer_gradient_norms(SIGMOID, "gaussian")
    relu = page.layer_gradient_norms(RELU, "he")
    assert sigmoid.shape == relu.shape == (10,)
    assert np.all(np.diff(sigmoid) > 0)           # smaller at every step towards the input
    assert sigmoid[0] / sigmoid[-1] < 1e-4        # "several orders of magnitude"
    assert 0.1 < relu[0] / relu[-1] < 10          # "within one order of magnitude"
    assert_close(page.norms["ReLU, He"], relu, atol=0, what="page norms")
