"""docs/residual-gradient.md: every gradient on the page against central differences
(float64, h = 1e-6, atol 1e-8), and the notes' formulas shown to be off."""

from __future__ import annotations

import numpy as np

from snippets.bp.activations import RELU
from snippets.bp.gradcheck import assert_close, numerical_gradient, numerical_jacobian
from snippets.bp.losses import softmax_cross_entropy
from snippets.residual_gradient import gradient as page

ATOL = 1e-8


def test_the_network_is_note_001s():
    x1 = page.x[1]
    x2 = RELU(page.W[0] @ x1 + page.b[0])
    x3 = RELU(page.W[1] @ x2 + page.b[1] + x1)
    x4 = RELU(page.W[2] @ x3 + page.b[2])
    x5 = RELU(page.W[3] @ x4 + page.b[3] + x3)
    assert_close(page.x[5], x5, atol=1e-14, what="x5")
    numeric = numerical_gradient(lambda v: softmax_cross_entropy(
        page.net001.forward(v[None, :]).a[-1][0], page.p[0]), x1)
    assert_close(page.dL[1], numeric, atol=ATOL, what="dL/dx1 through both shortcuts")


def test_shortcut_term_is_the_masked_upstream_gradient():
    numeric = numerical_gradient(page.loss_from_x3, page.x[3])
    assert_close(page.exact, numeric, atol=ATOL, what="dL/dx3")
    assert_close(page.dL[3], numeric, atol=ATOL, what="library dL/dx3")
    assert np.all(page.delta5[page.z[5] <= 0] == 0)            # masked where ReLU is off
    assert np.max(np.abs(page.note - numeric)) > 0.5            # "+ 1" is wrong


def test_dL_dx2_needs_the_shortcut_from_x3():
    numeric = numerical_gradient(page.loss_from_x2, page.x[2])
    assert_close(page.exact_x2, numeric, atol=ATOL, what="dL/dx2")
    assert np.max(np.abs(page.note_x2 - numeric)) > 0.1


def test_simpler_example_is_J_F_plus_I():
    J = numerical_jacobian(page.block, page.x[1])
    assert_close(page.J_F + np.eye(page.d), J, atol=ATOL, what="dy/dx1")
    assert np.abs(J - np.eye(page.d)).max() > 0.1


def test_note004_identity_not_ones():
    J = numerical_jacobian(page.y_hat, page.x0)
    assert_close(page.J_H + np.eye(page.d), J, atol=ATOL, what="dy_hat/dx")
    assert np.abs(page.J_H + np.ones((page.d, page.d)) - J).max() > 0.5
    numeric = numerical_gradient(
        lambda v: 0.5 * float(np.sum((page.y_hat(v) - page.y0) ** 2)), page.x0)
    assert_close(page.J_H.T @ page.error + page.error, numeric, atol=ATOL, what="dL/dx")


def test_he_2016_equation_5_on_a_deep_stack():
    grads = page.grads_s
    for l in range(page.blocks):
        start = 2 * l
        tail = page.stack.tail(start)

        def sum_of_branches(x_l, tail=tail):
            return tail.forward(x_l[None, :]).a[-1][0] - x_l

        J_sum = numerical_jacobian(sum_of_branches, page.fwd_s.a[start][0])
        assert_close(page.dE_dxL + page.dE_dxL @ J_sum, grads.a[start][0], atol=1e-7,
                     what=f"eq. 5 at block {l}")


def test_note002_two_paths_sum_to_the_gradient():
    for scale in (1.0, 0.1, 0.001):
        _, long, short = page.note002(page.V1, scale * page.V2, page.V3, page.X2, page.Y2)
        numeric = numerical_gradient(
            lambda M, s=scale: page.note002(M, s * page.V2, page.V3, page.X2, page.Y2)[0],
            page.V1)
        assert_close(long + short, numeric, atol=ATOL, what=f"dR/dW1, scale {scale}")
        assert np.linalg.norm(short) > 0.1
    assert np.linalg.norm(page.note002(page.V1, 1e-3 * page.V2, page.V3, page.X2,
                                       page.Y2)[1]) < 1e-3


def test_note000_identity_term():
    for n_mid in (6, 4, 3):
        J_mid, J_top, total = page.jacobians_000(n_mid)
        assert_close(J_top @ J_mid + np.eye(4), total, atol=ATOL, what=f"width {n_mid}")
