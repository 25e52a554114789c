"""docs/residual-gradient.md: every gradient on the page against central differences
(float64, h = 1e-6, atol 1e-8 unless stated), every number it prints recomputed another way,
and the notes' formulas shown to be off."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from snippets.bp.activations import RELU, SIGMOID
from snippets.bp.gradcheck import assert_close, numerical_gradient, numerical_jacobian
from snippets.bp.losses import softmax_cross_entropy
from snippets.bp.mlp import MLP, build_residual_mlp
from snippets.residual_gradient import diagrams
from snippets.residual_gradient import exercises as ex
from snippets.residual_gradient import gradient as page

ATOL = 1e-8
d = page.d
PROSE = (Path(__file__).parents[1] / "docs" / "residual-gradient.md").read_text()


def loss_of_x1(x1, x3_shortcut=None, x1_shortcut=None, W=None):
    """Note 001's loss, written out; a shortcut given as a constant is cut from the
    backward pass (its value is the forward pass's)."""
    W = page.W if W is None else W
    b = page.b
    x2 = RELU(W[0] @ x1 + b[0])
    x3 = RELU(W[1] @ x2 + b[1] + (x1 if x1_shortcut is None else x1_shortcut))
    x4 = RELU(W[2] @ x3 + b[2])
    x5 = RELU(W[3] @ x4 + b[3] + (x3 if x3_shortcut is None else x3_shortcut))
    return softmax_cross_entropy(x5, page.p[0])


def test_the_network_is_note_001s():
    x1 = page.x[1]
    x2 = RELU(page.W[0] @ x1 + page.b[0])
    x3 = RELU(page.W[1] @ x2 + page.b[1] + x1)
    x4 = RELU(page.W[2] @ x3 + page.b[2])
    x5 = RELU(page.W[3] @ x4 + page.b[3] + x3)
    assert_close(page.x[5], x5, atol=1e-14, what="x5")
    numeric = numerical_gradient(loss_of_x1, x1)
    assert_close(page.dL[1], numeric, atol=ATOL, what="dL/dx1 through both shortcuts")
    numeric5 = numerical_gradient(lambda v: softmax_cross_entropy(v, page.p[0]), x5)
    assert_close(page.dL[5], numeric5, atol=ATOL, what="dL/dx5 = softmax(x5) - p")
    # every layer has units on and off: each of the four paths can carry gradient
    for l in (2, 3, 4, 5):
        assert 0 < np.sum(page.z[l] > 0) < d


def test_streams_are_independent_and_reproducible():
    a, b = page.streams(1, 2)
    assert not np.allclose(a.normal(size=5), b.normal(size=5))
    again = page.streams(1, 2)[0]
    assert np.array_equal(again.normal(size=5), page.streams(1, 2)[0].normal(size=5))


def test_shortcut_term_is_the_masked_upstream_gradient():
    numeric = numerical_gradient(page.loss_from_x3, page.x[3])
    assert page.exact.shape == numeric.shape == (d,)
    assert_close(page.exact, numeric, atol=ATOL, what="dL/dx3")
    assert_close(page.dL[3], numeric, atol=ATOL, what="library dL/dx3")
    assert np.all(page.delta5[page.z[5] <= 0] == 0)            # masked where ReLU is off
    assert np.any(page.z[5] <= 0)
    assert np.max(np.abs(page.note - numeric)) > 0.5            # "+ 1" is wrong


def test_dL_dx2_needs_the_shortcut_from_x3():
    numeric = numerical_gradient(page.loss_from_x2, page.x[2])
    assert_close(page.exact_x2, numeric, atol=ATOL, what="dL/dx2")
    assert_close(page.dL[2], numeric, atol=ATOL, what="library dL/dx2")
    assert np.max(np.abs(page.note_x2 - numeric)) > 0.1


def test_simpler_example_is_J_F_plus_I():
    J = numerical_jacobian(page.block, page.x[1])
    assert J.shape == (d, d)
    assert_close(page.J_F + np.eye(d), J, atol=ATOL, what="dy/dx1")
    assert np.abs(J - np.eye(d)).max() > 0.1


def test_gap_formats_rounding_and_real_gaps():
    assert page.gap(np.zeros(2), np.array([0.0, 3e-10])) == "3e-10"
    assert page.gap(np.zeros(2), np.array([0.0, 1.987])) == "1.99"


def path_matrices():
    """Each path's term, from explicit Jacobian matrices (numerator layout, transposed)."""
    D = {l: np.diag(RELU.df(page.z[l])) for l in (2, 3, 4, 5)}
    W = page.W
    g5 = page.dL[5]
    return {
        "a": W[0].T @ D[2] @ W[1].T @ D[3] @ W[2].T @ D[4] @ W[3].T @ D[5] @ g5,
        "b": D[3] @ W[2].T @ D[4] @ W[3].T @ D[5] @ g5,
        "c": W[0].T @ D[2] @ W[1].T @ D[3] @ D[5] @ g5,
        "d": D[3] @ D[5] @ g5,
    }


def test_four_paths_sum_to_the_gradient_and_the_note_drops_two():
    expected = path_matrices()
    terms = page.path_term
    assert [name[:3] for name in terms] == ["(a)", "(b)", "(c)", "(d)"]
    for name, v in terms.items():
        assert v.shape == (d,)
        assert_close(v, expected[name[1]], atol=1e-12, what=f"path {name}")
        assert np.linalg.norm(v) > 0.05                  # every path carries gradient
    numeric = numerical_gradient(loss_of_x1, page.x[1])
    assert_close(page.four_paths, numeric, atol=ATOL, what="sum of the four paths")
    assert_close(page.numeric_x1, numeric, atol=1e-12, what="the page's finite differences")
    assert np.max(np.abs(page.note_terms - numeric)) > 0.5   # (a) + (b) is not the gradient
    assert np.max(np.abs(page.note_final - numeric)) > 0.5   # nor is (a) + 1
    assert_close(page.note_terms + expected["c"] + expected["d"], numeric, atol=ATOL,
                 what="the note's terms plus the two dropped paths")
    # the four routes are all the routes: a choice at each of the two shortcuts
    routes = {tuple(r for i, r in hops if i in (4, 2)) for hops in page.PATHS.values()}
    assert routes == {("F", "F"), ("F", "skip"), ("skip", "F"), ("skip", "skip")}


def test_diagram_paths_are_the_pages_paths():
    for (name, hops), drawn in zip(page.PATHS.items(), diagrams.PATH_HOPS.values(),
                                   strict=True):
        as_nodes = [(i + 1, i if route == "F" else i - 1) for i, route in hops]
        assert as_nodes == drawn, name
    assert list(diagrams.IN_NOTE.values()) == ["in note", "in note", "dropped", "dropped"]


def test_the_diagram_marks_the_dropped_paths_apart():
    """The rows the note drops are labelled in red, those it keeps in ink; each row's
    visited nodes are filled."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    fig = diagrams.paths_diagram()
    ax = fig.axes[0]
    colours = {t.get_text(): to_hex(t.get_color()) for t in ax.texts
               if t.get_text() in ("in note", "dropped")}
    assert colours == {"in note": diagrams.INK, "dropped": "#d62728"}
    labels = [t for t in ax.texts if t.get_text() in ("in note", "dropped")]
    assert [t.get_text() for t in sorted(labels, key=lambda t: -t.get_position()[1])] \
        == list(diagrams.IN_NOTE.values())                           # top row first
    filled = [to_hex(c.get_facecolor()) == diagrams.INK for c in ax.patches
              if type(c).__name__ == "Circle"]
    visited = [i in {n for hop in hops for n in hop}
               for hops in diagrams.PATH_HOPS.values() for i in range(1, 6)]
    assert filled == visited
    # The header names every node and every branch, in order from left to right, each
    # above its own column of nodes.
    top = max(t.get_position()[1] for t in ax.texts)
    header = sorted((t for t in ax.texts if t.get_position()[1] == top),
                    key=lambda t: t.get_position()[0])
    assert [t.get_text() for t in header] == [
        "$x_1$", "$F_1$", "$x_2$", "$F_2$", "$x_3$", "$F_3$", "$x_4$", "$F_4$", "$x_5$"]
    columns = sorted({round(c.center[0], 6) for c in ax.patches
                      if type(c).__name__ == "Circle"})
    assert [round(t.get_position()[0], 6) for t in header[::2]] == columns
    plt.close(fig)


@pytest.mark.parametrize("draw", [diagrams.block_diagram, diagrams.paths_diagram])
def test_diagrams_are_deterministic(draw):
    from snippets.figures import panel_record

    first, second = panel_record(draw(), "a"), panel_record(draw(), "a")
    assert first["svg"] == second["svg"]
    assert first["width"] <= 4.6 * 96          # a single panel of at most about 4.8 in


def test_own_weights_get_no_term_from_their_own_shortcut():
    W = page.W
    for l in (1, 2, 3, 4):
        def loss_W(M, l=l):
            Ws = list(W)
            Ws[l - 1] = M
            return loss_of_x1(page.x[1], W=Ws)

        numeric = numerical_gradient(loss_W, W[l - 1])
        assert page.full[l].shape == W[l - 1].shape
        assert_close(page.full[l], numeric, atol=ATOL, what=f"dL/dW{l}")
        assert_close(page.grads.W[l], numeric, atol=ATOL, what=f"library dL/dW{l}")
    assert_close(page.full[4], np.outer(page.delta5, page.x[4]), atol=1e-14,
                 what="dL/dW4 = delta_5 x4^T")
    # cutting a shortcut = holding its input constant: finite differences of that loss
    frozen = {"x3->x5": {"x3_shortcut": page.x[3]}, "x1->x3": {"x1_shortcut": page.x[1]}}
    for cut, kwargs in frozen.items():
        grads, g1 = page.cuts[cut]
        for l in (1, 2, 3, 4):
            def loss_W(M, l=l, kwargs=kwargs):
                Ws = list(W)
                Ws[l - 1] = M
                return loss_of_x1(page.x[1], W=Ws, **kwargs)

            assert_close(grads[l], numerical_gradient(loss_W, W[l - 1]), atol=ATOL,
                         what=f"dL/dW{l} with {cut} cut")
        assert_close(g1, numerical_gradient(lambda v, k=kwargs: loss_of_x1(v, **k), page.x[1]),
                     atol=ATOL, what=f"dL/dx1 with {cut} cut")
    # the table: exact zeros for a block's own weights and everything above the shortcut
    for l in (4, 3):
        assert page.change("x3->x5", l) == 0 and page.change("x1->x3", l) == 0
    for l in (2, 1):
        assert page.change("x1->x3", l) == 0
        assert page.change("x3->x5", l) > 0.05
    assert page.change("x3->x5", 0) > 0.05 and page.change("x1->x3", 0) > 0.05
    assert page.cell(0.0) == "0" and page.cell(0.314) == "0.31"


def test_note004_identity_not_ones():
    J = numerical_jacobian(page.y_hat, page.x0)
    assert_close(page.J_H + np.eye(d), J, atol=ATOL, what="dy_hat/dx")
    numeric = numerical_gradient(page.loss004, page.x0)
    assert page.with_I.shape == numeric.shape == (d,)
    assert_close(page.with_I, numeric, atol=ATOL, what="dL/dx")
    # the ones reading is off, in component i, by the sum of the other components of e
    e = page.error
    off_by = np.sum(e) - e
    assert_close(page.with_ones - numeric, off_by, atol=1e-7, what="ones - truth")
    # and the gap depends on the network's error: another target, another gap
    assert abs(np.max(np.abs(off_by)) - 1.0) > 0.1
    e2 = page.y_hat(page.x0) - (page.y0 + np.array([1.0, -2.0, 0.5, 0.0]))
    assert abs(np.max(np.abs(np.sum(e2) - e2)) - np.max(np.abs(off_by))) > 0.1


def test_note004_needs_the_diagonal_between_w2_and_w1():
    """The note's line (ŷ−y) w2 a1(1−a1) w1 + (ŷ−y), as products, is a number times W1
    plus e; with diag(a1(1−a1)) it is the gradient. Checked against central differences of
    a forward pass written here, and against what the page prints."""
    from tests.page_output import run_page, table_rows

    W1, b1, W2, b2 = page.W1, page.b1, page.W2, page.b2
    x, y = page.x0, page.y0

    def loss(v):
        a1 = 1 / (1 + np.exp(-(W1 @ v + b1)))
        return 0.5 * np.sum((W2 @ a1 + b2 + v - y) ** 2)

    numeric = numerical_gradient(loss, x)
    a1 = 1 / (1 + np.exp(-(W1 @ x + b1)))
    e = W2 @ a1 + b2 + x - y
    assert_close(page.with_diag, W1.T @ np.diag(a1 * (1 - a1)) @ W2.T @ e + e, atol=1e-12,
                 what="the page's gradient")
    assert_close(page.with_diag, numeric, atol=1e-6, what="dL/dx")
    assert page.as_written.shape == W1.shape != x.shape
    assert_close(page.as_written, float(e @ W2 @ (a1 * (1 - a1))) * W1 + e, atol=1e-12,
                 what="the note's line as products")
    _, printed = run_page("snippets.residual_gradient.gradient")
    rows = table_rows(printed, f"note 004's line for ∇x L; x has shape {x.shape}", 2)
    assert rows[0] == ["as written, as products", f"{W1.shape}", "no gradient"]
    assert rows[1][:2] == ["with diag(a1(1−a1))", f"{x.shape}"]
    assert float(rows[1][2]) <= 1e-6


def test_he_2016_equation_5_on_a_deep_stack():
    # "The code checks the split on a stack of 20 blocks"
    assert page.blocks == int(re.search(r"on a\s+stack of (\d+) blocks", PROSE)[1])
    assert len(page.stack.layers) == 2 * page.blocks
    grads = page.grads_s
    for l in range(page.blocks):
        start = 2 * l
        tail = page.stack.tail(start)

        def sum_of_branches(x_l, tail=tail):
            return tail.forward(x_l[None, :]).a[-1][0] - x_l

        J_sum = numerical_jacobian(sum_of_branches, page.fwd_s.a[start][0])
        assert_close(page.dE_dxL + page.dE_dxL @ J_sum, grads.a[start][0], atol=1e-7,
                     what=f"eq. 5 at block {l}")
    # E = ½|x_L - y|²: its gradient at the output, written out
    assert_close(page.dE_dxL, page.fwd_s.a[-1][0] - page.target[0], atol=0, what="dE/dx_L")
    for direct, through, bp in page.eq5.values():
        assert np.array_equal(direct, page.dE_dxL)           # the same at every block
        assert_close(direct + through, bp, atol=1e-7, what="the table's rows")


def test_a_relu_after_the_addition_masks_the_shortcut():
    # one original block: dy/dx = D (I + J_F), D the mask of the sum, by finite differences
    net = build_residual_mlp(np.random.default_rng(0), 6, 1)
    net = MLP([replace(net.layers[0]), replace(net.layers[1], g=RELU)])
    x = np.abs(np.random.default_rng(1).normal(size=6))
    (W_a, b_a), (W_b, b_b) = [(layer.W, layer.b) for layer in net.layers]
    s = x + W_b @ RELU(W_a @ x + b_a) + b_b
    D = np.diag(RELU.df(s))
    J_F = W_b @ np.diag(RELU.df(W_a @ x + b_a)) @ W_a
    numeric = numerical_jacobian(lambda v: net.forward(v[None, :]).a[-1][0], x)
    assert numeric.shape == (6, 6)
    assert_close(D @ (np.eye(6) + J_F), numeric, atol=ATOL, what="original block Jacobian")
    assert np.any(np.diag(D) == 0)             # the shortcut's own path is D, not I


def test_share_of_units_open_along_the_shortcuts():
    share = page.open_share
    assert share.shape == (5, page.L_max)
    # independently: one seed at a time, the masks recomputed by a plain loop
    for seed, rng in enumerate(page.streams(6, 5)):
        net = build_residual_mlp(rng, 64, page.L_max)
        x = RELU(page.streams(7, 1)[0].normal(size=(64, 64)))
        open_ = np.ones_like(x, dtype=bool)
        for k in range(page.L_max):
            W_a, b_a = net.layers[2 * k].W, net.layers[2 * k].b
            W_b, b_b = net.layers[2 * k + 1].W, net.layers[2 * k + 1].b
            s = x + RELU(x @ W_a.T + b_a) @ W_b.T + b_b
            open_ &= s > 0
            x = RELU(s)
            assert share[seed, k] == pytest.approx(open_.mean(), abs=1e-12)
    assert np.all(np.diff(share, axis=1) <= 0)                 # a product of masks
    from tests.page_output import run_page
    printed = run_page("snippets.residual_gradient.gradient")[1].splitlines()
    (header,) = [i for i, line in enumerate(printed) if line.startswith("blocks L  share")]
    for line, L in zip(printed[header + 1:header + 4], (1, 10, 50), strict=True):
        blocks, median, low, _, high = line.split()
        column = share[:, L - 1]
        assert (blocks, median, low, high) == (
            str(L), f"{np.median(column):.2f}", f"{column.min():.2f}", f"{column.max():.2f}")
    assert np.all(share[:, 0] > 0.5) and np.all(share[:, 0] < 0.75)  # "about a third closed"
    assert np.all(share[:, -1] == 0)                           # "none open in any seed"
    assert np.all(share[:, 9] < 0.1)


def test_note002_two_paths_sum_to_the_gradient():
    for (label, scale, g, b3), (dR_dA3, long, short, gap) in zip(
            page.CASES, page.note002_runs, strict=True):
        numeric = numerical_gradient(
            lambda M, s=scale, g=g, b3=b3: page.note002(M, s * page.V2, page.V3, page.X2,
                                                         page.Y2, g, b3)[0], page.V1)
        assert long.shape == short.shape == page.V1.shape
        assert_close(long + short, numeric, atol=ATOL, what=f"dR/dW1, {label}")
        assert gap <= ATOL
        assert np.linalg.norm(dR_dA3) > 0.5                # the gradient at layer n is not 0
        if g is SIGMOID:
            assert np.linalg.norm(short) > 0.1
        else:                                               # every sum negative: nothing
            assert np.all(long == 0) and np.all(short == 0)
            assert np.all(numeric == 0)
    longs = [np.linalg.norm(run[1]) for run in page.note002_runs[:3]]
    assert longs[0] > longs[1] > longs[2] and longs[2] < 1e-4


def test_note000_identity_term():
    for n_mid in (6, 4, 3):
        J_mid, J_top, total = page.jacobians_000(n_mid)
        assert J_mid.shape == (n_mid, 4) and total.shape == (4, 4)
        assert_close(J_top @ J_mid + np.eye(4), total, atol=ATOL, what=f"width {n_mid}")


def test_exercise_cancelling_branch_passes_nothing():
    J = numerical_jacobian(ex.cancel_block, ex.x_pos)
    assert J.shape == (ex.n, ex.n)
    assert_close(J, np.zeros((ex.n, ex.n)), atol=ATOL, what="I + J_F")
    assert np.linalg.norm(ex.g_up) > 0.5
    assert np.allclose(ex.J_block.T @ ex.g_up, 0, atol=1e-9)


def test_exercise_paths_count_and_sum():
    assert len(ex.terms) == 2 ** ex.K
    numeric = numerical_gradient(
        lambda v: float(np.sum(ex.net.forward(v[None, :]).a[-1])), ex.fwd_K.a[0][0])
    assert_close(sum(ex.terms.values()), numeric, atol=ATOL, what="sum of 2^K paths")
    assert_close(ex.bp, numeric, atol=ATOL, what="back-propagation")
    all_skip = ex.terms[("skip",) * ex.K]
    masks = np.prod([RELU.df(ex.fwd_K.z[2 * k][0]) for k in range(1, ex.K + 1)], axis=0)
    assert_close(all_skip, masks * ex.g_out[0], atol=1e-15, what="the all-shortcut path")


def test_exercise_ones_eigenvalues():
    expected = np.array([-1.0] * (ex.d4 - 1) + [ex.d4 - 1.0])
    assert_close(np.linalg.eigvalsh(ex.M), expected, atol=1e-12, what="eigenvalues")
    # the solution's "For d = 4:" is the width the code takes, and what it prints
    from tests.page_output import NUMBER, line_with, run_page

    d = int(re.search(r"For \\\(d = (\d+)\\\):", PROSE)[1])
    assert ex.d4 == d
    _, printed = run_page("snippets.residual_gradient.exercises")
    shown = [float(v) for v in
             NUMBER.findall(line_with(printed, "eigenvalues of 11^T - I:").split(":")[1])]
    assert shown == [-1.0] * (d - 1) + [d - 1.0]


# The rows of the page's printed checks that compute a derivative the way note 001 or 002
# does, or with the all-ones matrix: each must miss; every other way must agree.
WRONG_WAYS = {"through x4 + 1 (note 001)", "the x4 path only (note 001)", "0 + I (note 001)",
              "(a) + (b), the note's two terms", "(a) + 1, the note's result",
              "J_Hᵀ e + 11ᵀ e (ones)"}


def test_every_printed_finite_difference_check():
    """Read back every table of the page that compares a derivative with finite
    differences: the right ways agree (the gap is what float64 steps of 1e-6 leave), the
    notes' ways miss by far more, and the table of note 002's cases says the same."""
    from tests.page_output import run_page


    _, printed = run_page("snippets.residual_gradient.gradient")
    lines = printed.splitlines()
    seen = set()
    for i, header in enumerate(lines):
        if not header.endswith("max gap to finite differences"):
            continue
        for row in lines[i + 1:]:
            label, _, gap = row.rpartition("  ")
            label = label.strip()
            try:
                gap = float(gap)
            except ValueError:
                break                                # the next table begins
            seen.add(label)
            if label in WRONG_WAYS:
                assert gap > 0.1, row
            else:
                assert gap < 1e-6, row
    assert WRONG_WAYS <= seen and len(seen) >= len(WRONG_WAYS) + 7
    rows = lines[lines.index(next(r for r in lines if r.startswith("g after the sum"))) + 1:]
    for row in rows[:len(page.CASES)]:
        assert float(row.split()[-1]) < 1e-6, row      # the FD gap column
    blocks = lines[lines.index(next(r for r in lines if r.startswith("block l"))) + 1:]
    for row in blocks[:4]:
        assert float(row.split()[-1]) < 1e-6, row      # |sum - backprop|


def test_printed_note_results_and_cut_shortcuts():
    """The printed gaps of note 001's results are those of the note's own formulas (the
    path through every layer plus the two on the note's list, and that path plus 1); the
    table of cut shortcuts prints each gradient's relative change, |new − old| / |old|."""
    from tests.page_output import printed_as, run_page

    run, printed = run_page("snippets.residual_gradient.gradient")
    terms = list(run.path_term.values())
    notes = {"(a) + (b), the note's two terms": terms[0] + terms[1],
             "(a) + 1, the note's result": terms[0] + 1.0}
    for line in printed.splitlines():
        for label, value in notes.items():
            if line.startswith(label):
                shown = line.rsplit(" ", 1)[1]
                assert printed_as(shown, np.max(np.abs(value - run.numeric_x1))), line
    lines = printed.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("gradient of")))
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[start + 1:start + 6]]
    for cells, l in zip(rows, (4, 3, 2, 1, 0), strict=True):
        assert cells[0] == (f"W{l}" if l else "∇x1 L")
        for cell, cut in zip(cells[-2:], ("x3->x5", "x1->x3"), strict=True):
            new, old = ((run.cuts[cut][1], run.full_x1) if l == 0
                        else (run.cuts[cut][0][l], run.full[l]))
            change = np.linalg.norm(new - old) / np.linalg.norm(old)
            assert (cell == "0" and change == 0) or printed_as(cell, change), (l, cut, cell)


