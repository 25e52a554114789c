"""docs/shattered-gradients.md: dy/dx by back-propagation against central differences, the
correlation measure, the exact count of linear pieces against the activation patterns of a
forward pass, and every claim the page makes, in every network or in the median as it says."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

from snippets.bp.gradcheck import assert_close, numerical_gradient
from tests.conftest import ROOT

with contextlib.redirect_stdout(io.StringIO()):   # the page's figures and tables
    from snippets.shattered_gradients import exercises as ex
    from snippets.shattered_gradients import shattered as page

PAGE = (ROOT / "docs" / "shattered-gradients.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["plain", "residual"])
@pytest.mark.parametrize("depth", [1, 8])
def test_input_gradient_against_finite_differences(kind, depth):
    """Central differences, float64, h = 1e-6 (numerical_gradient's default)."""
    net = page.make(kind, depth, seed=2)
    backprop = page.input_gradient(net)
    assert backprop.shape == (256,)
    for i in (3, 100, 200):
        numeric = numerical_gradient(
            lambda v: float(net.forward(v[None, :]).a[-1][0, 0]), page.x[i])
        assert numeric.shape == (1,)
        assert_close(backprop[i:i + 1], numeric, atol=1e-8, what=f"dy/dx at point {i}")


def test_autocorrelation_measure():
    t = np.arange(256)
    assert page.autocorrelation(np.sin(0.1 * t)) == pytest.approx(np.cos(0.1), abs=0.01)
    noise = np.random.default_rng(0).normal(size=100_000)
    assert abs(page.autocorrelation(noise)) < 0.01


def test_a_stack_gives_each_networks_own_gradient():
    nets = [page.make("residual", 4, seed) for seed in range(3)]
    stacked = page.input_gradient(page.MLP.stack(nets))
    for i, net in enumerate(nets):
        assert_close(stacked[i], page.input_gradient(net), atol=1e-12, what=f"net {i}")


def test_weights_and_biases_come_from_independent_streams():
    """The bug this replaced: biases drawn from a generator seeded like the weights', so
    that for the one-input first layer b_1 was a fixed multiple of W_1 and every first-layer
    ReLU bent at the same input."""
    net = page.make("plain", 2, seed=3)
    W1, b1 = net.layers[0].W[:, 0], net.layers[0].b
    kinks = -b1 / W1                       # where each first-layer unit switches
    assert np.unique(np.round(kinks, 9)).size == page.WIDTH
    assert abs(np.corrcoef(W1, b1)[0, 1]) < 0.5
    other = page.make("plain", 3, seed=3)  # another depth: other streams
    assert not np.allclose(other.layers[0].W, net.layers[0].W)


def test_what_holds_in_every_network_and_in_the_median():
    plain, residual = page.correlation["plain"], page.correlation["residual"]
    assert plain.shape == residual.shape == (len(page.DEPTHS), page.SEEDS)
    d = {depth: i for i, depth in enumerate(page.DEPTHS)}
    # in every network
    assert (plain[d[64]] < plain[d[1]].min()).all()
    assert (residual > 0.9).all()
    from tests.page_output import line_with, run_page
    printed = run_page("snippets.shattered_gradients.shattered")[1]
    for verdict in ("plain, depth 64 below depth 1 in every network:",
                    "residual above 0.9 at every depth, in every network:"):
        assert line_with(printed, verdict) == f"{verdict} True"   # as the lines above find
    assert plain[d[64]].max() < residual[d[64]].min()
    # in the median only
    median_plain, median_residual = np.median(plain, axis=1), np.median(residual, axis=1)
    assert (np.diff(median_plain[d[2]:]) < 0).all()          # falls at every step from 2
    below = [depth for depth in page.DEPTHS
             if median_plain[d[depth]] < median_residual[d[depth]]]
    assert below == [depth for depth in page.DEPTHS if depth != 2]
    assert plain[d[16]].max() > plain[d[8]].min()             # a 16 beats an 8
    for depth in page.DEPTHS[:-1]:                            # up to 32 the sets overlap
        assert plain[d[depth]].max() > residual[d[depth]].min()
    # "still 0.71 at depth 64": the number the prose quotes is the computed one
    assert f"is still {median_plain[d[64]]:.2f} at depth 64" in PAGE.replace("\n", " ")


def grid_patterns(net, grid):
    """Activation pattern of every ReLU at every grid point, from a forward pass:
    (networks, points, units) booleans."""
    fwd = net.forward(grid[:, None])
    return np.concatenate([fwd.z[l] > 0 for l, layer in enumerate(net.layers, start=1)
                           if layer.g is page.RELU], axis=-1)


@pytest.mark.parametrize("kind", ["plain", "residual"])
def test_the_count_is_exact(kind):
    net = page.MLP.stack([page.make(kind, 3, seed) for seed in range(2)])
    knots, y = page.linear_pieces(net)
    counts = page.count_pieces(knots)
    # a fine grid sees at most as many pattern changes (a lower bound), here all of them
    grid = np.linspace(-2, 2, 2 ** 17)
    patterns = grid_patterns(net, grid)
    changes = np.sum(np.any(patterns[:, 1:] != patterns[:, :-1], axis=-1), axis=-1)
    assert (changes <= counts - 1).all() and (changes >= counts - 3).all()
    for i in range(2):
        k = np.unique(knots[i])
        mid = (k[1:] + k[:-1]) / 2
        inside = k[:-1] + 0.3 * np.diff(k)
        at_mid = grid_patterns(net, mid)[i]
        # one pattern per piece, and a different one on either side of every knot
        assert (grid_patterns(net, inside)[i] == at_mid).all()
        assert np.any(at_mid[1:] != at_mid[:-1], axis=-1).all()
        # the output at the knots, and the slopes between them, against the network
        assert_close(y[i][:len(k)], net.forward(k[:, None]).a[-1][i, :, 0], rtol=1e-9,
                     atol=1e-12, what="y at the knots")
        slopes = np.diff(y[i][:len(k)]) / np.diff(k)
        assert_close(slopes, page.input_gradient(net, mid[:, None])[i], rtol=1e-6,
                     atol=1e-9, what="slopes against back-propagation")


def test_what_the_count_shows():
    relus = {kind: np.array([[page.relus(kind, d)] for d in page.DEPTHS])
             for kind in page.KINDS}
    for kind in page.KINDS:
        per_relu = page.pieces[kind] / relus[kind]
        assert 0.25 <= per_relu.min() and per_relu.max() <= 1.05
    depth8 = np.median(page.pieces["plain"][page.DEPTHS.index(8)])
    assert 150 < depth8 < 250 and float(page.WIDTH) ** 8 > 1e12      # "about 200", "> 1e12"
    median = {kind: np.median(page.pieces[kind], axis=1) for kind in page.KINDS}
    assert (median["residual"] >= median["plain"]).all()
    assert median["residual"][-1] >= 1.4 * median["plain"][-1]        # "half as many again"


def test_pieces_are_not_what_shatters():
    def jumps(kind, depth):
        return np.array([np.sqrt(np.mean(jump ** 2)) / np.std(slope) for slope, jump
                         in page.slope_jumps(*page.knots[kind, depth])])
    assert jumps("residual", 64).max() < jumps("plain", 64).min()
    ratio = np.median(jumps("residual", 64)) / np.median(jumps("plain", 64))
    assert 0.15 < ratio < 0.35                                        # "about a quarter"
    ratio8 = np.median(jumps("residual", 8)) / np.median(jumps("plain", 8))
    assert 0.7 < ratio8 < 1.3                                         # "about the same"


def test_the_printed_jumps_table():
    """Each row's jump / spread of dy/dx, over the seeds, recomputed here from the knots:
    the root-mean-square jump of the slope at a knot over the standard deviation of the
    slope between knots."""
    from tests.page_output import agrees_over_seeds, run_page, table_rows

    run, printed = run_page("snippets.shattered_gradients.shattered")
    rows = table_rows(printed, f"Median of {run.SEEDS} networks (range in brackets)", 4)
    assert [(kind, depth) for kind, depth, *_ in rows] == [
        ("plain", "8"), ("plain", "64"), ("residual", "8"), ("residual", "64")]
    for kind, depth, _, jump_text, _ in rows:
        jumps = [np.sqrt(np.mean(np.asarray(jump) ** 2)) / np.std(slope)
                 for slope, jump in run.slope_jumps(*run.knots[kind, int(depth)])]
        assert len(jumps) == run.SEEDS and agrees_over_seeds(jump_text, jumps), jump_text


def test_exercise_tent_map():
    """The network is the tent map applied depth times (checked against the map itself on a
    grid of [0, 1]), and the table counts its pieces and those of random narrow networks."""
    def tent(u):
        return np.where(u <= 0.5, 2 * u, 2 - 2 * u)

    u = np.linspace(0.0, 1.0, 1001)
    for depth in (1, 2, 5):
        net = ex.tent_network(depth)
        assert [layer.W.shape for layer in net.layers] == \
            [(2, 1)] + [(2, 2)] * (depth - 1) + [(1, 2)]
        expected = u
        for _ in range(depth):
            expected = tent(expected)
        assert_close(net.forward(u[:, None]).a[-1][:, 0], expected, atol=1e-12,
                     what=f"T applied {depth} times")
    for depth in (2, 8):
        widths = [layer.W.shape for layer in ex.random_narrow(depth, 0).layers]
        assert widths == [(2, 1)] + [(2, 2)] * (depth - 1) + [(1, 2)]
    for row in ex.rows:
        depth, tent, power, random = row
        assert int(tent) == int(power) == 2 ** int(depth)
        assert int(re.match(r"\d+", random)[0]) < 2 ** int(depth)
        pieces = [page.count_pieces(page.linear_pieces(   # one network at a time
            page.MLP.stack([ex.random_narrow(int(depth), s)]), 0.0, 1.0)[0])[0]
            for s in range(ex.SEEDS)]
        assert random == ex.spread(np.asarray(pieces), ".0f"), row


def test_exercise_no_biases():
    for depth in (4, 16, 64):
        net = page.MLP.stack([ex.without_biases("plain", depth, s) for s in range(2)])
        assert (page.count_pieces(page.linear_pieces(net)[0]) == 2).all()
    # the printed counts: two pieces for every network, at both depths
    from tests.page_output import line_with, run_page

    run, printed = run_page("snippets.shattered_gradients.exercises")
    for depth in (4, 16):
        shown = line_with(printed, f"depth {depth}, zero biases: pieces on [-2, 2]")
        assert [int(v) for v in re.findall(r"\d+", shown.rsplit(":", 1)[1])] == [2] * run.SEEDS


def test_exercise_finer_sweep():
    coarse = page.correlation["plain"][-1]
    fine = page.autocorrelation(page.input_gradient(page.nets["plain", 64],
                                                    np.linspace(-2, 2, 1024)[:, None]))
    assert_close(ex.rho[1024], fine, atol=1e-12, what="1024 points")
    # the 256-point row is the chapter's own measurement at depth 64
    assert_close(ex.rho[256], page.correlation["plain"][page.DEPTHS.index(64)], atol=0,
                 what="256 points")
    assert (fine > coarse).all()


def test_the_printed_bounds_are_for_the_depths_the_prose_names():
    from tests.page_output import line_with, printed_as, run_page

    _, printed = run_page("snippets.shattered_gradients.shattered")
    for depth in (8, 64):
        line = line_with(printed, f"most a plain network of depth {depth} could have:")
        assert line.split(" = ")[0].endswith(f"{page.WIDTH}^{depth}")
        assert printed_as(line.rsplit(" = ", 1)[1], float(page.WIDTH) ** depth)


def test_the_printed_pieces_per_relu_and_the_finer_grid():
    from tests.page_output import line_with, printed_as, run_page

    _, printed = run_page("snippets.shattered_gradients.shattered")
    for kind in page.KINDS:
        per_relu = [page.pieces[kind][i] / page.relus(kind, d) for i, d in enumerate(page.DEPTHS)]
        line = line_with(printed, f"{kind}: pieces per ReLU")
        low, high = line.split("pieces per ReLU ")[1].split(";")[0].split(" to ")
        assert printed_as(low, np.min(per_relu)) and printed_as(high, np.max(per_relu))
    _, printed_ex = run_page("snippets.shattered_gradients.exercises")
    points = [int(line.split()[0]) for line in printed_ex.splitlines()
              if "points: correlation of neighbours" in line]
    assert points == [page.x.shape[0], 1024]          # the chapter's grid, then the finer one


def test_the_figures_draw_the_computed_curves_and_ranges():
    """What the two figures drew: each curve panel's lines are the median-correlation
    network's gradient, standardised and shifted to its row; the depth figure's bands run
    from the least to the most correlated network at every depth."""
    from tests.page_output import drawn, run_page

    run, _ = run_page("snippets.shattered_gradients.shattered")  # the run that drew them
    figures = drawn("snippets.shattered_gradients.shattered")
    curves = [axes[0] for alt, axes in figures.items()
              if alt.startswith(("Two curves of the derivative", "The same for a residual"))]
    assert len(curves) == len(run.KINDS)
    for ax, kind in zip(curves, run.KINDS, strict=True):
        for (_, xy), (offset, depth) in zip(ax.lines, [(7, 2), (0, 64)], strict=True):
            g = run.gradients[kind, depth]
            median = g[np.argsort(run.autocorrelation(g))[run.SEEDS // 2]]
            assert_close(xy[:, 0], run.x[:, 0], atol=0, what="inputs")
            assert_close(xy[:, 1], offset + (median - median.mean()) / median.std(),
                         atol=1e-12, what=f"{kind}, depth {depth}")
    ax, = [axes[0] for alt, axes in figures.items() if alt.startswith("Correlation of")]
    for band, values in zip(ax.collections, run.correlation.values(), strict=True):
        vertices = band[0]
        for depth, lo, hi in zip(run.DEPTHS, values.min(axis=1), values.max(axis=1),
                                 strict=True):
            at = vertices[vertices[:, 0] == depth, 1]
            assert at.min() == pytest.approx(lo) and at.max() == pytest.approx(hi), depth


def test_every_printed_range_is_in_order():
    """Each 'median (lowest–highest)' the page prints has its median between its ends."""
    from tests.page_output import run_page, spreads_in_order

    assert spreads_in_order(run_page("snippets.shattered_gradients.shattered")[1])


def test_the_printed_depth_comparisons():
    """The three printed verdicts on the correlation figure, recomputed from the
    correlations: every residual network above 0.9, and the depths where the plain networks
    fall below the residual ones, in the median and in every network."""
    from tests.page_output import line_with, run_page

    run, printed = run_page("snippets.shattered_gradients.shattered")
    plain, residual = run.correlation["plain"], run.correlation["residual"]
    assert line_with(printed, "residual above 0.9").endswith(str(bool(np.all(residual > 0.9))))
    median = [d for d, p, r in zip(run.DEPTHS, np.median(plain, axis=1),
                                   np.median(residual, axis=1), strict=True) if p < r]
    every = [d for d, p, r in zip(run.DEPTHS, plain.max(axis=1), residual.min(axis=1),
                                  strict=True) if p < r]
    assert line_with(printed, "depths where the median plain").endswith(str(median))
    assert line_with(printed, "depths where every plain").endswith(str(every))


def test_the_pieces_figures_bound_is_width_to_the_depth():
    """The dotted "most possible" curve: at depth L (WIDTH * L ReLUs) it is WIDTH ** L
    pieces, as its label says (Montufar et al.'s bound grows at least that fast)."""
    from tests.page_output import drawn

    lines = [line for panels in drawn("snippets.shattered_gradients.shattered").values()
             for axes in panels for line in axes.lines
             if line[0].startswith("most possible")]
    assert len(lines) == 1
    label, xy = lines[0]
    assert label == f"most possible (≥ {page.WIDTH}^depth)"
    depth = xy[:, 0] / page.WIDTH
    assert np.array_equal(depth, np.round(depth)) and depth.min() == 1
    assert np.allclose(xy[:, 1], float(page.WIDTH) ** depth, rtol=1e-12)


def test_the_sweep_panels_name_their_depths_in_layers_or_blocks():
    """The plain network's curves are labelled in layers, the residual network's in blocks,
    each with a depth the page computes."""
    from tests.page_output import drawn

    figures = drawn("snippets.shattered_gradients.shattered")
    for start, unit in [("Two curves of the derivative of a plain", "layers"),
                        ("The same for a residual network", "blocks")]:
        (panels,) = [p for alt, p in figures.items() if alt.startswith(start)]
        labels = [text[0] for panel in panels for text in panel.texts]
        assert labels and all(re.fullmatch(rf"(\d+) {unit}", label) for label in labels), labels
        assert {int(label.split()[0]) for label in labels} <= set(page.DEPTHS)
