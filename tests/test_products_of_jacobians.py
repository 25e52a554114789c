"""docs/products-of-jacobians.md: every number the page prints, recomputed another way (closed
forms, explicit loops, forward instead of reverse accumulation) and compared at the precision
it is printed with; every Jacobian against central differences (float64, h = 1e-6, atol
1e-8), shapes asserted."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snippets.bp.activations import IDENTITY, RELU, SIGMOID, TANH
from snippets.bp.gradcheck import assert_close, numerical_gradient, numerical_jacobian
from tests.page_output import (
    agrees_over_seeds,
    line_with,
    numbers_in,
    printed_as,
    run_page,
    table_rows,
)

page, PRINTED = run_page("snippets.products_of_jacobians.products")
exercises, EXERCISES = run_page("snippets.products_of_jacobians.exercises")
SEEDS = 5


def spectral_norm(M):
    """Largest singular value, as the square root of the largest eigenvalue of M^T M
    (not np.linalg.norm(M, 2), which the page uses)."""
    M = np.asarray(M, dtype=float)
    return math.sqrt(max(np.linalg.eigvalsh(M.T @ M).max(), 0.0))


def singular_values(M):
    """All min(m, n) singular values, largest first, from the smaller Gram matrix."""
    M = np.asarray(M, dtype=float)
    gram = M.T @ M if M.shape[1] <= M.shape[0] else M @ M.T
    return np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))[::-1]


def layer_jacobian(g, W, a):
    """d g(W a)/d a by central differences, checked against diag(g'(z)) W."""
    numeric = numerical_jacobian(lambda v: g(W @ v), a)
    assert numeric.shape == W.shape
    assert_close(g.df(W @ a)[:, None] * W, numeric, atol=1e-8, what=f"{g.name} layer")
    return numeric


# --- one matrix, repeated -------------------------------------------------------------------

def test_power_table_against_the_eigendecomposition():
    V, lam = page.V, page.lam
    W = V @ np.diag(lam) @ np.linalg.inv(V)
    assert_close(np.sort(np.linalg.eigvals(W).real), [0.5, 0.9], atol=1e-12, what="eig W")
    rows = table_rows(PRINTED, "Powers of one matrix", 3)
    assert [row[1] for row in rows] == ["2.42", "1.94", "0.0288"]     # three digits
    for (t, norm, rho_t, ratio), t_expected in zip(rows, (1, 10, 50), strict=True):
        Wt = V @ np.diag(lam ** t_expected) @ np.linalg.inv(V)
        assert t == str(t_expected)
        assert printed_as(norm, spectral_norm(Wt))
        assert printed_as(rho_t, 0.9 ** t_expected)
        assert printed_as(ratio, spectral_norm(Wt) / 0.9 ** t_expected)
    s = singular_values(V)
    cond = line_with(PRINTED, "Powers of one matrix").split("= ")[1]
    assert printed_as(cond, s[0] / s[-1])
    for t in range(1, 101):        # the ratio never exceeds cond(V)
        Wt = V @ np.diag(lam ** t) @ np.linalg.inv(V)
        assert spectral_norm(Wt) <= (s[0] / s[-1]) * 0.9 ** t * (1 + 1e-12)


def test_jordan_block_grows_like_t():
    line = line_with(PRINTED, "‖J^t‖ for t")
    printed = numbers_in(line.split(":")[1])
    for t, text in zip((10, 100, 1000), printed, strict=True):
        closed_form = (t + math.sqrt(t * t + 4)) / 2    # ||[[1, t], [0, 1]]||_2
        assert spectral_norm(np.array([[1.0, t], [0.0, 1.0]])) == pytest.approx(closed_form)
        assert printed_as(text, closed_form)
    eig_line = line_with(PRINTED, "eigenvalues [1. 1.]; cond(P)")
    assert float(numbers_in(eig_line.split("cond(P) = ")[1])[0]) > 1e15  # parallel columns


def transient_norm(t):
    """||M^t|| from the closed form M^t = [[0.9^t, 50 (0.9^t - 0.8^t)], [0, 0.8^t]]."""
    a, b, d = 0.9 ** t, 50 * (0.9 ** t - 0.8 ** t), 0.8 ** t
    total, det = a * a + b * b + d * d, a * d
    return math.sqrt((total + math.sqrt(total * total - 4 * det * det)) / 2)


def test_non_normal_matrix_grows_before_it_decays():
    assert np.array_equal(page.M, [[0.9, 5.0], [0.0, 0.8]])
    norms = [transient_norm(t) for t in range(101)]
    peak = int(np.argmax(norms))
    above = max(t for t in range(101) if norms[t] > 1)
    rises = numbers_in(line_with(PRINTED, "‖M^t‖ rises to"))
    assert rises[0] == "13.5" and printed_as(rises[0], norms[peak])
    assert rises[1:] == [str(peak), "1", str(above)]
    late = numbers_in(line_with(PRINTED, "‖M^100‖ ="))
    assert printed_as(late[1], norms[100]) and printed_as(late[-1], 0.9 ** 100)
    # eigenvectors (1, 0) and (50, -1)/norm: cond of that matrix
    V = np.array([[1.0, 50 / math.hypot(50, 1)], [0.0, -1 / math.hypot(50, 1)]])
    s = singular_values(V)
    eig_line = line_with(PRINTED, "eigenvalues [0.9 0.8]; cond(V)")
    assert printed_as(numbers_in(eig_line)[-1], s[0] / s[-1])
    assert peak == 6 and above == 37                      # as the prose says
    assert norms[100] / 0.9 ** 100 == pytest.approx(50, rel=0.05)


def test_powers_plot_alt_text_states_the_computed_numbers():
    assert "about 13 near t = 6" in PRINTED and "until t = 37" in PRINTED


# --- different matrices, different widths ---------------------------------------------------

def test_alternating_product_of_matrices_with_eigenvalues_one_half():
    for M in (page.A, page.B):
        assert np.allclose(np.linalg.eigvals(M), 0.5)
    # BA = [[1/4, 1/2], [1/2, 5/4]] is symmetric: trace 3/2, determinant 1/16
    BA = np.array([[0.25, 0.5], [0.5, 1.25]])
    assert np.array_equal(page.B @ page.A, BA)
    rho = (1.5 + math.sqrt(2)) / 2
    assert printed_as(numbers_in(line_with(PRINTED, "note 000's reading"))[-1], 2.0 ** -50)
    line = numbers_in(line_with(PRINTED, "‖(BA)^25‖"))
    assert printed_as(line[1], rho ** 25)                # symmetric: norm = rho^25
    assert printed_as(line[2], (1.5 - math.sqrt(2)) / 2) and printed_as(line[3], rho)


def glorot_weights(rng, n_out, n_in):
    limit = math.sqrt(6 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_out, n_in))


