"""docs/residual-ensembles.md: path counts, the branch Jacobians against central differences,
path sampling against explicit matrix products, the tilted binomial, the lesion test's network
surgery, and every claim the page makes, over seeds."""

from __future__ import annotations

import itertools
import re
from math import comb
from pathlib import Path

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, numerical_jacobian
from snippets.bp.mlp import MLP, build_residual_mlp
from snippets.residual_ensembles import ensembles as page
from snippets.residual_ensembles import exercises

HE, SCALED = page.paths["He-initialised"], page.paths["scaled by 0.25"]


def test_similar_outputs_give_twice_the_identity_and_a_small_branch_gives_the_identity():
    """Note 000's step: each Jacobian against central differences, every number of the table
    recomputed, and the prose's bounds over every draw."""
    width = 8
    rngs = page.rngs("similar")                            # the page's draws, afresh
    layer, branch = page.cases["near-copy layer"], page.cases["small branch"]
    for rng, (out_in, block), (out_in_f, block_f) in zip(rngs, layer, branch, strict=True):
        a = 0.1 * rng.normal(size=width)
        W = np.eye(width) + 0.01 * rng.normal(size=(width, width))
        J = numerical_jacobian(lambda v, W=W: np.tanh(W @ v), a)
        assert J.shape == (width, width)
        assert_close(block, J + np.eye(width), atol=1e-8, what="J_N + I")
        assert out_in == pytest.approx(np.linalg.norm(np.tanh(W @ a) - a) / np.linalg.norm(a))
        V = rng.normal(size=(width, width)) / np.sqrt(width)
        x = rng.normal(size=width)
        J_f = numerical_jacobian(lambda v, V=V: 0.01 * np.tanh(V @ v), x)
        assert_close(block_f, np.eye(width) + J_f, atol=1e-8, what="I + J_f")
        assert out_in_f == pytest.approx(np.linalg.norm(0.01 * np.tanh(V @ x) - x)
                                         / np.linalg.norm(x))
        size = np.sqrt(width)                               # Frobenius norm of I
        assert out_in < 0.1                                 # "a few percent"
        assert np.linalg.norm(block - 2 * np.eye(width)) / (2 * size) < 0.03   # "about 2%"
        assert np.linalg.norm(block - np.eye(width)) / size > 0.9
        assert np.linalg.norm(block_f - np.eye(width)) / size < 0.01
        assert out_in_f > 0.9                               # "nothing like its input"


def test_counts_match_the_paper():
    assert page.share.sum() == pytest.approx(1.0)
    assert page.share[19:36].sum() > 0.95                    # "more than 95%"
    assert page.share[5:18].sum() == pytest.approx(0.0045, abs=0.0001)   # "0.45%"


def test_the_jacobian_is_the_sum_over_all_paths():
    """prod (I + J_i) = sum over subsets S of prod_{i in S} J_i, for 4 blocks."""
    rng = np.random.default_rng(0)
    J = [rng.normal(size=(3, 3)) for _ in range(4)]
    product = np.eye(3)
    for J_i in J:
        product = (np.eye(3) + J_i) @ product
    paths = np.zeros((3, 3))
    per_length = [0] * 5
    for S in itertools.product([0, 1], repeat=4):
        term = np.eye(3)
        for J_i, on in zip(J, S, strict=True):
            term = (J_i if on else np.eye(3)) @ term
        paths += term
        per_length[sum(S)] += 1
    assert_close(product, paths, atol=1e-12, what="path expansion")
    # the terms of each length are as many as the page counts: comb(n, k)
    assert per_length == [comb(4, k) for k in range(5)]


def test_branch_jacobians_against_central_differences():
    """J_i = W_b diag(g'(z)) W_a for a stack of 2 networks of 3 blocks, nonzero
    biases, float64: against the numerical Jacobian of each branch, atol 1e-7."""
    rng = np.random.default_rng(4)
    nets = [build_residual_mlp(rng, 4, 3) for _ in range(2)]
    net = MLP.stack(nets)
    for l in range(1, 7):
        net = net.with_param(f"b{l}", rng.normal(scale=0.3, size=(2, 4)))
    x = rng.normal(size=(2, 1, 4))
    J = page.branch_jacobians(net, x)
    assert J.shape == (2, 3, 4, 4)
    fwd = net.forward(x)
    for s in range(2):
        for i in range(3):
            a_layer, b_layer = net.layers[2 * i], net.layers[2 * i + 1]

            def branch(u, s=s, a_layer=a_layer, b_layer=b_layer):
                h = np.maximum(a_layer.W[s] @ u + a_layer.b[s], 0)
                return b_layer.W[s] @ h + b_layer.b[s]

            numeric = numerical_jacobian(branch, fwd.a[2 * i][s, 0])
            assert_close(J[s, i], numeric, atol=1e-7, what=f"branch {i}, network {s}")


