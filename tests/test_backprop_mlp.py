"""docs/backprop-mlp.md: each formula function of the chapter against central differences
(float64, h = 1e-6, atol 1e-8 unless stated), for more sizes and seeds than the page shows;
the notes' formulas shown to differ where the page says they do; every number the page
states in its prose recomputed or bounded; the exercises' answers recomputed another way."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from snippets.backprop_mlp import backprop as page
from snippets.backprop_mlp import exercises as ex
from snippets.bp.activations import IDENTITY, RELU, SIGMOID
from snippets.bp.gradcheck import (
    assert_close,
    check_network,
    numerical_gradient,
    numerical_jacobian,
)
from snippets.bp.losses import softmax, softmax_cross_entropy

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
        assert_close(analytic, numeric, atol=ATOL, what=f"grad {name}, sizes {sizes}")


def test_the_page_network_gradients():
    for name, analytic in page.analytic.items():
        numeric = numerical_gradient(
            lambda V, name=name: page.loss_000(page.x, page.y, **{**page.W, name: V}),
            page.W[name])
        assert_close(analytic, numeric, atol=ATOL, what=f"page grad {name}")


def test_the_notes_W3_shape_does_not_multiply():
    with pytest.raises(ValueError):
        page.W3_note @ page.alpha2
    assert (page.alpha2 @ page.W3_note).shape == (page.L3,)
    assert (page.W3_note.T @ page.alpha2).shape == (page.L3,)


def test_single_output_the_notes_formula_is_the_outer_product():
    """Note 000's dσ(W3 α2)/dW3 = σ(1 - σ) α2 holds for L3 = 1: the row δ3 α2ᵀ / (2 (a3 - y))."""
    x, y, W = network_000((5, 4, 3, 1), 7)
    *_, a2, z3, a3 = page.forward_000(x, **W)
    grad_W3 = page.grads_000(x, y, **W)[2]
    note = SIGMOID.df(z3) * a2                       # σ(1 - σ) α2, one output
    assert_close(grad_W3[0], 2 * (a3 - y) * note, atol=1e-12, what="single output")


def test_layer_jacobian_shape_is_L_N_by_L_N_minus_1():
    assert page.J3.shape == (page.L3, page.L2) and page.J2.shape == (page.L2, page.L1)
    assert_close(page.J3, SIGMOID.df(page.z3)[:, None] * page.W["W3"], atol=ATOL,
                 what="d alpha3 / d alpha2")
    assert_close(page.J2, SIGMOID.df(page.z2)[:, None] * page.W["W2"], atol=ATOL,
                 what="d alpha2 / d alpha1")


@pytest.mark.parametrize("M, L1", [(5, 4), (1, 3), (4, 1)])
def test_the_3_tensor_and_its_contraction(M, L1):
    rng = np.random.default_rng(M * 7 + L1)
    x, W1n = rng.normal(size=M), rng.normal(size=(M, L1))
    T = page.tensor_000(x, W1n)
    numeric = numerical_jacobian(lambda W: SIGMOID(x @ W), W1n)
    assert T.shape == numeric.shape == (L1, M, L1)
    assert_close(T, numeric, atol=ATOL, what="d alpha1 / d W1")
    assert np.count_nonzero(T) <= L1 * M                 # all but L1 M entries are zero
    g = rng.normal(size=L1)  # any upstream row vector
    contracted = np.einsum("i,ijk->jk", g, T)
    loss_grad = numerical_gradient(lambda W: float(g @ SIGMOID(x @ W)), W1n)
    assert_close(contracted, loss_grad, atol=ATOL, what="contraction")


def test_the_page_contraction_is_the_W1_gradient_transposed():
    numeric = numerical_gradient(
        lambda V: page.loss_000(page.x, page.y, **{**page.W, "W1": V}), page.W["W1"])
    assert_close(page.contracted, numeric.T, atol=ATOL, what="page contraction")
    assert page.T.size == page.L1 ** 2 * page.M and page.contracted.size == page.L1 * page.M