def test_widths_table_singular_values_bound_each_layer():
    weight_ss, input_ss, grad_ss = np.random.SeedSequence(5).spawn(3)
    rng = np.random.default_rng(weight_ss)
    widths = [64, 16, 64, 16, 64]
    Ws = [glorot_weights(rng, widths[l], widths[l - 1]) for l in range(1, 5)]
    a = np.random.default_rng(input_ss).normal(size=(1, 64))[0]
    Js = []
    for W in Ws:
        Js.append(layer_jacobian(TANH, W, a))
        a = np.tanh(W @ a)
    grad = np.random.default_rng(grad_ss).normal(size=(1, 64))[0]
    rows = table_rows(PRINTED, "A tanh network of widths", 4)
    for l in range(4, 0, -1):
        J = Js[l - 1]
        s = singular_values(J)
        previous = J.T @ grad                            # the column gradient, transposed J
        ratio = np.linalg.norm(previous) / np.linalg.norm(grad)
        cells = rows[l - 1]
        assert cells[:2] == [str(l), f"{J.shape[0]} × {J.shape[1]}"]
        assert printed_as(cells[2], s[-1]) and printed_as(cells[3], s[0])
        assert printed_as(cells[4], ratio)
        assert ratio <= s[0] * (1 + 1e-12)
        if J.shape[0] <= J.shape[1]:                      # J^T injective: bounded below
            assert ratio >= s[-1] * (1 - 1e-12)
        grad = previous
    assert float(rows[3][4]) < float(rows[3][2])         # layer 4 falls below its sigma_min
    assert "eigenvalues of J_4: Last 2 dimensions of the array must be square" in PRINTED
    # the bounds of the page's equation hold for any gradient, not only this one
    v = np.random.default_rng(9).normal(size=(1000, 64))
    for J in Js:
        s = singular_values(J)
        ratios = np.linalg.norm(v[:, :J.shape[0]] @ J, axis=1) / np.linalg.norm(
            v[:, :J.shape[0]], axis=1)
        assert ratios.max() <= s[0] * (1 + 1e-12)
        if J.shape[0] <= J.shape[1]:
            assert ratios.min() >= s[-1] * (1 - 1e-12)