def test_path_norms_against_explicit_products():
    """Each sampled path as the matrix product of its branch Jacobians, built
    first and applied to g after (numerator layout: g^T J_last ... J_first)."""
    rng = np.random.default_rng(5)
    S, n, w, samples = 2, 4, 3, 6
    J = rng.normal(size=(S, n, w, w))
    g = rng.normal(size=(S, w))
    rank = np.stack([np.stack([rng.permutation(n) for _ in range(samples)])
                     for _ in range(S)])
    got = page.path_norms(J, g, rank)
    assert got.shape == (S, n + 1)
    for s in range(S):
        for k in range(n + 1):
            norms = []
            for j in range(samples):
                product = np.eye(w)
                for i in range(n):
                    if rank[s, j, i] < k:
                        product = J[s, i] @ product
                norms.append(np.linalg.norm(g[s] @ product))
            assert got[s, k] == pytest.approx(np.mean(norms), rel=1e-12)
    assert_close(got[:, 0], np.linalg.norm(g, axis=1), atol=1e-12, what="k = 0")


def test_the_gradient_by_length_is_a_tilted_binomial():
    """Equation (eq-tilt): counts * c^k, normalised, is Binomial(n, c / (1 + c))."""
    n = page.n
    for c in (0.26, 1.0, 1.33, 10.0):
        p = c / (1 + c)
        binomial = [comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
        assert_close(page.gradient_by_length(c ** np.arange(n + 1)), np.array(binomial),
                     atol=1e-12, what=f"c = {c}")


def test_where_the_gradient_comes_from():
    n = page.n
    for magnitude in (HE, SCALED):
        c = page.gain_per_block(magnitude)
        total = page.gradient_by_length(magnitude)
        # "the mean length within a block of n c / (1 + c) in every seed"
        mean = total @ np.arange(n + 1)
        assert (np.abs(mean - n * c / (1 + c)) < 1).all()
        assert (np.abs(total.argmax(-1) - n * c / (1 + c)) < 2.5).all()
    c_he, c_scaled = page.gain_per_block(HE), page.gain_per_block(SCALED)
    # He branches amplify: at most the root-mean-square gain sqrt(2) of two He
    # layers (a mean of norms is at most their root mean square), above 1
    assert (c_he > 1.2).all() and (c_he < 1.5).all()
    # scaling W_b by 0.25 scales each branch Jacobian by 0.25 (up to ReLU masks)
    assert_close(c_scaled / c_he, np.full(page.SEEDS, 0.25), atol=0.03, what="c ratio")
    # the prose quotes the medians
    assert f"{np.median(c_he):.2f}" == "1.33" and f"{np.median(c_scaled):.2f}" == "0.34"
    he = page.gradient_by_length(HE)
    peaks = he.argmax(-1)
    assert (peaks > n / 2).all() and peaks.min() == 30 and peaks.max() == 33
    assert (he[:, 46:].sum(-1) < 1e-3).all()                 # "next to nothing beyond 45"
    assert (he[:, n] < 1e-12).all() and (he[:, n] > 1e-15).all()   # "about 1e-13"
    # the window that carries 90% of the He gradient sits around its mean, and the
    # table's share of paths is the binomial share of those lengths
    lo, hi = np.median([page.effective_lengths(t) for t in he], axis=0).astype(int)
    mean = he @ np.arange(n + 1)
    assert lo < mean.min() and mean.max() < hi and hi < 40
    assert round(page.share[lo:hi + 1].sum(), 3) == round(
        sum(comb(n, k) for k in range(lo, hi + 1)) / 2 ** n, 3)
    scaled = page.gradient_by_length(SCALED)
    assert set(scaled.argmax(-1)) <= {13, 14}                 # "13 to 14 blocks"
    lo, hi = np.median([page.effective_lengths(t) for t in scaled], axis=0).astype(int)
    assert (lo, hi) == (9, 19) and round(page.share[lo:hi + 1].sum(), 2) == 0.02


def test_effective_lengths_is_the_shortest_window():
    """For every network the page measures (both kinds, every seed): the window holds 90%
    of the gradient, contains the peak, and no window one shorter holds 90%."""
    totals = np.concatenate([page.gradient_by_length(SCALED), page.gradient_by_length(HE)])
    for total in totals:
        lo, hi = page.effective_lengths(total)
        assert total[lo:hi + 1].sum() >= 0.9 and lo <= total.argmax() <= hi
        width = hi - lo + 1
        assert max(total[a:a + width - 1].sum() for a in range(page.n + 2 - width)) < 0.9


def test_effective_lengths_on_distributions_made_to_test_it():
    """The window on hand-made distributions (binary fractions, so sums are exact): a peak at
    either end, where the window can only grow one way, and a tie, where it grows towards
    shorter paths."""
    def made(entries):
        total = np.zeros(page.n + 1)
        for k, value in entries.items():
            total[k] = value
        assert total.sum() == 1
        return total

    assert page.effective_lengths(made({0: 0.5, 1: 0.25, page.n: 0.25})) == (0, page.n)
    assert page.effective_lengths(made({page.n: 0.5, page.n - 1: 0.25, 0: 0.25})) \
        == (0, page.n)
    assert page.effective_lengths(made({page.n: 0.5, page.n - 1: 0.5})) == (page.n - 1, page.n)
    tie = made({1: 0.125, 2: 0.5, 3: 0.125, 4: 0.25})
    assert page.effective_lengths(tie, mass=0.6) == (1, 2)
    assert page.effective_lengths(tie, mass=0.9) == (1, 4)


def test_the_grey_band_is_the_range_of_lengths_the_page_credits_to_veit():
    """The page names Veit et al.'s range in its prose and caption; the figure's grey band,
    its label and the printed share of paths are all of that range."""
    prose = Path(__file__).parents[1].joinpath("docs", "residual-ensembles.md").read_text()
    named = set(re.findall(r"\b(\d+) to (\d+) blocks", prose)) - {("19", "35"), ("9", "19")}
    assert named == {("5", "17")}, named
    lo, hi = (int(v) for v in named.pop())
    ax = page.fig_all.axes[0]
    (band,) = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0.85,) * 3)]
    assert (band.get_x(), band.get_x() + band.get_width()) == pytest.approx((lo, hi))
    (label,) = [t for t in ax.texts if t.get_text().startswith("Veit")]
    assert label.get_position()[0] == pytest.approx((lo + hi) / 2)
    from tests.page_output import run_page
    printed = run_page("snippets.residual_ensembles.ensembles")[1]
    share = re.search(rf"paths through +{lo} to {hi} blocks: ([\d.]+)%", printed)
    expected = sum(comb(page.n, k) for k in range(lo, hi + 1)) / 2 ** page.n
    assert float(share[1]) == pytest.approx(100 * expected, abs=0.005)