def test_the_chapters_loop_and_the_library_were_checked_on_the_page():
    assert set(page.diffs) == set(page.net.param_names())
    assert max(page.diffs.values()) < ATOL
    assert page.same < 1e-14
    # and the library's backward, with dL/dx, against finite differences
    library = check_network(page.net, page.X, lambda y_hat: page.squared_error(y_hat, page.Y),
                            lambda y_hat: page.squared_error_grad(y_hat, page.Y))
    assert set(library) == {"x", *page.net.param_names()} and max(library.values()) < ATOL
    grads = page.net.backward(page.fwd, page.squared_error_grad(page.fwd.a[-1], page.Y))
    for l in page.grad_W:
        assert_close(page.grad_W[l], grads.W[l], atol=1e-14, what=f"loop vs library W{l}")
        assert_close(page.grad_b[l], grads.b[l], atol=1e-14, what=f"loop vs library b{l}")
    # "three sigmoid layers and a linear output", with nonzero biases
    assert [layer.g for layer in page.net.layers] == [SIGMOID] * 3 + [IDENTITY]
    assert all(np.any(layer.b != 0) for layer in page.net.layers)


def test_the_graph_figure_draws_two_layers():
    assert len(page.levels) == len(page.nodes) == 6
    assert len(page.backward_ops) == 5
    assert page.nodes[1][1] == "δ₁" and page.nodes[3][1] == "δ₂"


@pytest.mark.parametrize("entropy", [1, 2, 3])
def test_note002_separated_products_agree_only_at_width_one(entropy):
    for width in (1, 2, 8):
        correct, separated, numeric = page.note002_gradient(width, seeds=5, entropy=entropy)
        assert correct.shape == separated.shape == (5, width, width)
        assert_close(correct, numeric, atol=ATOL, what=f"grad W1, width {width}")
        gap = np.abs(separated - correct).max(axis=(1, 2)) / np.abs(correct).max(axis=(1, 2))
        if width == 1:
            assert np.all(gap < 1e-12)
        else:
            assert np.all(gap > 1e-3), f"width {width}: separated product agreed ({gap})"


def test_note002_against_one_network_by_hand():
    """The stacked computation equals the chain for one network written without stacks."""
    correct, _, _ = page.note002_gradient(3, seeds=2, entropy=5)
    w_seq, d_seq = np.random.SeedSequence(5).spawn(2)
    Ws = np.random.default_rng(w_seq).normal(size=(3, 2, 3, 3)) / np.sqrt(3)
    X, Y = np.random.default_rng(d_seq).normal(size=(2, 2, 3, 1))
    x, y = X[1, :, 0], Y[1, :, 0]
    W1, W2, W3 = Ws[0, 1], Ws[1, 1], Ws[2, 1]

    def loss(V):
        return 0.5 * float(np.sum((SIGMOID(W3 @ SIGMOID(W2 @ SIGMOID(V @ x))) - y) ** 2))

    assert_close(correct[1], numerical_gradient(loss, W1), atol=ATOL, what="one network")


def test_note002_table_on_the_page():
    for width in (1, 8):
        correct, separated, _ = page.note002_gradient(width)
        gap = np.abs(separated - correct).max(axis=(1, 2)) / np.abs(correct).max(axis=(1, 2))
        if width == 8:
            assert 0.05 < gap.min() and gap.max() < 1    # "a sizeable fraction", every seed


@pytest.mark.parametrize("d, k", [(3, 4), (1, 1), (5, 2)])
@pytest.mark.parametrize("seed", [0, 1])
def test_note004_block_gradient(d, k, seed):
    rng = np.random.default_rng(seed)
    params = dict(W1=rng.normal(size=(k, d)), b1=rng.normal(size=k),
                  W2=rng.normal(size=(d, k)), b2=rng.normal(size=d))
    x, y = rng.normal(size=d), rng.normal(size=d)
    loss, correct, literal = page.note004(x, y, **params)

    def block_loss(W1):          # the note's block written out here: ŷ = W2 σ(W1 x + b1) + b2 + x
        y_hat = params["W2"] @ (1 / (1 + np.exp(-(W1 @ x + params["b1"])))) + params["b2"] + x
        return 0.5 * float(np.sum((y_hat - y) ** 2))

    assert loss == pytest.approx(block_loss(params["W1"]), rel=1e-12)
    numeric = numerical_gradient(block_loss, params["W1"])
    assert correct.shape == numeric.shape == (k, d)
    assert_close(correct, numeric, atol=ATOL, what="grad W1 of the residual block")
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