def test_entries_do_not_measure_a_matrix():
    line = numbers_in(line_with(PRINTED, "entries 0.5"))
    assert printed_as(line[1], 10 * 0.5)                # all-0.5 matrix: rank one, eigenvalue 5
    assert printed_as(line[-1], 5.0 ** 10)              # W^10 = 5^9 W, norm 5^10
    rng = np.random.default_rng(0)
    product, largest = np.eye(10), 0.0
    for _ in range(100):
        Q, R = np.linalg.qr(rng.normal(size=(10, 10)))
        Q = Q * np.sign(np.diag(R))
        product, largest = product @ Q, max(largest, np.abs(Q).max())
    s = singular_values(product)
    low = numbers_in(line_with(PRINTED, "product of 100 orthogonal factors"))[-1]
    high, entry = numbers_in(line_with(PRINTED, "to 1.0"))
    assert printed_as(low, s.min()) and printed_as(high, s.max())
    assert printed_as(entry, largest)
    assert largest < 1


def test_weights_of_gain_1_1_explode_only_without_an_activation():
    """Note 002's "slightly larger than 1": the same orthogonal weights times 1.1 (every
    singular value 1.1), the gradient ratio from explicit products of layer Jacobians (the
    first ones against central differences), for each activation."""
    n, gain, depths = 32, 1.1, (10, 50)
    w_ss, x_ss, c_ss = np.random.SeedSequence(7).spawn(3)
    A = np.random.default_rng(w_ss).normal(size=(SEEDS, 50, n, n))
    X = np.random.default_rng(x_ss).normal(size=(SEEDS, n))
    C = np.random.default_rng(c_ss).normal(size=(SEEDS, n))
    rows = table_rows(PRINTED, "‖∂L/∂x‖ / ‖∂L/∂a_D‖ when every singular value", 4)
    medians = {}
    for cells, g in zip(rows, (IDENTITY, TANH, RELU, SIGMOID), strict=True):
        assert cells[0] == g.name
        ratios = np.zeros((len(depths), SEEDS))
        for s in range(SEEDS):
            a, J = X[s], np.eye(n)
            for l in range(50):
                Q, R = np.linalg.qr(A[s, l])
                W = gain * Q * np.sign(np.diag(R))
                if l == 0:
                    assert singular_values(W) == pytest.approx(np.full(n, gain))
                J_l = layer_jacobian(g, W, a) if s == 0 and l < 2 else g.df(W @ a)[:, None] * W
                a, J = g(W @ a), J_l @ J
                if l + 1 in depths:
                    ratios[depths.index(l + 1), s] = (np.linalg.norm(J.T @ C[s])
                                                      / np.linalg.norm(C[s]))
        assert agrees_over_seeds(cells[1], ratios[0]) and agrees_over_seeds(cells[2], ratios[1])
        medians[g.name] = np.median(ratios, axis=1)
    assert medians["identity"] == pytest.approx(gain ** np.array(depths), rel=1e-9)
    # the prose: sigmoid about thirty orders down at 50, ReLU several, tanh below 1 throughout
    assert 1e-33 < medians["sigmoid"][1] < 1e-27
    assert 1e-9 < medians["relu"][1] < 1e-3
    assert medians["tanh"].max() < 1


# --- the norm bound -------------------------------------------------------------------------