def test_the_printed_gaps_of_the_notes_ways():
    """Each of the notes' ways, recomputed here as the note writes it, misses the finite
    differences by exactly the gap the page prints: note 001's "+ 1" for ∇x3 L, its path
    through x4 alone for ∇x2 L, its "0 + I" for dy/dx1, and note 004's all-ones matrix."""
    from tests.page_output import printed_as, run_page

    run, printed = run_page("snippets.residual_gradient.gradient")
    relu_on = {i: (run.z[i] > 0).astype(float) for i in (3, 4, 5)}
    delta5 = run.dL[5] * relu_on[5]
    through_x4 = run.W[2].T @ ((run.W[3].T @ delta5) * relu_on[4])
    e = run.error
    ways = {
        "through x4 + 1 (note 001)": (through_x4 + 1.0,
                                      numerical_gradient(run.loss_from_x3, run.x[3])),
        "the x4 path only (note 001)": (run.W[1].T @ (through_x4 * relu_on[3]),
                                        numerical_gradient(run.loss_from_x2, run.x[2])),
        "0 + I (note 001)": (np.eye(run.d), numerical_jacobian(run.block, run.x[1])),
        "J_Hᵀ e + 11ᵀ e (ones)": (run.J_H.T @ e + e.sum(),
                                  numerical_gradient(run.loss004, run.x0)),
    }
    lines = printed.splitlines()
    for label, (value, reference) in ways.items():
        line, = [line for line in lines if line.startswith(label)]
        shown = line.rsplit(" ", 1)[1]
        assert printed_as(shown, np.max(np.abs(value - reference))), line