def test_diff_text_separates_noise_from_gaps():
    assert page.diff_text(7.1e-11) == "7e-11"
    assert page.diff_text(0.146) == "0.15"


@pytest.mark.parametrize("k", [2, 3, 6])
@pytest.mark.parametrize("seed", [0, 1])
def test_softmax_jacobian_is_diag_minus_outer(k, seed):
    z = np.random.default_rng(seed).normal(scale=2.0, size=k)
    s = softmax(z)
    J = np.diag(s) - np.outer(s, s)
    numeric = numerical_jacobian(softmax, z)
    assert numeric.shape == (k, k)
    assert_close(J, numeric, atol=ATOL, what="d softmax / dz")
    assert_close(J.sum(axis=1), np.zeros(k), atol=1e-15, what="rows sum to 0")


def test_softmax_jacobian_on_the_page():
    numeric = numerical_jacobian(softmax, page.z)
    assert page.J_s.shape == (4, 4)
    assert_close(page.J_s, numeric, atol=ATOL, what="page's d softmax / dz")
    assert_close(page.dL_ds, -page.p / page.s, atol=0, what="dL/ds")
    # the product of the row and the Jacobian is s - p, the gradient by finite differences
    fd = numerical_gradient(lambda v: softmax_cross_entropy(v, page.p), page.z)
    assert_close(page.dL_ds @ page.J_s, fd, atol=ATOL, what="chain product")
    assert_close(page.s - page.p, fd, atol=ATOL, what="s - p")
    assert page.p.sum() == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_cross_entropy_gradient_is_sum_p_times_s_minus_p(seed):
    rng = np.random.default_rng(seed)
    z, p = rng.normal(size=5), rng.uniform(size=5) * 2      # p does not sum to 1
    s = softmax(z)
    fd = numerical_gradient(lambda v: softmax_cross_entropy(v, p), z)
    assert_close(p.sum() * s - p, fd, atol=ATOL, what="(sum p) s - p")
    assert abs(fd.sum()) < 1e-8                              # shift invariance
    assert np.max(np.abs((s - p) - fd)) == pytest.approx(abs(p.sum() - 1) * s.max(), rel=1e-6)


def test_softmax_targets_table():
    sums = {name: t.sum() for name, t in page.targets.items()}
    assert sums == pytest.approx({"one-hot": 1, "soft, Σp = 1": 1, "Σp = 1.5": 1.5,
                                  "Σp = 0.5": 0.5})
    for target in page.targets.values():
        fd = numerical_gradient(lambda v, t=target: softmax_cross_entropy(v, t), page.z)
        wrong = np.max(np.abs(page.s - target - fd))
        if target.sum() == 1:
            assert wrong < ATOL
        else:   # off by (sum p - 1) s
            assert wrong == pytest.approx(abs(target.sum() - 1) * page.s.max(), rel=1e-6)


def test_the_ten_layer_networks_count_nine_factors():
    net = page.nets["sigmoid, N(0, 1/n)"]
    assert page.N == len(net.layers) == 10
    assert [layer.g for layer in net.layers] == [SIGMOID] * 9 + [IDENTITY]
    assert page.kinds.count("sigmoid") == 9
    # delta_1 = D1 W2ᵀ D2 ... D9 W10ᵀ delta_10, nine D and nine W, for one network of the stack
    X = np.random.default_rng(3).normal(size=(4, 32))
    one = page.MLP([type(layer)(layer.W[0], layer.b[0], layer.g) for layer in net.layers])
    fwd = one.forward(X)
    grads = one.backward(fwd, X[:, :32] * 0 + 1.0)
    for i in range(4):
        delta = grads.delta[10][i]
        D_count = W_count = 0
        for l in range(10, 1, -1):
            delta = one.layers[l - 1].W.T @ delta
            W_count += 1
            delta = SIGMOID.df(fwd.z[l - 1][i]) * delta
            D_count += 1
        assert (D_count, W_count) == (9, 9)
        assert_close(delta, grads.delta[1][i], atol=1e-12, what="unrolled delta_1")