def test_deleting_a_block_is_the_identity_for_that_block():
    net = build_residual_mlp(np.random.default_rng(1), 4, 3)
    x = np.random.default_rng(2).normal(size=(5, 4))
    lesioned = page.without_block(net, 1, 2)
    a = net.forward(x).a
    expected = net.tail(4).forward(a[2]).a[-1]              # block 1 skipped: a_2 -> block 2
    assert_close(lesioned.forward(x).a[-1], expected, atol=1e-14, what="lesion")


def test_lesion_damage():
    residual = page.damage["residual"]
    plain = page.damage["plain"]
    assert residual.shape == plain.shape == (page.SEEDS, 20)
    # "about a third"; "most of its size, in some layers more than all of it"
    assert 0.25 < np.median(residual.mean(1)) < 0.4
    assert 0.5 < np.median(plain.mean(1)) < 1 and plain.max() > 1
    # "in every seed the residual network's average is below every plain one's"
    assert residual.mean(1).max() < plain.mean(1).min()
    # the prose's "20-layer plain ReLU networks": every one of their layers is deleted once,
    # and deleting any of them changes the output
    prose = Path(__file__).parents[1].joinpath("docs", "residual-ensembles.md").read_text()
    layers = int(re.search(r"(\d+)-layer plain", prose)[1])
    assert len(page.plain.layers) == layers and page.plain.layers[0].W.shape[0] == page.SEEDS
    assert page.blocks == int(re.search(r"(\d+)-block residual", prose)[1])
    assert plain.shape[1] == layers and plain.min() > 0.1
    # a network whose branches start at zero: deleting a block changes nothing
    zero = MLP.stack([build_residual_mlp(np.random.default_rng(s), 8, 4, zero_last=True)
                      for s in range(2)])
    x = np.random.default_rng(9).normal(size=(2, 3, 8))
    assert_close(page.lesion(zero, 4, 2, x), np.zeros((2, 4)), atol=1e-14, what="zero")


def test_exercise_longest_path():
    n = page.n
    ks = np.arange(n + 1)
    # the last step of the binomial grows iff c >= n: just below and above n
    assert page.gradient_by_length((n - 0.5) ** ks).argmax() == n - 1
    assert page.gradient_by_length((n + 0.5) ** ks).argmax() == n
    assert page.gradient_by_length(10.0 ** ks).argmax() == 50   # "at 50 blocks"


def test_exercise_veit():
    assert exercises.c == pytest.approx(0.256, abs=5e-4)
    total = page.gradient_by_length(exercises.c ** np.arange(page.n + 1))
    assert total.argmax() == 11
    assert 4 <= exercises.lo and exercises.hi <= 18           # "close to 5 to 17"


