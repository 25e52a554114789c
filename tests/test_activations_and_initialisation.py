"""docs/activations-and-initialisation.md: every number the page prints, recomputed by
independent code (plain NumPy networks, closed forms, the derivation's one-layer identity by
Monte Carlo) and compared at the precision it is printed with; every derivative against
central differences (float64, h = 1e-6, atol 1e-8), shapes asserted."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, numerical_jacobian
from snippets.figures import sig
from tests.page_output import (
    agrees_over_seeds,
    drawn,
    line_with,
    numbers_in,
    printed_as,
    run_page,
    table_rows,
)

page, PRINTED = run_page("snippets.activations_and_initialisation.activations")
exercises, EXERCISES = run_page("snippets.activations_and_initialisation.exercises")
SEEDS = 5


# --- independent activations, weights and networks ------------------------------------------

def sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))          # another formula than the core's


OWN = {   # activation, derivative
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * sigmoid(-z)),
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
    "ReLU": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    "LeakyReLU": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1, 0.01)),
    "LeakyReLU 0.2": (lambda z: np.where(z > 0, z, 0.2 * z), lambda z: np.where(z > 0, 1, 0.2)),
}


def weights(rng, n_out, n_in, scheme, gain=1.0):
    """The draws of the classic schemes, as documented (same calls, same stream)."""
    if scheme == "gaussian":
        return rng.normal(0.0, gain / math.sqrt(n_in), size=(n_out, n_in))
    if scheme == "he":
        return rng.normal(0.0, gain * math.sqrt(2 / n_in), size=(n_out, n_in))
    limit = gain * (1 / math.sqrt(n_in) if scheme == "standard"
                    else math.sqrt(6 / (n_in + n_out)))
    return rng.uniform(-limit, limit, size=(n_out, n_in))


def networks(seed_seq, widths, scheme, gain=1.0):
    return [[weights(rng, widths[l], widths[l - 1], scheme, gain)
             for l in range(1, len(widths))]
            for rng in map(np.random.default_rng, seed_seq.spawn(SEEDS))]


def run(Ws, act, x, grad_out=None, bias=0.0, loss_target=None):
    """Forward and backward through one network: z_l, a_l, delta_l, grad_W_l (lists, l = 1..N
    at index l - 1). grad_out is dL/da_N, or the half squared error against loss_target,
    averaged over the batch."""
    g, dg = OWN[act]
    zs, acts, a = [], [x], x
    for W in Ws:
        z = a @ W.T + bias
        a = g(z)
        zs.append(z)
        acts.append(a)
    if loss_target is not None:
        grad_out = (a - loss_target) / x.shape[0]
    deltas, grad_W = [None] * len(Ws), [None] * len(Ws)
    grad = grad_out
    for l in range(len(Ws) - 1, -1, -1):
        deltas[l] = dg(zs[l]) * grad                       # delta_l = g'(z_l) * dL/da_l
        grad_W[l] = deltas[l].T @ acts[l]                  # sum over the batch of delta a^T
        grad = deltas[l] @ Ws[l]                           # rows: (W_l^T delta_l)^T
    return zs, deltas, grad_W


def factors(act, scheme, *, width=64, depth=20, batch=16, gain=1.0, bias=0.0, seed=0):
    """Measured and predicted Var(delta_l) / Var(delta_{l+1}) per network, by plain loops."""
    weight_ss, input_ss, grad_ss = np.random.SeedSequence(seed).spawn(3)
    nets = networks(weight_ss, [width] * (depth + 1), scheme, gain)
    x = np.random.default_rng(input_ss).normal(size=(SEEDS, batch, width))
    grad_out = np.random.default_rng(grad_ss).normal(size=x.shape)
    measured, predicted = [], []
    for s, Ws in enumerate(nets):
        zs, deltas, _ = run(Ws, act, x[s], grad_out[s], bias=bias)
        second = [np.mean(d ** 2) for d in deltas]
        measured.append((second[0] / second[-1]) ** (1 / (depth - 1)))
        dg = OWN[act][1]
        per_layer = [width * np.var(Ws[l + 1]) * np.mean(dg(zs[l]) ** 2)
                     for l in range(depth - 1)]
        predicted.append(math.exp(np.mean(np.log(per_layer))))
    return np.array(measured), np.array(predicted)


# --- derivatives ----------------------------------------------------------------------------

def test_derivatives_against_central_differences():
    from snippets.bp.activations import LEAKY_RELU, RELU, SIGMOID, TANH

    t = np.array([-3.0, -1.2, -0.3, 0.4, 1.1, 2.5])        # away from ReLU's kink
    for name, core in (("sigmoid", SIGMOID), ("tanh", TANH), ("ReLU", RELU),
                       ("LeakyReLU", LEAKY_RELU)):
        g, dg = OWN[name]
        numeric = numerical_jacobian(g, t)
        assert numeric.shape == (6, 6)
        assert_close(np.diag(dg(t)), numeric, atol=1e-8, what=f"{name}'")
        assert_close(core.df(t), dg(t), atol=1e-15, what=f"core {name}'")
    assert_close(OWN["LeakyReLU 0.2"][1](t), np.diag(numerical_jacobian(OWN["LeakyReLU 0.2"][0],
                                                                         t)),
                 atol=1e-8, what="LeakyReLU 0.2'")


def test_facts_table():
    rows = {r[0]: r[1:] for r in table_rows(PRINTED, "The derivatives of four activations", 4)}
    assert rows["sigmoid"][:2] == ["0.25", "0.25"]             # sigma'(0) = 1/4, the maximum
    assert rows["tanh"][:2] == ["1", "1"]
    assert rows["ReLU"] == ["0", "1", "0 or 1"]
    assert rows["LeakyReLU"] == ["0.01", "1", "0.01 or 1"]
    low, _, high = rows["sigmoid"][2].partition(" to ")
    assert printed_as(low, math.exp(-10) / (1 + math.exp(-10)) ** 2) and high == "0.25"
    low, _, high = rows["tanh"][2].partition(" to ")
    assert printed_as(low, 1 / math.cosh(10) ** 2) and high == "1"
    gap = numbers_in(line_with(PRINTED, "max |tanh'(x) - 4 σ'(2x)|"))[-1]
    assert float(gap) < 1e-15
    # the largest gap over the page's grid (its activations are checked above), and not 0:
    # the identity is exact, its two sides in floating point are not
    assert list(page.x[[0, -1]]) == [-10, 10]
    assert printed_as(gap, np.max(np.abs(page.TANH.df(page.x)
                                         - 4 * page.SIGMOID.df(2 * page.x))))
    assert float(gap) > 0
    x = np.linspace(-10, 10, 2001)
    assert_close(np.tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-15, what="tanh = 2 sigma(2x) - 1")


# --- the derivation -------------------------------------------------------------------------

@pytest.mark.parametrize("act, var_w", [("ReLU", 2.0), ("tanh", 1.0), ("sigmoid", 4.0)])
def test_one_layer_identity_where_the_assumptions_hold_exactly(act, var_w):
    """Equation (variance factor) with every assumption true by construction: fresh
    independent weights, signals and pre-activations for every sample."""
    rng = np.random.default_rng(42)
    n_next, samples = 64, 4000
    W = rng.normal(0, math.sqrt(var_w / n_next), size=(samples, n_next))   # column j of W
    delta_next = rng.normal(0, 1.5, size=(samples, n_next))
    z = rng.normal(0, 1.0, size=samples)
    dg = OWN[act][1]
    delta = dg(z) * np.sum(W * delta_next, axis=1)
    predicted = n_next * (var_w / n_next) * np.mean(dg(z) ** 2) * 1.5 ** 2
    # the sample variance of 4000 draws is within 10% of its expectation here
    assert np.mean(delta ** 2) == pytest.approx(predicted, rel=0.1)
    if act == "ReLU":
        assert np.mean(dg(z) ** 2) == pytest.approx(0.5, abs=0.03)   # symmetric z


def test_sweep_table_and_prediction():
    inits = {"N(0, 1/n)": "gaussian", "Glorot": "glorot", "He": "he"}
    rows = table_rows(PRINTED, "Var(δ_l) / Var(δ_(l+1)), measured", 4)
    gap = 0.0
    for cells, act in zip(rows, ("sigmoid", "tanh", "ReLU", "LeakyReLU"), strict=True):
        assert cells[0] == act
        for text, (name, scheme) in zip(cells[1:], inits.items(), strict=True):
            measured, predicted = factors(act, scheme)
            assert printed_as(text, np.median(measured)), (act, name)
            assert_close(page.sweep[act, name][0], measured, atol=1e-9, what="sweep")
            assert_close(page.sweep[act, name][1], predicted, atol=1e-9, what="predicted")
            gap = max(gap, np.max(np.abs(measured / predicted - 1)))
    assert gap < 0.1                                     # "within a few percent"
    assert f"to within {gap:.0%}." in PRINTED            # the figure's caption
    # the note-002 box: ReLU halves per layer under 1/n and Glorot, holds under He;
    # tanh loses less than 20% per layer under 1/n and Glorot, grows under He
    for name in ("N(0, 1/n)", "Glorot"):
        assert np.all(np.abs(page.sweep["ReLU", name][0] - 0.5) < 0.06)   # "about 2"
        assert np.all((page.sweep["tanh", name][0] > 0.8) & (page.sweep["tanh", name][0] < 1))
    assert np.all(np.abs(page.sweep["ReLU", "He"][0] - 1) < 0.11)   # "about level"
    assert np.all(page.sweep["tanh", "He"][0] > 1)
    assert all(np.all(page.sweep["sigmoid", name][0] < 0.2) for name in inits)


def test_failures_table():
    rows = table_rows(PRINTED, "Var(δ_l) / Var(δ_(l+1)) over 20 layers", 4)
    cases = [("ReLU, He", "ReLU", "he", 64, 1.0, 0.0, 64 * (2 / 64) * 0.5),
             ("+ biases 0.5", "ReLU", "he", 64, 1.0, 0.5, 64 * (2 / 64) * 0.5),
             ("+ width 8", "ReLU", "he", 8, 1.0, 0.0, 8 * (2 / 8) * 0.5),
             ("tanh, 4/n", "tanh", "gaussian", 64, 2.0, 0.0, 64 * (4 / 64) * 1.0)]
    found = {}
    for cells, (label, act, scheme, width, gain, bias, nominal) in zip(rows, cases,
                                                                       strict=True):
        measured, predicted = factors(act, scheme, width=width, gain=gain, bias=bias)
        assert cells[0] == label and cells[1] == f"{nominal:g}"
        assert printed_as(cells[2], np.median(predicted))
        assert agrees_over_seeds(cells[3], measured)
        found[label] = measured, np.abs(measured / predicted - 1)
    # prose: the equation with measured E[g'^2] within 5% except at width 8 (7% to 38%),
    # where every network is below the nominal 1; biases compound to about 10 over 19 layers
    for label in ("ReLU, He", "+ biases 0.5", "tanh, 4/n"):
        assert found[label][1].max() < 0.05
    measured, miss = found["+ width 8"]
    assert np.all(measured < 1)
    assert f"{miss.min():.0%}" == "7%" and f"{miss.max():.0%}" == "38%"
    assert 7 < np.median(found["+ biases 0.5"][0]) ** 19 < 14


def glorot_stats(scheme, depth=8, width=128, batch=16, seed=1):
    weight_ss, input_ss, target_ss = np.random.SeedSequence(seed).spawn(3)
    nets = networks(weight_ss, [width] * (depth + 1), scheme)
    x = np.random.default_rng(input_ss).normal(size=(SEEDS, batch, width))
    y = np.random.default_rng(target_ss).normal(size=x.shape)
    stats = {}
    for std in (1.0, 0.1):
        factor, predicted, spread = [], [], []
        for s, Ws in enumerate(nets):
            zs, deltas, grad_W = run(Ws, "tanh", std * x[s], loss_target=y[s])
            back = [np.var(d) for d in deltas]
            factor.append((back[0] / back[-1]) ** (1 / (depth - 1)))
            predicted.append(math.exp(np.mean(np.log(
                [width * np.var(Ws[l + 1]) * np.mean((1 / np.cosh(zs[l]) ** 2) ** 2)
                 for l in range(depth - 1)]))))
            var_W = [np.var(G) for G in grad_W]
            spread.append(max(var_W) / min(var_W))
        stats[std] = np.array(factor), np.array(predicted), np.array(spread)
    return stats


def test_the_glorot_panels_draw_each_variance_relative_to_layer_8():
    """As their axis labels say: every curve is the median over the networks of a layer's
    variance divided by the same network's layer-8 variance, so it is 1 at layer 8."""
    for fig, key in ((page.fig_back, "back"), (page.fig_weights, "weights")):
        ax = fig.axes[0]
        assert ax.get_ylabel().endswith("relative to layer 8")
        drawn_lines = {line.get_label(): line.get_xydata() for line in ax.lines}
        assert len(drawn_lines) == 4
        for init in ("standard", "normalized"):
            for std in (1.0, 0.1):
                xy = drawn_lines[f"{init}, input std {std:g}"]
                v = page.gb[init][std][key]                      # (8 layers, networks)
                assert v.shape[0] == 8 and list(xy[:, 0]) == list(range(1, 9))
                assert xy[-1, 1] == pytest.approx(1.0)
                expected = [np.median(v[l] / v[7]) for l in range(8)]
                assert_close(xy[:, 1], expected, atol=1e-12, what=f"{key} {init} {std}")


