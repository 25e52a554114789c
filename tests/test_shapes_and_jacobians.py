"""docs/shapes-and-jacobians.md: every Jacobian and gradient the page prints, recomputed by
central differences here (float64, h = 1e-6, atol 1e-8), shapes asserted; the note's lines
shown to be what the page says they are; the exercises' answers recomputed another way."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from snippets.bp.activations import SIGMOID, TANH
from snippets.bp.gradcheck import assert_close, numerical_gradient, numerical_jacobian
from snippets.shapes_and_jacobians import exercises as ex
from snippets.shapes_and_jacobians import jacobians as page

ATOL = 1e-8


def test_the_network_is_the_notes_with_its_sizes():
    assert (page.q, page.p, page.n, page.m) == (5, 4, 3, 2)
    assert len({page.p, page.n, page.m}) == 3, "distinct widths, so a transpose shows"
    assert page.g is SIGMOID and page.h is TANH
    shapes = [v.shape for v in page.forward(page.x)]
    assert shapes == [(4,), (4,), (3,), (3,), (2,), (2,)]
    # the forward pass is the page's z = W y + b, layer by layer, written out here
    z1, y1, z2, y2, z3, y3 = page.forward(page.x)
    expected_z1 = page.W1 @ page.x + page.b1
    assert_close(z1, expected_z1, atol=1e-15, what="z1")
    assert_close(y1, 1 / (1 + np.exp(-expected_z1)), atol=1e-15, what="y1 = sigmoid(z1)")
    assert_close(z2, page.W2 @ y1 + page.b2, atol=1e-15, what="z2")
    assert_close(y2, np.tanh(z2), atol=1e-15, what="y2 = tanh(z2)")
    assert_close(z3, page.W3 @ y2 + page.b3, atol=1e-15, what="z3")
    assert_close(y3, np.tanh(z3), atol=1e-15, what="y3")


def test_a_scalar_loss_has_one_derivative_per_entry_in_either_layout():
    numeric = numerical_jacobian(page.R_of_y3, page.y3)
    assert numeric.shape == (page.m,)
    assert_close(page.y3 - page.target, numeric, atol=ATOL, what="dR/dy3")
    assert_close(page.dR_dy3, numeric, atol=1e-12, what="page's dR/dy3")


def test_activation_jacobian_is_diagonal_and_acts_elementwise():
    numeric = numerical_jacobian(page.h, page.z3)
    assert_close(page.J_h, numeric, atol=ATOL, what="dy3/dz3")
    assert np.count_nonzero(page.J_h - np.diag(np.diag(page.J_h))) == 0
    numeric = numerical_jacobian(lambda z: page.R_of_y3(page.h(z)), page.z3)
    assert page.by_matrix.shape == (1, page.m)            # dR/dz3: a row
    assert page.delta3.shape == (page.m,)                 # delta3: its transpose
    assert_close(page.delta3, numeric, atol=ATOL, what="delta3")
    assert_close(page.by_matrix[0], page.delta3, atol=1e-15, what="diag vs elementwise")


def test_linear_jacobian_is_W_and_the_swapped_labels_give_its_transpose():
    numeric = numerical_jacobian(lambda y: page.W3 @ y + page.b3, page.y2)
    assert numeric.shape == page.W3.shape == (page.m, page.n)
    assert_close(page.W3, numeric, atol=ATOL, what="dz3/dy2")
    # entry (i, j) = d z3[j] / d y2[i], built entry by entry here
    swapped = np.array([[numeric[j, i] for j in range(page.m)] for i in range(page.n)])
    assert page.rows_y_columns_z.shape == (page.n, page.m) != page.W3.shape
    assert_close(page.rows_y_columns_z, swapped, atol=0, what="note's arrangement")
    assert_close(swapped, page.W3.T, atol=ATOL, what="it is W3.T")


def test_one_step_back_through_a_layer():
    numeric = numerical_jacobian(lambda y: page.R_of_y3(page.h(page.W3 @ y + page.b3)), page.y2)
    assert page.dR_dy2.shape == (1, page.n)
    assert_close(page.dR_dy2[0], numeric, atol=ATOL, what="dR/dy2")


def test_weight_gradient_is_an_outer_product_and_numerator_layout_its_transpose():
    numeric = numerical_gradient(lambda W: page.R(page.x, W3=W), page.W3)
    assert page.grad_W3.shape == page.W3.shape
    assert_close(page.grad_W3, numeric, atol=ATOL, what="grad W3")
    assert_close(page.fd_W3, numeric, atol=0, what="page's finite differences")
    assert page.T3.shape == (page.m, page.m, page.n)
    assert_close(page.contracted, numeric, atol=ATOL, what="tensor contraction")
    numerator = np.outer(page.y2, page.delta3)
    assert numerator.shape == (page.n, page.m)
    assert_close(numerator, numeric.T, atol=ATOL, what="numerator layout")


def test_note_003s_three_lines_for_W3_with_z2_and_with_z3():
    grad = numerical_gradient(lambda W: page.R(page.x, W3=W), page.W3)
    # z2 = W2 y1 + b2 does not involve W3: its derivative is exactly zero
    assert page.dz_dW3["z₂"].shape == (page.n, page.m, page.n)
    assert not np.any(page.dz_dW3["z₂"])
    # delta2 independently: the gradient of R with respect to z2, by finite differences
    dR_dz2 = numerical_gradient(
        lambda z: page.R_of_y3(page.h(page.W3 @ page.h(z) + page.b3)), page.z2)
    assert_close(page.row["z₂"][0], dR_dz2, atol=ATOL, what="dR/dz2")
    # line 1: y2 times the row; n x n as written, the transposed gradient with z3
    assert page.line_1("z₂").shape == (page.n, page.n)
    assert_close(page.line_1("z₂"), np.outer(page.y2, dR_dz2), atol=ATOL, what="line 1, z2")
    assert_close(page.line_1("z₃"), grad.T, atol=ATOL, what="line 1, z3")
    # line 2: zero as written, the gradient itself with z3
    assert page.line_2("z₂").shape == page.W3.shape and not np.any(page.line_2("z₂"))
    assert np.max(np.abs(grad)) > 0.1       # while the true gradient is not small
    assert_close(page.line_2("z₃"), grad, atol=ATOL, what="line 2, z3")
    # line 3: a number as written; undefined with z3 because m != n
    assert page.line_3("z₂").shape == (1, 1)
    assert_close(page.line_3("z₂")[0, 0], float(dR_dz2 @ page.y2), atol=ATOL, what="line 3")
    assert isinstance(page.line_3("z₃"), str) and page.m != page.n
    with pytest.raises(ValueError):
        page.row["z₃"] @ page.col_y2


def test_verdicts_name_what_a_candidate_is():
    grad = page.fd_W3
    assert "= ∇ (" in page.verdict(grad + 1e-12, grad)
    assert page.verdict(grad.T.copy(), grad).startswith("3 × 2 = ∇ᵀ (")
    assert page.verdict(np.zeros_like(grad), grad) == "2 × 3: zero"
    assert page.verdict(np.ones((1, 1)), grad) == "1 × 1: a number"
    assert "neither" in page.verdict(grad + 0.1, grad)
    assert page.verdict("undefined", grad) == "undefined"


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


def test_W2_gradient_and_the_notes_line_read_two_ways():
    numeric = numerical_gradient(lambda W: page.R(page.x, W2=W), page.W2)
    assert_close(page.grad_W2, numeric, atol=ATOL, what="grad W2")
    # as written: y1 times dR/dz1, the delta of layer 1 computed here by hand
    dR_dz1 = (page.W2.T @ ((page.W3.T @ page.delta3) * page.h.df(page.z2))) * page.g.df(page.z1)
    assert_close(page.dR_dz1, dR_dz1, atol=ATOL, what="dR/dz1")
    assert page.as_written.shape == (page.p, page.p)
    assert_close(page.as_written, np.outer(page.y1, dR_dz1), atol=ATOL, what="as written")
    assert page.as_annotated.shape == (page.p, page.n)
    assert_close(page.as_annotated, numeric.T, atol=ATOL, what="note's W2 line, transposed")


def test_the_heat_maps_show_the_three_structures():
    diag, W, vecW = (page.jacobians[k] for k in ("diag", "W", "vecW"))
    assert diag.shape == (4, 4) and np.count_nonzero(diag - np.diag(np.diag(diag))) == 0
    assert np.all(np.diag(diag) > 0)                    # tanh' > 0: red on the page
    assert W.shape == (4, 5) and np.all(W != 0)
    assert vecW.shape == (4, 20)
    for i in range(4):
        block = slice(5 * i, 5 * i + 5)
        assert np.array_equal(vecW[i, block], page.a)   # row i holds a in block i
        assert np.count_nonzero(vecW[i]) == np.count_nonzero(page.a) == 5
    # the flattened tensor is the Jacobian by finite differences, W flattened row by row
    numeric = numerical_jacobian(lambda w: w.reshape(4, 5) @ page.a, np.zeros(20))
    assert_close(vecW, numeric, atol=ATOL, what="dz/dvec(W)")


def test_memory_of_full_jacobians():
    outputs = 64 * 4096
    assert page.jacobian["∂y/∂x"] == outputs * outputs == 68_719_476_736
    assert page.jacobian["∂y/∂W"] == outputs * 4096 * 4096
    assert page.size(4 * page.jacobian["∂y/∂x"]) == "256 GiB"     # 2^36 entries * 2^2 bytes
    assert page.size(4 * page.jacobian["∂y/∂W"]) == "16 TiB"      # 2^42 * 2^2
    assert page.size(4 * page.needed["∂y/∂x"]) == "1 MiB"         # 2^18 * 2^2
    assert page.size(4 * page.needed["∂y/∂W"]) == "64 MiB"        # 2^24 * 2^2
    from tests.page_output import run_page, table_rows

    rows = table_rows(run_page("snippets.shapes_and_jacobians.jacobians")[1],
                      "One layer y = xW", 2)
    assert rows == [["∂y/∂x", f"{outputs * outputs:.1e}", "256 GiB", "1 MiB"],
                    ["∂y/∂W", f"{outputs * 4096 * 4096:.1e}", "16 TiB", "64 MiB"]]


def test_exercise_batch_shapes_and_values():
    assert ex.z.shape == ex.delta.shape == (7, 5)
    assert ex.grad_W.shape == ex.W.shape == (5, 3)
    assert ex.grad_b.shape == (5,) and ex.grad_a.shape == ex.a.shape == (7, 3)
    # with delta fixed, these are the gradients of sum(delta * z)

    def pairing(**kw):
        W, b, a = kw.get("W", ex.W), kw.get("b", ex.b), kw.get("a", ex.a)
        return float(np.sum(ex.delta * (a @ W.T + b)))

    assert_close(ex.grad_W, numerical_gradient(lambda W: pairing(W=W), ex.W), atol=ATOL,
                 what="grad_W")
    assert_close(ex.grad_b, numerical_gradient(lambda b: pairing(b=b), ex.b), atol=ATOL,
                 what="grad_b")
    assert_close(ex.grad_a, numerical_gradient(lambda a: pairing(a=a), ex.a), atol=ATOL,
                 what="grad_a")


def test_exercise_block_diagonal_share():
    assert ex.J.shape == (7, 5, 7, 3)
    mask = np.zeros((7, 5, 7, 3), dtype=bool)
    for i in range(7):
        mask[i, :, i, :] = True
    assert np.all(np.abs(ex.J[~mask]) < 1e-12)
    assert ex.nonzero == pytest.approx(1 / 7) and ex.blocks_are_W


def test_exercise_trace_is_the_first_order_change():
    numeric = numerical_gradient(ex.R, ex.W3)
    assert_close(ex.grad, numeric, atol=ATOL, what="grad of the exercise's R")
    assert ex.D.shape == (ex.n, ex.m)
    assert_close(ex.D, numeric.T, atol=ATOL, what="numerator layout D")
    first_order = float(np.sum(numeric * ex.step))
    assert np.trace(ex.D @ ex.step) == pytest.approx(first_order, rel=1e-6)
    # second-order remainder: |change - first order| <= C |step|^2 with a generous C
    assert abs(ex.change - first_order) < 10 * np.sum(ex.step ** 2) + 1e-15
    # and the step is small enough for the page's point ("a random small step"): the change
    # is its first-order term to a relative 1e-4, far below what the eye compares
    assert abs(ex.change - first_order) <= 1e-4 * abs(first_order)


def test_every_printed_check_agrees_with_finite_differences():
    """The page prints each derivative's shape beside that of its finite difference and
    their largest difference: read them back (a check the page prints is a claim too)."""
    from tests.page_output import run_page

    _, printed = run_page("snippets.shapes_and_jacobians.jacobians")
    checks = [line for line in printed.splitlines() if "max |diff|" in line]
    assert len(checks) == 8
    for line in checks:
        shapes = re.findall(r"\(\d*(?:, \d+)*,?\)", line)
        assert len(shapes) == 2 and shapes[0] == shapes[1], line
        assert float(line.rsplit(" ", 1)[1]) < 1e-8, line       # step 1e-6, float64
    # "∂R/∂y1 would be (1, p)": the shape a derivative of the scalar R by y1 has, a row
    would_be = next(line for line in printed.splitlines() if "∂R/∂y1 would be" in line)
    shape = re.search(r"\((\d+), (\d+)\)", would_be).groups()
    assert tuple(map(int, shape)) == page.product.shape == (1, page.y1.size)   # the chain


def test_the_heatmaps_show_each_jacobian_on_a_scale_centred_at_zero():
    """Each heat map draws its Jacobian, entry for entry, on a colour scale from -m to m,
    m its largest entry in size: zero is the middle colour and no entry is cut off."""
    from tests.page_output import drawn, run_page

    run, _ = run_page("snippets.shapes_and_jacobians.jacobians")
    images = [image for panels in drawn("snippets.shapes_and_jacobians.jacobians").values()
              for axes in panels for image in axes.images]
    assert len(images) == len(run.jacobians)
    for (values, (low, high)), J in zip(images, run.jacobians.values(), strict=True):
        assert values.shape == J.shape
        assert np.array_equal(values, J)
        assert (low, high) == (-np.abs(J).max(), np.abs(J).max())


def test_the_grey_lines_divide_the_weight_jacobian_into_its_blocks():
    """The alt text promises "divided by grey lines into four blocks of 5 columns", one
    block per row of W: each line falls between the columns one row's entries fill and the
    next row's, read from the drawn image itself."""
    from tests.page_output import panel

    shown = panel("snippets.shapes_and_jacobians.jacobians", "A 4 by 20 heat map")
    (values, _), = shown.images
    filled = [np.flatnonzero(row) for row in values]        # the columns row i fills
    assert all(len(f) == len(filled[0]) for f in filled)
    between = [(f[-1] + g[0]) / 2 for f, g in itertools.pairwise(filled)]
    edges = sorted(xy[0, 0] for _, xy in shown.lines
                   if len(xy) == 2 and xy[0, 0] == xy[1, 0])   # vertical lines
    assert edges == between and len(edges) == len(filled) - 1   # four blocks, three lines