def test_layer_gradient_norms_shrink_through_sigmoid_layers_only():
    sigmoid, relu = page.norms["sigmoid, N(0, 1/n)"], page.norms["ReLU, He"]
    assert sigmoid.shape == relu.shape == (5, 10)
    assert np.all(np.diff(sigmoid, axis=1) > 0)   # smaller at every step towards the input
    ratio = sigmoid[:, 0] / sigmoid[:, -1]
    assert np.all((ratio > 3e-7) & (ratio < 3e-6))    # "about 1e-6", every seed
    factor = ratio ** (1 / 9)
    assert np.all((factor >= 0.205) & (factor < 0.235)) and np.all(factor < 0.25)  # 0.21-0.23
    relu_factor = (relu[:, 0] / relu[:, -1]) ** (1 / 9)
    assert np.all((relu_factor > 0.925) & (relu_factor < 1.025))   # "0.93 and 1.02"
    # one ReLU seed is the largest in every layer (why the band is wide)
    assert len(set(np.argmax(relu, axis=0))) == 1


def test_layer_gradient_norms_against_single_networks():
    """The stacked computation equals each network run on its own."""
    stack = page.fresh_stack(RELU, "he", depth=4, width=6, seeds=3, entropy=9)
    norms = page.layer_gradient_norms(stack, batch=5, entropy=10)
    X, Y = np.random.default_rng(10).normal(size=(2, 3, 5, 6))
    for i in range(3):
        one = page.MLP([type(layer)(layer.W[i], layer.b[i], layer.g) for layer in stack.layers])
        fwd = one.forward(X[i])
        grads = one.backward(fwd, (fwd.a[-1] - Y[i]) / 5)
        expected = [np.linalg.norm(grads.W[l]) for l in range(1, 5)]
        assert_close(norms[i], np.array(expected), atol=1e-12, what=f"network {i}")


def test_exercise_depth_prediction():
    factor = np.median(page.ratios["sigmoid, N(0, 1/n)"] ** (1 / 9))
    assert ex.factor == pytest.approx(factor)
    assert f"{factor ** 4:.0e}" == "2e-03" and f"{factor ** 19:.0e}" == "3e-13"
    for depth, per_layer in ((5, "0.20"), (20, "0.23")):
        stack = page.fresh_stack(SIGMOID, "gaussian", depth)
        assert len(stack.layers) == depth
        measured = page.layer_gradient_norms(stack)
        ratio = measured[:, 0] / measured[:, -1]
        assert_close(ex.measured[depth], ratio, atol=0, what=f"depth {depth}")
        predicted = factor ** (depth - 1)
        assert 1 / 1.6 < np.median(ratio) / predicted < 1.6      # "within a factor of 1.6"
        assert f"{np.median(ratio ** (1 / (depth - 1))):.2f}" == per_layer
    assert f"{np.median(ex.measured[5]):.0e}" == "2e-03"
    from tests.page_output import agrees_over_seeds, run_page, table_rows

    _, printed = run_page("snippets.backprop_mlp.exercises")
    for cells, depth in zip(table_rows(printed, "Layer 1 / layer N", 2), (5, 20), strict=True):
        assert cells[0] == str(depth)
        assert cells[1] == page.sci(factor ** (depth - 1)), cells     # factor^(N−1)
        assert agrees_over_seeds(cells[2], ex.measured[depth]), cells
    assert f"{np.median(ex.measured[20]):.0e}" == "5e-13"