def test_glorot_bengio_table():
    rows = table_rows(PRINTED, "Tanh, 8 layers of width 128", 4)
    expected = [(init, std) for init in ("standard", "normalized") for std in (1.0, 0.1)]
    stats = {"standard": glorot_stats("standard"), "normalized": glorot_stats("glorot")}
    for cells, (init, std) in zip(rows, expected, strict=True):
        factor, predicted, spread = stats[init][std]
        assert cells[:2] == [init, f"{std:g}"]
        assert printed_as(cells[2], np.median(factor))
        assert printed_as(cells[3], np.median(predicted))
        assert np.all(spread < 2)                          # prose: less than a factor of 2
        assert np.all(np.abs(factor / predicted - 1) < 0.05)
    # the paper's analysis: 1/3 per layer (standard), 1 (normalized), for small inputs
    assert np.median(stats["standard"][0.1][0]) == pytest.approx(1 / 3, rel=0.05)
    assert np.median(stats["normalized"][0.1][0]) == pytest.approx(1.0, abs=0.05)
    assert 0.65 < np.median(stats["normalized"][1.0][0]) < 0.75         # "about 0.7"
    paper = {r[0]: r[1:] for r in table_rows(PRINTED, "Glorot & Bengio (2010) beside", 6)}
    for init in ("standard", "normalized"):
        small, unit = numbers_in(paper[f"factor, {init}"][1])
        assert printed_as(small, np.median(stats[init][0.1][0]))
        assert printed_as(unit, np.median(stats[init][1.0][0]))
    largest = max(stats[i][s][2].max() for i in stats for s in (1.0, 0.1))
    assert printed_as(numbers_in(paper["Var ∇W, max / min"][1])[0], largest)


