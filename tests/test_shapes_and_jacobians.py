"""docs/shapes-and-jacobians.md: every Jacobian and gradient the page prints, recomputed by
central differences here (float64, h = 1e-6, atol 1e-8), shapes asserted; and the note's
three wrong lines shown to be wrong."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, numerical_jacobian
from snippets.shapes_and_jacobians import jacobians as page

ATOL = 1e-8


def test_a_scalar_loss_has_one_derivative_per_entry_in_either_layout():
    numeric = numerical_jacobian(page.R_of_y3, page.y3)
    assert numeric.shape == (page.m,)
    assert_close(page.y3 - page.target, numeric, atol=ATOL, what="dR/dy3")


def test_activation_jacobian_is_diagonal_and_acts_elementwise():
    numeric = numerical_jacobian(page.h, page.z3)
    assert_close(page.J_h, numeric, atol=ATOL, what="dy3/dz3")
    assert np.count_nonzero(page.J_h - np.diag(np.diag(page.J_h))) == 0
    numeric = numerical_jacobian(lambda z: page.R_of_y3(page.h(z)), page.z3)
    assert_close(page.by_elementwise, numeric, atol=ATOL, what="dR/dz3")
    assert_close(page.by_matrix, page.by_elementwise, atol=1e-15, what="diag vs elementwise")


def test_linear_jacobian_is_W_and_the_notes_arrangement_is_its_transpose():
    numeric = numerical_jacobian(lambda y: page.W3 @ y + page.b3, page.y2)
    assert numeric.shape == page.W3.shape == (page.m, page.n)
    assert_close(page.W3, numeric, atol=ATOL, what="dz3/dy2")
    assert page.rows_y_columns_z.shape == (page.n, page.m) != page.W3.shape
    assert_close(page.rows_y_columns_z, page.W3.T, atol=ATOL, what="note's matrix")


def test_one_step_back_through_a_layer():
    numeric = numerical_jacobian(lambda y: page.R_of_y3(page.h(page.W3 @ y + page.b3)), page.y2)
    assert_close(page.dR_dy2, numeric, atol=ATOL, what="dR/dy2")


def test_weight_gradient_is_an_outer_product_and_the_notes_is_transposed():
    numeric = numerical_jacobian(lambda W: page.R(page.x, W3=W), page.W3)
    assert_close(page.grad_W3, numeric, atol=ATOL, what="dR/dW3")
    assert page.T.shape == (page.m, page.m, page.n)
    assert_close(page.contracted, numeric, atol=ATOL, what="tensor contraction")
    assert page.note.shape == (page.n, page.m)
    with pytest.raises(ValueError, match="could not be broadcast"):
        page.W3 - page.note


def test_the_chain_of_five_factors_is_dR_dy1():
    assert [J.shape for J in page.factors.values()] == [
        (1, page.m), (page.m, page.m), (page.m, page.n), (page.n, page.n), (page.n, page.p)]
    numeric = numerical_jacobian(
        lambda y: page.R_of_y3(page.h(page.W3 @ page.h(page.W2 @ y + page.b2) + page.b3)),
        page.y1)
    assert_close(page.product[0], numeric, atol=ATOL, what="dR/dy1")


def test_the_notes_dR_dy1_line_is_dR_dx():
    assert page.note_product.shape == (1, page.q) != (1, page.p)
    assert_close(page.note_product[0], numerical_jacobian(page.R, page.x), atol=ATOL,
                 what="note's line vs dR/dx")


def test_W2_gradient_and_the_notes_transposed_version():
    numeric = numerical_jacobian(lambda W: page.R(page.x, W2=W), page.W2)
    assert_close(page.grad_W2, numeric, atol=ATOL, what="dR/dW2")
    assert page.as_written.shape == (page.p, page.p)
    assert_close(page.as_annotated, numeric.T, atol=ATOL, what="note's W2 line, transposed")


def test_memory_of_full_jacobians():
    outputs = 64 * 4096
    assert page.jacobian["∂y/∂x"] == outputs * outputs == 68_719_476_736
    assert page.jacobian["∂y/∂W"] * 4 == outputs * 4096 * 4096 * 4  # bytes in float32
    assert page.size(4 * page.jacobian["∂y/∂x"]) == "256 GiB"
    assert page.size(4 * page.jacobian["∂y/∂W"]) == "16 TiB"
    assert page.size(4 * page.needed["∂y/∂x"]) == "1 MiB"