def test_exercise_binary_cross_entropy_against_squared_error():
    for name, (loss, formula) in ex.formulas.items():
        fd = numerical_gradient(lambda v, loss=loss: float(loss(v[0])), np.array([ex.z]))[0]
        assert formula == pytest.approx(fd, abs=ATOL), name
    ce, se = ex.formulas["cross-entropy"][1], ex.formulas["squared error"][1]
    assert ce == pytest.approx(-1, abs=0.01)
    assert 350 < ce / se < 450                                 # "about 400 times"


def test_exercise_softmax_jacobian_rank_as_printed():
    """The page's lines, read back: rank k - 1, J 1 = 0 to rounding, and the formula's J
    within finite-difference error of the Jacobian of softmax, for each k it prints."""
    import re

    from tests.page_output import run_page

    _, printed = run_page("snippets.backprop_mlp.exercises")
    lines = re.findall(r"k = (\d+): rank (\d+), max \|J 1\| = (\S+), "
                       r"max \|J - finite diff\.\| = (\S+)", printed)
    assert [int(k) for k, *_ in lines] == [2, 3, 5]
    for k, rank, row_sum, gap in lines:
        assert int(rank) == int(k) - 1
        assert float(row_sum) < 1e-15 and float(gap) < 1e-8


def test_exercise_softmax_jacobian_rank():
    for k in (2, 3, 5, 8):
        s = softmax(np.linspace(-2.0, 2.0, k))
        J = np.diag(s) - np.outer(s, s)
        assert np.linalg.matrix_rank(J) == k - 1
        assert np.abs(J @ np.ones(k)).max() < 1e-15


def test_the_norms_figure_alt_text_numbers():
    sigmoid, relu = page.norms["sigmoid, N(0, 1/n)"], page.norms["ReLU, He"]
    median_s, median_r = np.median(sigmoid, axis=0), np.median(relu, axis=0)
    assert 5 < median_s[-1] < 20 and 5e-6 < median_s[0] < 2e-5   # "about 10 to about 1e-5"
    assert np.all((median_r > 10) & (median_r < 50))              # "between about 10 and 50"
    assert 300 < relu.max() < 500                                 # "up to about 400"
    assert np.all(sigmoid.max(axis=0) / sigmoid.min(axis=0) < 3)  # "a narrow band"


# What the page prints, read back: a sampled mutation run of this chapter found lines whose
# numbers the tests above checked in the module's arrays but not as printed.

def test_printed_lines_of_the_tensor_the_library_and_softmax():
    from tests.page_output import NUMBER, line_with, printed_as, run_page, table_rows

    run, printed = run_page("snippets.backprop_mlp.backprop")
    assert line_with(printed, "[1, L1] · [L1, M, L1] ->").endswith("equals (∇_W1 L)ᵀ: True")
    assert_close(run.contracted, run.analytic["W1"].T, atol=1e-15, what="contracted tensor")
    # the prose: "three sigmoid layers and a linear output"
    assert line_with(printed, "activations:") == "activations: sigmoid, sigmoid, sigmoid, identity"
    differences = [np.max(np.abs(run.grad_W[l] - run.library.W[l])) for l in run.grad_W]
    shown = line_with(printed, "the library's net.backward").rsplit(" ", 1)[1]
    assert float(shown) == pytest.approx(max(differences), abs=1e-300)
    s = np.exp(run.z - run.z.max()) / np.exp(run.z - run.z.max()).sum()
    # rows of the softmax Jacobian sum to zero, printed without a minus sign on a zero
    sums = line_with(printed, "rows of ∂s/∂z sum to:").split(":", 1)[1]
    assert sums.strip("[] ").split() == ["0."] * len(run.z)
    row = [float(v) for v in NUMBER.findall(line_with(printed, "s - p         =")[15:])]
    assert row == pytest.approx((s - run.p).round(4).tolist(), abs=1e-12)
    rows = table_rows(printed, "The gradient of −Σ p log softmax(z)", len(run.targets))
    for cells, (name, target) in zip(rows, run.targets.items(), strict=True):
        fd = numerical_gradient(lambda v, t=target: softmax_cross_entropy(v, t), run.z)
        assert cells[0] == name
        for cell, candidate in zip(cells[1:3], (s - target, target.sum() * s - target),
                                   strict=True):
            gap = np.max(np.abs(candidate - fd))
            assert (gap < 1e-3 and "e" in cell) or printed_as(cell, gap), (name, cell, gap)