# --- exercises ------------------------------------------------------------------------------

def totals(act, widths, scheme="he", gain=1.0, batch=64, seed=0):
    weight_ss, input_ss, grad_ss = np.random.SeedSequence(seed).spawn(3)
    nets = networks(weight_ss, widths, scheme, gain)
    x = np.random.default_rng(input_ss).normal(size=(SEEDS, batch, widths[0]))
    grad_out = np.random.default_rng(grad_ss).normal(size=(SEEDS, batch, widths[-1]))
    return np.array([[np.mean(d ** 2) for d in run(Ws, act, x[s], grad_out[s])[1]]
                     for s, Ws in enumerate(nets)])          # (network, layer)


def test_exercise_relu_lecun():
    var = totals("ReLU", [64] * 21, "gaussian")
    ratio = var[:, 0] / var[:, -1]
    line = numbers_in(line_with(EXERCISES, "predicted 2^-19"))
    assert printed_as(line[2], 2.0 ** -19) and printed_as(line[-1], np.median(ratio))
    line = numbers_in(line_with(EXERCISES, "(smallest to largest over 5"))
    assert printed_as(line[-2], ratio.min()) and printed_as(line[-1], ratio.max())
    assert np.all((ratio < 5 * 2.0 ** -19) & (ratio > 2.0 ** -19 / 5))   # "within a factor 5"