def test_exercise_several_blocks():
    medians = [np.median(exercises.several[m]) for m in (1, 2, 5, 10)]
    assert medians == sorted(medians)                          # "grows smoothly"
    assert medians[-1] < 3 * medians[0]                        # far slower than m
    assert exercises.several[1].shape == (4, page.SEEDS)


def test_the_printed_paths_table_is_the_gradient_by_length():
    """Every cell of the paths table as printed, from the gradient by path length."""
    from tests.page_output import agrees_over_seeds, printed_as, run_page, table_rows

    run, printed = run_page("snippets.residual_ensembles.ensembles")
    n = page.n
    rows = dict((cells[0], cells[1:]) for cells in table_rows(
        printed, f"{page.SEEDS} networks of {n} blocks, width 32", 6))
    for column, magnitude in enumerate((HE, SCALED)):
        total = page.gradient_by_length(magnitude)
        slope = np.array([np.polyfit(np.arange(n + 1), np.log(m), 1)[0] for m in magnitude])
        c = np.exp(slope)
        assert agrees_over_seeds(rows["gain c"][column], c)
        assert printed_as(rows["nc/(1+c)"][column], np.median(n * c / (1 + c)))
        assert agrees_over_seeds(rows["mean"][column], total @ np.arange(n + 1))
        assert agrees_over_seeds(rows["peak"][column], np.argmax(total, axis=-1))
    assert set(run.paths) == {"He-initialised", "scaled by 0.25"}


def test_every_printed_range_is_in_order():
    """Each 'median (lowest–highest)' the page prints has its median between its ends."""
    from tests.page_output import run_page, spreads_in_order

    assert spreads_in_order(run_page("snippets.residual_ensembles.ensembles")[1])


def test_the_share_figure_draws_each_settings_median_and_range():
    """The right panel's bands run from the lowest to the highest network's share at every
    length, around its median line; the dotted line is the number of paths."""
    from tests.page_output import band_limits, panel, run_page

    # the run that drew the figure (float32 sums may round differently from run to run)
    run, _ = run_page("snippets.residual_ensembles.ensembles")
    ax = panel("snippets.residual_ensembles.ensembles", "Share of the total gradient")
    labels = [label for label, _ in ax.lines]
    assert labels[0] == "number of paths" and labels[1:] == list(run.paths)
    assert_close(ax.lines[0][1][:, 1], run.share, atol=0, rtol=1e-12, what="paths")
    for (_, xy), band, magnitude in zip(ax.lines[1:], ax.collections, run.paths.values(),
                                        strict=True):
        total = run.gradient_by_length(magnitude)
        assert_close(xy[:, 1], np.median(total, axis=0), atol=0, rtol=1e-12, what="median")
        assert_close(band_limits(band[0], run.k),
                     np.stack([total.min(axis=0), total.max(axis=0)], axis=1),
                     atol=1e-15, what="band")


def test_the_printed_lesion_table():
    """The lesion table in %, read back: each network's average change over its blocks
    (median and range over seeds), and the smallest and largest change of any block."""
    from tests.page_output import agrees_over_seeds, printed_as, run_page

    run, printed = run_page("snippets.residual_ensembles.ensembles")
    lines = printed.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("change, %")))
    rows = {line.split("  ")[0]: re.split(r"\s{2,}", line.strip())[1:]
            for line in lines[start + 1:start + 4]}
    for column, name in enumerate(("residual", "plain")):
        d = 100 * run.damage[name]                   # (seeds, blocks), in %
        assert agrees_over_seeds(rows["average"][column], d.mean(axis=1))
        assert printed_as(rows["smallest"][column], d.min())
        assert printed_as(rows["largest"][column], d.max())


def test_the_printed_similar_outputs_table():
    """The table of note 000's step as printed: each row's distance recomputed from the
    block Jacobians (B − I, and B − 2I, relative to the Frobenius norm of I and of 2I)."""
    from tests.page_output import agrees_over_seeds, run_page

    run, printed = run_page("snippets.residual_ensembles.ensembles")
    width = run.cases["near-copy layer"][0][1].shape[0]
    I = np.eye(width)
    measures = {"‖out − in‖ / ‖in‖": lambda out_in, B: out_in,
                "‖B − I‖ / ‖I‖": lambda out_in, B: np.linalg.norm(B - I) / np.sqrt(width),
                "‖B − 2I‖ / ‖2I‖": lambda out_in, B: np.linalg.norm(B - 2 * I)
                / (2 * np.sqrt(width))}
    for name, f in measures.items():
        line, = [line for line in printed.splitlines() if line.startswith(name)]
        cells = re.split(r"\s{2,}", line[len(name):].strip())
        for cell, draws in zip(cells, run.cases.values(), strict=True):
            assert agrees_over_seeds(cell, [f(*c) for c in draws]), (name, cell)