def test_every_printed_range_is_in_order():
    """Each 'median (lowest–highest)' the page prints has its median between its ends."""
    from tests.page_output import run_page, spreads_in_order

    assert spreads_in_order(run_page("snippets.backprop_mlp.backprop")[1])


def test_the_graph_puts_each_layers_parameters_beside_its_z():
    """In the computational graph, the box of W_l, b_l (and of their gradients) sits at the
    height of z_l, and the column reads x, z1, a1, z2, a2, L from the bottom up."""
    from tests.page_output import panel

    ax = panel("snippets.backprop_mlp.backprop", "A computational graph drawn from bottom")
    height = {text: xy[1] for text, xy, _ in ax.texts}
    column = ["x = a₀", "z₁", "a₁", "z₂", "a₂", "ℒ(a₂, y)"]
    assert all(height[a] < height[b] for a, b in itertools.pairwise(column))
    for l, (z, grads) in enumerate([("z₁", "δ₁a₀ᵀ, δ₁"), ("z₂", "δ₂a₁ᵀ, δ₂")], start=1):
        params = f"W{l}, b{l}".translate(str.maketrans("12", "₁₂"))
        assert height[params] == pytest.approx(height[z])
        assert height[grads] < height[params]          # the gradients underneath


def test_the_printed_note002_and_layer_ratio_tables():
    """The separated product's gap and the per-layer factor, as printed, recomputed from
    the module's gradients: max|separated − alternating| / max|alternating| per network, and
    the ninth root of the first layer's gradient norm over the tenth's."""
    from tests.page_output import agrees_over_seeds, run_page, table_rows

    run, printed = run_page("snippets.backprop_mlp.backprop")
    rows = table_rows(printed, "The gradient of R by W₁ in five networks", 2)
    for cells, width in zip(rows, (1, 8), strict=True):
        correct, separated, _ = page.note002_gradient(width)
        gap = np.abs(separated - correct).max(axis=(1, 2)) / np.abs(correct).max(axis=(1, 2))
        assert cells[0] == str(width)
        assert agrees_over_seeds(cells[2], gap), cells
    rows = table_rows(printed, "The norm of the gradient for W₁ over that for W₁₀", 2)
    for cells, (label, v) in zip(rows, run.norms.items(), strict=True):
        ratio = v[:, 0] / v[:, -1]
        assert cells[0] == label.split(",")[0]
        assert agrees_over_seeds(cells[1], ratio), cells
        assert agrees_over_seeds(cells[2], ratio ** (1 / (v.shape[1] - 1))), cells


def test_the_printed_check_names_every_parameter_once():
    """The lines under "max |backward - finite differences|" list each of the network's
    weights and biases once (four a line), each with a gap below 1e-6, and they are the gaps
    of that run."""
    import re

    from tests.page_output import printed_as, run_page

    run, printed = run_page("snippets.backprop_mlp.backprop")
    block = printed.split("max |backward - finite differences|, batch of 8:\n", 1)[1]
    lines = block.split("\nthe library's net.backward", 1)[0].splitlines()
    found = [pair for line in lines for pair in re.findall(r"(\b[Wb]\d+) (\S+)", line)]
    names = sorted(f"{kind}{l}" for l in range(1, len(run.net.layers) + 1) for kind in "Wb")
    assert sorted(name for name, _ in found) == names
    assert all(len(re.findall(r"\b[Wb]\d+ ", line)) <= 4 for line in lines)
    for name, gap in found:
        assert float(gap) < 1e-6 and printed_as(gap, run.diffs[name])