def test_exercise_fan_out():
    for name, gain, expected in (("fan-in, 2/128", 1.0, 0.25), ("fan-out, 2/32", 2.0, 1.0)):
        var = totals("ReLU", [128, 128, 32], gain=gain)
        ratio = var[:, 0] / var[:, 1]
        line = numbers_in(line_with(EXERCISES, f"Var(W_2) = {name}"))
        assert printed_as(line[-2], np.median(ratio))          # the last number is "5"
        assert np.median(ratio) == pytest.approx(expected, rel=0.1)   # 32 Var(W_2) / 2


def test_exercise_leaky():
    var = totals("LeakyReLU 0.2", [64] * 21)
    ratio = var[:, 0] / var[:, -1]
    line = numbers_in(line_with(EXERCISES, "predicted (1 + 0.2²)^19"))
    assert printed_as(line[3], 1.04 ** 19)
    assert printed_as(line[4], np.median(ratio))
    assert printed_as(line[5], ratio.min()) and printed_as(line[6], ratio.max())
    assert np.median(ratio) == pytest.approx(1.04 ** 19, rel=0.1)
    assert 2 < np.median(ratio) / ratio.min() < 4 and 2 < ratio.max() / np.median(ratio) < 4


def test_the_sweep_figure_draws_the_sweep():
    """Each initialisation's dots are the medians of the measured factors, its bars their
    range over the networks, its dashes the prediction: read from what was drawn."""
    figures = drawn("snippets.activations_and_initialisation.activations")
    panel, = [axes for alt, axes in figures.items()
              if alt.startswith("Dot plot of the per-layer factor")]
    ax, = panel
    for k, init in enumerate(page.INITS):
        measured = np.array([page.sweep[a, init][0] for a in page.ACTS])
        predicted = np.array([np.median(page.sweep[a, init][1]) for a in page.ACTS])
        dots, dashes = ax.lines[2 * k][1], ax.lines[2 * k + 1][1]
        assert_close(dots[:, 1], np.median(measured, axis=1), atol=0, rtol=1e-12,
                     what=f"dots, {init}")
        assert_close(dashes[:, 1], predicted, atol=0, rtol=1e-12, what=f"dashes, {init}")
        bars = np.array([(seg[:, 1].min(), seg[:, 1].max()) for seg in ax.collections[k]])
        assert_close(bars, np.stack([measured.min(axis=1), measured.max(axis=1)], axis=1),
                     atol=0, rtol=1e-12, what=f"bars, {init}")


def test_ranges_are_printed_with_the_digits_their_spread_allows():
    """'median (smallest–largest)' with the last digit at the scale of the range: a range of
    about 0.1 gets one decimal, of about 30 none, of 0.0004 at most three; values outside
    0.01 to 100 (or all equal) in two significant digits."""
    fmt = page.median_range
    assert fmt([0.5, 0.52, 0.6]) == "0.5 (0.5–0.6)"
    assert fmt([20.0, 35.0, 50.0]) == "35 (20–50)"
    assert fmt([0.1, 0.1002, 0.1004]) == "0.100 (0.100–0.100)"
    assert fmt([0.05, 0.052, 0.0526]) == "0.052 (0.050–0.053)"
    assert fmt([1e-4, 2e-4, 3e-4]) == f"{sig(2e-4)} ({sig(1e-4)}–{sig(3e-4)})"