def test_the_printed_note002_cases():
    """Note 002's table as printed: |∇A3 R| = |A3 − Y| from a forward pass written here,
    and the long and short paths' sizes, for every case."""
    from tests.page_output import printed_as, run_page

    run, printed = run_page("snippets.residual_gradient.gradient")
    lines = printed.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("g after the sum")))
    for line, (label, scale, g, b3), (_, long, short, _) in zip(
            lines[start + 1:], run.CASES, run.note002_runs, strict=False):
        assert line.startswith(label)
        Z1 = run.V1 @ run.X2
        Z2 = scale * run.V2 @ g(Z1)
        A3 = g(run.V3 @ g(Z2) + b3 + Z1)
        cells = line[len(label):].split()
        assert printed_as(cells[0], np.linalg.norm(A3 - run.Y2)), line
        assert printed_as(cells[1], np.linalg.norm(long)) and \
            printed_as(cells[2], np.linalg.norm(short)), line


def test_the_note002_case_labels_state_their_settings():
    """Each case's label names what the code does: a W2 scale "× s" is the scale used, a
    bias "b3 = v" the bias, and a case that names neither uses scale 1 and bias 0."""
    import re

    for label, scale, g, b3 in page.CASES:
        stated_scale = re.search(r"W2 × ([\d.]+)", label)
        stated_bias = re.search(r"b3 = ([−-]?[\d.]+)", label)
        assert scale == (float(stated_scale[1]) if stated_scale else 1.0), label
        assert b3 == (float(stated_bias[1].replace("−", "-")) if stated_bias else 0.0), label
        assert label.split(",")[0] == g.name.replace("relu", "ReLU"), label
