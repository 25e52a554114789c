"""docs/skip-guarantees.md: the circular-law shares, the 1 + s^2 growth, the depth sweep
against its predictions, the branch gain against central differences, and the exercises.
Central differences in float64, h = 1e-6; tolerances stated where used."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from snippets.bp.activations import IDENTITY, RELU
from snippets.bp.gradcheck import assert_close, numerical_gradient, numerical_jacobian
from snippets.bp.mlp import MLP, Layer, build_residual_mlp
from snippets.skip_guarantees import exercises as ex
from snippets.skip_guarantees import guarantees as page

SOURCE = Path(page.__file__).read_text()


def test_lens_area_against_a_monte_carlo_and_the_closed_form():
    assert page.lens_area(1.0) == pytest.approx(2 * math.pi / 3 - math.sqrt(3) / 2)
    assert round(100 * page.lens_area(1.0) / math.pi) == 39   # the page's "about 39%"
    pts = np.random.default_rng(0).uniform(-3, 3, size=(1_000_000, 2))
    # the page's case (R = d = 1) and the formula's general one
    for r, R, d in ((0.5, 1.0, 1.0), (2.0, 1.0, 1.0), (0.8, 1.5, 1.2), (1.2, 0.7, 0.9)):
        in_both = (np.hypot(pts[:, 0] - d, pts[:, 1]) < r) & (np.hypot(*pts.T) < R)
        assert page.lens_area(r, R, d) == pytest.approx(36 * in_both.mean(), rel=0.02)
    assert page.lens_area(1.0, 1.0, 2.0) == 0.0                        # discs touching
    assert page.lens_area(0.5, 2.0, 1.0) == pytest.approx(math.pi / 4)  # one inside


def test_streams_are_independent():
    a, b = page.streams(3, 2)
    assert not np.allclose(a.normal(size=8), b.normal(size=8))
    # the depth sweep's inputs are not its weights (the old page reused one seed for both)
    W = page.W_a[0, 0].ravel() / math.sqrt(2 / page.width)
    x = page.x_in.ravel()
    assert abs(np.corrcoef(W[:x.size], x[:W.size])[0, 1]) < 0.2
    assert not np.any(np.isin(page.x_in.ravel(), page.W_a.ravel()))


@pytest.mark.parametrize("s", page.S_VALUES)
def test_eigenvalues_inside_the_unit_circle(s):
    shares = page.inside[s]
    assert shares.shape == (page.SEEDS,)
    predicted = page.lens_area(s) / (math.pi * s * s)
    assert shares.min() - 0.01 <= predicted <= shares.max() + 0.01   # "within the spread"
    assert np.all(np.abs(shares - predicted) < 0.03)
    assert shares.min() > 0.2                     # many |lambda| < 1: note 000 is wrong
    # independently: the eigenvalues of I + sG itself, for one seed
    direct = np.linalg.eigvals(np.eye(page.n) + s * page.G[0])
    assert np.mean(np.abs(direct) < 1) == pytest.approx(shares[0], abs=1 / page.n)


def test_eigenvalue_plot_draws_crosses_as_its_caption_says():
    section = re.search(r"\[start:eigenvalues_plot\](.*?)\[end:eigenvalues_plot\]", SOURCE,
                        re.S)[1]
    assert 'marker="x"' in section and "orange" in section and "crosses" in section
    assert "dots" not in section.split("caption=")[1]


def test_expected_growth_is_one_plus_s2():
    for s in page.S_VALUES:
        per_seed = page.growth[s]
        assert per_seed.shape == (page.SEEDS,)
        assert np.all(np.abs(per_seed / (1 + s * s) - 1) < 0.05)
    # independently, for the first seed: (I + sG)^T g one matrix at a time
    s, g = 1.0, page.g
    norms = [np.sum(((np.eye(page.n_g) + s * M).T @ g) ** 2) for M in page.G_t[0]]
    assert page.growth[s][0] == pytest.approx(np.mean(norms) / (g @ g), rel=1e-12)


def test_block_jacobian_is_identity_plus_branch():
    net = build_residual_mlp(np.random.default_rng(4), 5, 1)
    x = np.random.default_rng(5).normal(size=5)
    (W_a, b_a), (W_b, _) = [(layer.W, layer.b) for layer in net.layers]
    J_branch = W_b @ ((W_a @ x + b_a > 0)[:, None] * W_a)
    numeric = numerical_jacobian(lambda v: net.forward(v[None, :]).a[-1][0], x)
    assert numeric.shape == (5, 5)
    assert_close(np.eye(5) + J_branch, numeric, atol=1e-8, what="I + J")


def test_depth_sweep():
    r, L = page.ratios, np.array(page.depths)[:, None]
    assert all(v.shape == (len(page.depths), page.SEEDS) for v in r.values())
    assert np.allclose(r["zero"], 1.0, rtol=1e-12)
    assert np.allclose(r["half"], 0.5 ** L, rtol=1e-9)
    identity = r["identity"]
    assert np.all((1e14 < identity[-1]) & (identity[-1] < 1e16))      # "about 1e15"
    assert np.all(np.diff(identity, axis=0) > 0)
    scaled = r["scaled"]
    assert np.all((1 < scaled) & (scaled < 5))
    assert np.median(scaled[-1]) == pytest.approx((1 + 2 / 64) ** 32, rel=0.1)
    plain = r["plain"]
    assert np.all((0.02 < plain) & (plain < 3))
    assert 0.03 < plain[-1].min() < 0.05 and 0.85 < plain[-1].max() < 0.95  # "0.04 and 0.9"


def test_one_sweep_entry_against_central_differences():
    # identity shortcuts, 4 blocks, first seed: dL/dx for L = <g_out, y> by differences
    L, k = 4, page.depths.index(4)
    net = page.residual_stack(page.W_a[:1], page.W_b[:1], L, "identity")
    x, g = page.x_in[:1], page.g_out[:1]
    numeric = numerical_gradient(lambda v: float(np.sum(g * net.forward(v).a[-1])), x)
    assert numeric.shape == x.shape
    assert page.ratios["identity"][k, 0] == pytest.approx(
        np.linalg.norm(numeric) / np.linalg.norm(g), rel=1e-6)
    # and the network is what the page says: x + W_b ReLU(W_a x) per block
    a = x[0]
    for b in range(L):
        a = a + RELU(a @ page.W_a[0, b].T) @ page.W_b[0, b].T
    assert_close(net.forward(x).a[-1][0], a, atol=1e-12, what="the stack's output")


def branch_output(W_a, W_b, x):
    """F(x) = y - x for one residual block built with the library (independent of the page's
    expression for J_F u)."""
    n = W_a.shape[0]
    block = MLP([Layer(W_a, np.zeros(n), RELU), Layer(W_b, np.zeros(n), IDENTITY, skip=0)])
    return block.forward(x).a[-1] - x


def test_branch_gain_against_central_differences():
    h = 1e-6
    s2 = []
    for k in range(page.SEEDS):
        W_a, W_b = page.W_a1[k], page.W_b1[k]
        Ju = (branch_output(W_a, W_b, page.x + h * page.u)
              - branch_output(W_a, W_b, page.x - h * page.u)) / (2 * h)
        assert Ju.shape == page.u.shape
        s2.append(np.mean(np.sum(Ju ** 2, axis=1) / np.sum(page.u ** 2, axis=1)))
        # a few rows through the explicit Jacobian as well
        for i in range(3):
            J = numerical_jacobian(lambda v, W_a=W_a, W_b=W_b: branch_output(
                W_a, W_b, v[None, :])[0], page.x[i])
            assert_close(page.Ju[k, i], J @ page.u[i], atol=1e-7, what=f"J_F u, row {i}")
    # tight enough to catch W_b for W_b^T (a few per cent on these square matrices)
    assert_close(page.s2, np.array(s2), atol=0, rtol=1e-4, what="s^2 per seed")
    assert np.all(np.abs(page.s2 - 2.0) < 0.1)     # He: 2/n weights, half the units on


def test_growth_per_block_matches_sqrt_one_plus_s2():
    per_block = page.per_block
    assert per_block.shape == (page.SEEDS,)
    assert np.all(np.abs(per_block / np.sqrt(1 + np.median(page.s2)) - 1) < 0.03)


def test_exercises():
    lam = np.sort(np.linalg.eigvals(ex.A @ ex.B).real)
    assert_close(lam, np.array([-7 - math.sqrt(48), -7 + math.sqrt(48)]), atol=1e-12,
                 what="eigenvalues of AB")
    assert np.allclose(np.linalg.eigvals(ex.A), 1) and np.allclose(np.linalg.eigvals(ex.B), 1)
    per_block = ex.ratio_ex ** (1 / ex.L_ex)
    assert ex.ratio_ex.shape == (page.SEEDS,)
    assert np.all(np.abs(per_block / math.sqrt(1.5) - 1) < 0.03)   # s^2 = 1/2
    assert np.median(ex.ratio_ex) == pytest.approx(1.5 ** 16, rel=0.25)


def test_the_eigenvalue_figures_alt_text_says_what_each_panel_shows():
    """The alt text of each panel states how much of the disc falls inside the unit circle:
    "nearly half" for s = 0.5, the lens for s = 1 (the share the first seed's panel draws)."""
    import re

    from tests.page_output import run_page

    run, printed = run_page("snippets.skip_guarantees.guarantees")
    alts = re.findall(r'alt="(Scatter plot of the eigenvalues of I \+ J[^"]*)"', printed)
    assert len(alts) == 2
    for alt, s in zip(alts, (0.5, 1.0), strict=True):
        share = np.mean(np.abs(run.eig[s][0]) < 1)          # the drawn seed
        assert f"s = {s}," in alt
        if "nearly half" in alt:
            assert 0.4 < share < 0.5, share
        else:
            assert "lens" in alt and share < 0.4, share


def test_the_printed_share_inside_the_unit_circle():
    from tests.page_output import agrees_over_seeds, printed_as, run_page, table_rows

    run, printed = run_page("snippets.skip_guarantees.guarantees")
    rows = table_rows(printed, f"I + J for a random {run.n} × {run.n} Jacobian J", 3)
    for cells, s in zip(rows, (0.5, 1.0, 2.0), strict=True):
        eigenvalues = np.linalg.eigvals(np.eye(run.n) + s * run.G)     # of I + sG itself
        assert cells[0] == f"{s:g}"
        assert agrees_over_seeds(cells[1], np.mean(np.abs(eigenvalues) < 1, axis=-1)), cells
        assert printed_as(cells[2], page.lens_area(s) / (math.pi * s * s))


def test_every_printed_range_is_in_order():
    """Each 'median (lowest–highest)' the page prints has its median between its ends."""
    from tests.page_output import run_page, spreads_in_order

    assert spreads_in_order(run_page("snippets.skip_guarantees.guarantees")[1])


def test_the_figures_draw_the_computed_eigenvalues_and_ratios():
    """Each eigenvalue panel plots its own s's eigenvalues (crosses inside the unit circle,
    dots outside) around the whole circle; each ratio band runs from the lowest to the
    highest seed at every depth."""
    from tests.page_output import band_limits, drawn, run_page

    run, _ = run_page("snippets.skip_guarantees.guarantees")     # the run that drew them
    figures = drawn("snippets.skip_guarantees.guarantees")
    eigen = [axes[0] for alt, axes in figures.items() if alt.startswith("Scatter plot")]
    assert len(eigen) == 2
    for ax, s in zip(eigen, (0.5, 1.0), strict=True):
        lam = run.eig[s][0]
        outside, inside = ax.points
        assert_close(outside, np.c_[lam.real, lam.imag][np.abs(lam) >= 1], atol=0,
                     what=f"|λ| ≥ 1, s = {s}")
        assert_close(inside, np.c_[lam.real, lam.imag][np.abs(lam) < 1], atol=0,
                     what=f"|λ| < 1, s = {s}")
        circle = ax.lines[0][1]
        angles = np.unwrap(np.arctan2(circle[:, 1], circle[:, 0]))
        assert np.allclose(np.hypot(*circle.T), 1) and np.ptp(angles) > 2 * np.pi - 1e-9
    ratio_panels = [axes[0] for alt, axes in figures.items() if alt.startswith(
        ("Log-log plot of the input gradient norm", "The same plot for the three"))]
    for ax, shown in zip(ratio_panels, run.panels.values(), strict=True):
        for (_, xy), band, v in zip(ax.lines, ax.collections, shown, strict=True):
            r = run.ratios[v]
            assert_close(xy[:, 1], np.median(r, axis=1), atol=0, rtol=1e-12, what=v)
            assert_close(band_limits(band[0], run.depths),
                         np.stack([r.min(axis=1), r.max(axis=1)], axis=1), atol=0,
                         rtol=1e-12, what=v)


def test_the_printed_64_block_table():
    from tests.page_output import agrees_over_seeds, run_page, table_rows

    run, printed = run_page("snippets.skip_guarantees.guarantees")
    rows = table_rows(printed, f"{run.SEEDS} seeds: median (lowest–highest)",
                      len(run.VARIANTS))
    at_64 = list(run.depths).index(64)
    for cells, (v, label) in zip(rows, run.VARIANTS.items(), strict=True):
        assert cells[0] == label
        assert agrees_over_seeds(cells[1], run.ratios[v][at_64]), cells