def test_bound_table_against_explicit_jacobians():
    n, depth = 32, 50
    weight_ss, input_ss = np.random.SeedSequence(2).spawn(2)
    G = np.random.default_rng(weight_ss).normal(size=(SEEDS, depth, n, n))
    A = np.random.default_rng(input_ss).normal(size=(SEEDS, n))
    sup_sigma_prime = SIGMOID.df(np.linspace(-5, 5, 100_001)).max()
    assert sup_sigma_prime == 0.25
    totals = np.zeros((depth, SEEDS))
    products = np.zeros((depth, SEEDS))
    for s in range(SEEDS):
        a, total, product = A[s], np.eye(n), 1.0
        for l in range(depth):
            W = G[s, l] * (2.0 / spectral_norm(G[s, l]))
            assert spectral_norm(W) == pytest.approx(2.0)
            J = layer_jacobian(SIGMOID, W, a) if l < 3 else SIGMOID.df(W @ a)[:, None] * W
            a = SIGMOID(W @ a)
            total, product = J @ total, product * spectral_norm(J)
            totals[l, s], products[l, s] = spectral_norm(total), product
    rows = table_rows(PRINTED, "Sigmoid layers with ‖W_l‖ = 2", 4)
    shown = (1, 10, 25, 50)
    for cells, l in zip(rows, shown, strict=True):
        assert cells[0] == str(l)
        assert printed_as(cells[1], np.median(totals[l - 1]))
        assert printed_as(cells[2], np.median(products[l - 1]))
        assert printed_as(cells[3], (sup_sigma_prime * 2.0) ** l)   # the bound c^l
    factor = max(max(np.max(v) / np.median(v), np.median(v) / np.min(v))
                 for l in shown for v in (totals[l - 1], products[l - 1]))
    caption = line_with(PRINTED, "Sigmoid layers with ‖W_l‖ = 2")
    assert printed_as(caption.split("within a factor ")[1].split()[0], factor)
    assert np.all(totals <= products * (1 + 1e-9))
    assert np.all(products <= (sup_sigma_prime * 2.0) ** np.arange(1, depth + 1)[:, None]
                  * (1 + 1e-12))
    # prose: at 50 layers, about 25 times below 2^-50, then 1e13 to 1e14 further down
    assert 20 < 2.0 ** -50 / np.median(products[-1]) < 30
    assert 1e13 < np.median(products[-1]) / np.median(totals[-1]) < 1e14


def test_lyapunov_exponent_and_d2l_explosion():
    # the constant: psi(2) = 1 - gamma, from the derivative of log Gamma
    h = 1e-5
    digamma_2 = (math.lgamma(2 + h) - math.lgamma(2 - h)) / (2 * h)
    predicted = 0.5 * (math.log(2) + digamma_2)
    factor_ss, start_ss, d2l_ss = np.random.SeedSequence(1).spawn(3)
    factors = np.random.default_rng(factor_ss).normal(size=(100, 400, 4, 4))
    v0 = np.random.default_rng(start_ss).normal(size=(400, 4))
    v0 /= np.linalg.norm(v0, axis=1, keepdims=True)
    products = np.broadcast_to(np.eye(4), (400, 4, 4))
    for M in factors:                       # the matrices M_t ... M_1 themselves: no
        products = M @ products             # renormalising, 1e24 fits in float64
    logs = np.log(np.linalg.norm(np.einsum("cij,cj->ci", products, v0), axis=1))
    line = numbers_in(line_with(PRINTED, "growth per factor"))
    assert printed_as(line[0], np.mean(logs) / 100) and printed_as(line[1], predicted)
    assert np.mean(logs) / 100 == pytest.approx(predicted, abs=0.01)
    line = numbers_in(line_with(PRINTED, "100 factors: |M v|"))
    assert printed_as(line[2], np.mean(logs) / math.log(10))
    assert printed_as(line[4], 100 * predicted / math.log(10))
    draws = np.random.default_rng(d2l_ss).normal(size=(101, SEEDS, 4, 4))
    largest = []
    for s in range(SEEDS):
        product = np.eye(4)
        for M in draws[:, s]:
            product = product @ M
        largest.append(np.abs(product).max())
    lines = PRINTED.splitlines()
    text = lines[lines.index(line_with(PRINTED, "d2l.ai's example")) + 1].split(", median")[0]
    assert agrees_over_seeds(text, largest)
    assert all(1e23 <= x < 1e27 for x in largest)       # prose: between 1e23 and 1e26


# --- gradients through networks -------------------------------------------------------------

def input_gradient_norms(g, scheme, gain):
    """||dL/dx|| / ||dL/da_50|| per network, by forward accumulation of the full input-output
    Jacobian (the page back-propagates)."""
    from snippets.bp.mlp import build_mlp

    weight_ss, input_ss, grad_ss = np.random.SeedSequence(3).spawn(3)
    nets = [build_mlp(np.random.default_rng(s), [64] * 51, g, init=scheme, gain=gain, out_g=g)
            for s in weight_ss.spawn(SEEDS)]
    x = np.random.default_rng(input_ss).normal(size=(SEEDS, 16, 64))
    grad_out = np.random.default_rng(grad_ss).normal(size=x.shape)
    ratios = []
    for s, net in enumerate(nets):
        total = np.broadcast_to(np.eye(64), (16, 64, 64))
        a = x[s]
        for layer in net.layers:
            z = a @ layer.W.T
            total = (g.df(z)[:, :, None] * layer.W) @ total    # J_l J_{l-1} ... J_1
            a = g(z)
        grad_x = np.einsum("bi,bij->bj", grad_out[s], total)   # dL/da_50 times the Jacobian
        ratios.append(np.linalg.norm(grad_x) / np.linalg.norm(grad_out[s]))
    return np.array(ratios)


CONFIGS = {"linear, gain 0.9": (IDENTITY, "gaussian", 0.9),
           "linear, gain 1.0": (IDENTITY, "gaussian", 1.0),
           "linear, gain 1.1": (IDENTITY, "gaussian", 1.1),
           "sigmoid, N(0, 1/n)": (SIGMOID, "gaussian", 1.0),
           "tanh, Glorot": (TANH, "glorot", 1.0),
           "ReLU, He": (RELU, "he", 1.0)}


def test_norms_table_by_forward_accumulation():
    rows = table_rows(PRINTED, "‖∂L/∂x‖ / ‖∂L/∂a_50‖ for 50 layers", 6)
    for (name, median, span), (expected_name, config) in zip(rows, CONFIGS.items(),
                                                            strict=True):
        assert name == expected_name
        ratios = input_gradient_norms(*config)
        assert agrees_over_seeds(f"{median} ({span})", ratios), (name, median, span, ratios)
        if name.startswith("linear"):
            gain = config[2]
            assert gain ** 50 / 2 < np.median(ratios) < gain ** 50 * 2     # about gain^50
    assert np.all(page.profiles["sigmoid, N(0, 1/n)"][:, 0] < 1e-30)     # "more than 30"
    for name in ("tanh, Glorot", "ReLU, He"):
        assert np.all(page.profiles[name][:, 0] > 1e-2)                  # "one order or less"


def test_spectrum_table_by_explicit_products():
    n, depth = 16, 50
    factors = np.random.default_rng(4).normal(size=(depth, SEEDS, n, n)) / np.sqrt(n)
    found = {key: [] for key in ("radii", "rho", "smax", "rep_rho", "rep_smax", "lost",
                                 "rep_lost")}
    for s in range(SEEDS):
        W = factors[0, s]
        rho_W = np.abs(np.linalg.eigvals(W)).max()
        product = np.eye(n)
        for M in factors[:, s]:
            product = M @ product                                    # W_50 ... W_1
        power = np.linalg.matrix_power(W, depth)
        found["radii"].append(np.prod([np.abs(np.linalg.eigvals(M)).max()
                                       for M in factors[:, s]]))
        found["rho"].append(np.abs(np.linalg.eigvals(product)).max())
        found["smax"].append(spectral_norm(product))
        found["rep_rho"].append(rho_W ** depth)
        found["rep_smax"].append(spectral_norm(power))
        assert found["rep_smax"][-1] >= found["rep_rho"][-1] * (1 - 1e-9)   # ||W^t|| >= rho^t
        for key, sequence in (("lost", factors[:, s]), ("rep_lost", [W] * depth)):
            P = np.eye(n)
            for t, M in enumerate(sequence, start=1):
                P = M @ P
                sv = np.linalg.svd(P, compute_uv=False)
                if sv[-1] <= 1e-13 * sv[0]:
                    found[key].append(t)
                    break
    assert np.abs(np.log(found["rep_rho"]) - np.log(page.curves["rep_rho"][-1])).max() < 1e-6
    rows = table_rows(PRINTED, "16 × 16 Gaussian factors", 4)
    expected = [("∏ ρ(W_i)", "rep_rho", "radii"), ("ρ(product)", "rep_rho", "rho"),
                ("σ_max(product)", "rep_smax", "smax"),
                ("σ_min lost after", "rep_lost", "lost")]
    for cells, (label, rep, diff) in zip(rows, expected, strict=True):
        assert cells[0] == label
        assert printed_as(cells[1], np.median(found[rep]))
        assert printed_as(cells[2], np.median(found[diff]))
    assert max(found["lost"]) < 20                         # prose: "within 20 factors"
    different = [np.array(found[key]) for key in ("radii", "rho", "smax")]
    assert all(max(v.max() / np.median(v), np.median(v) / v.min()) < 4 for v in different)
    # prose: about 20, about 0.2, about 1; the draws of rho(W)^50 span seven orders
    assert 10 < np.median(found["radii"]) < 40 and 0.1 < np.median(found["rho"]) < 0.4
    assert 0.5 < np.median(found["smax"]) < 2
    assert 1e7 < max(found["rep_rho"]) / min(found["rep_rho"]) < 1e8


# --- exercises ------------------------------------------------------------------------------

def test_exercise_jordan3_grows_like_t_squared():
    for t in (10, 100, 1000):
        closed = np.array([[1, t, t * (t - 1) / 2], [0, 1, t], [0, 0, 1]], dtype=float)
        line = numbers_in(line_with(EXERCISES, f"t = {t:4d}"))
        assert printed_as(line[2], spectral_norm(closed))
        assert printed_as(line[5], spectral_norm(closed) / (t * t / 2))


def test_exercise_shapes_and_rank():
    weight_ss, input_ss = np.random.SeedSequence(20).spawn(2)
    rng = np.random.default_rng(weight_ss)
    widths = [784, 256, 64, 10]
    Ws = [glorot_weights(rng, widths[l], widths[l - 1]) for l in range(1, 4)]
    x = np.random.default_rng(input_ss).normal(size=(1, 784))[0]

    def network(v):
        for W in Ws:
            v = np.tanh(W @ v)
        return v

    numeric = numerical_jacobian(network, x)
    assert numeric.shape == (10, 784)
    assert_close(exercises.product, numeric, atol=1e-8, what="d a_3 / d a_0")
    assert "[(256, 784), (64, 256), (10, 64)]  product: (10, 784)" in EXERCISES
    s = singular_values(numeric)
    line = numbers_in(line_with(EXERCISES, "10 singular values"))
    assert line[:2] == ["10", str(np.linalg.matrix_rank(numeric))] == ["10", "10"]
    assert printed_as(line[2], s[-1]) and printed_as(line[3], s[0])


def test_exercise_tanh_bound():
    c = 2 ** -0.1
    weight_ss, input_ss = np.random.SeedSequence(21).spawn(2)
    G = np.random.default_rng(weight_ss).normal(size=(30, 32, 32))
    a = np.random.default_rng(input_ss).normal(size=32)
    total = np.eye(32)
    for l, M in enumerate(G):
        W = M * (c / spectral_norm(M))
        J = layer_jacobian(TANH, W, a) if l < 3 else TANH.df(W @ a)[:, None] * W
        total, a = J @ total, np.tanh(W @ a)
    line = numbers_in(line_with(EXERCISES, "c = "))
    assert printed_as(line[0], c) and printed_as(line[3], c ** 30)
    assert printed_as(line[-1], spectral_norm(total))
    assert spectral_norm(total) <= c ** 30


def test_exercise_non_normal_threshold():
    threshold = math.sqrt(1 + 0.72 ** 2 - 0.81 - 0.64)       # ||M||_2 = 1 there
    M = np.array([[0.9, threshold], [0, 0.8]])
    assert spectral_norm(M) == pytest.approx(1.0)
    first = numbers_in(line_with(EXERCISES, "on a grid of step 0.001"))[-1]
    assert first == f"{math.ceil(threshold * 1000) / 1000:.3f}"     # first grid point above
    assert printed_as(numbers_in(line_with(EXERCISES, "where ‖M‖ = 1"))[-1], threshold)


def test_every_printed_range_is_in_order():
    """Each 'median (lowest–highest)' the page prints has its median between its ends."""
    from tests.page_output import run_page, spreads_in_order

    assert spreads_in_order(run_page("snippets.products_of_jacobians.products")[1])


def test_a_zero_product_of_weights_with_a_gradient_that_keeps_its_size():
    """Note 002's "vanishing, i.e. ∏ W → 0": the alternating network's weights multiply to
    exactly zero at every printed depth, while its gradients, by central differences of a
    forward pass written here (float64, h = 1e-6, atol 1e-8) and by the library's backward
    pass, keep their size: ∂L/∂x = (1, 0) for every input."""
    def forward(x, Ws):
        a = x
        for W in Ws:
            a = np.maximum(W @ a + np.array([0.0, -10.0]), 0.0)
        return a.sum()

    S, C = np.array([[1.0, -1.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 0.0]])
    assert np.all(S @ C == 0)
    rows = table_rows(PRINTED, "A ReLU network whose product of weights", 3)
    for cells, D in zip(rows, (2, 10, 50), strict=True):
        Ws = [C if l % 2 == 0 else S for l in range(D)]
        assert cells[0] == str(D)
        assert np.all(np.linalg.multi_dot(Ws[::-1]) == 0) and cells[1] == "0"
        net = page.copy_subtract(D)
        assert len(net.layers) == D and all(                 # W_1 = C, W_2 = S, W_3 = C, ...
            np.array_equal(layer.W, W) for layer, W in zip(net.layers, Ws, strict=True))
        fwd = net.forward(page.inputs)
        grads = net.backward(fwd, np.ones_like(fwd.a[-1]))
        assert grads.a[0].shape == page.inputs.shape == (page.SEEDS, 2)
        for x, mine in zip(page.inputs, grads.a[0], strict=True):
            fd = numerical_gradient(lambda v, Ws=Ws: forward(v, Ws), x)
            assert_close(mine, fd, atol=1e-8, what=f"∂L/∂x, depth {D}")
            assert_close(fd, [1.0, 0.0], atol=1e-8, what="unit 1 carries the gradient")
        assert cells[2] == "(1, 0)"
        W1_fd = sum(numerical_gradient(lambda M, x=x, Ws=Ws: forward(x, [M, *Ws[1:]]), C)
                    for x in page.inputs)
        assert grads.W[1].shape == W1_fd.shape == (2, 2)
        assert_close(grads.W[1], W1_fd, atol=1e-7, what=f"∂L/∂W_1, depth {D}")
        assert printed_as(cells[3], np.linalg.norm(W1_fd))


def test_one_eigenvalue_below_1_does_not_make_the_product_vanish():
    """Note 000's per-eigenvalue condition, against the table: W = V diag(1, 0.5) V⁻¹, its
    powers written here from the eigendecomposition, tend to V diag(1, 0) V⁻¹ ≠ 0."""
    from tests.page_output import printed_as, run_page, table_rows

    run, printed = run_page("snippets.products_of_jacobians.products")
    V = run.V
    assert np.allclose(np.sort(np.linalg.eigvals(run.W_keep).real), [0.5, 1.0], atol=1e-12)
    limit = V @ np.diag([1.0, 0.0]) @ np.linalg.inv(V)
    limit_norm = np.linalg.norm(limit, 2)
    caption = ("Eigenvalues 1 and 0.5: W^t tends to V diag(1, 0) V⁻¹, of norm "
               f"{limit_norm:.3g}")
    rows = table_rows(printed, caption, 3)
    assert [row[0] for row in rows] == ["1", "10", "50"]
    for t, norm, half in rows:
        power = V @ np.diag([1.0, 0.5 ** int(t)]) @ np.linalg.inv(V)
        assert printed_as(norm, np.linalg.norm(power, 2))
        assert printed_as(half.replace("−", "-"), 0.5 ** int(t))
    assert limit_norm > 1                 # far from vanishing: W^50 is its limit, printed
    assert printed_as(rows[-1][1], limit_norm)


def test_the_prose_numbers_of_the_power_sections():
    """The ratio the text says the power table settles at, cond(V), and the norm of the
    limit of the eigenvalues-1-and-0.5 powers: the numbers written in the page's prose."""
    import re
    from pathlib import Path

    from tests.page_output import printed_as, run_page

    run, _ = run_page("snippets.products_of_jacobians.products")
    text = (Path(__file__).parents[1] / "docs" / "products-of-jacobians.md").read_text()
    settles = re.search(r"The ratio settles at ([\d.]+), below "
                        r"\\\(\\operatorname\{cond\}\(V\) = ([\d.]+)\\\)", text)
    assert printed_as(settles[1], run.power_rows[-1][3])
    assert printed_as(settles[2], np.linalg.cond(run.V))
    limit = re.search(r"whose norm is the ([\d.]+) at which\s+the ratio above settled", text)
    assert printed_as(limit[1], np.linalg.norm(run.keep_limit, 2))
