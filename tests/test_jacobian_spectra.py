"""docs/jacobian-spectra.md: the critical point by Monte Carlo, the Jacobian product by
central differences (float64, h = 1e-6, atol 1e-8), and every claim the page makes about
the spectra, over all five networks of each kind."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from snippets.bp.activations import TANH
from snippets.bp.gradcheck import assert_close, numerical_jacobian

with contextlib.redirect_stdout(io.StringIO()):   # the page's tables and figures
    from snippets.jacobian_spectra import exercises as ex
    from snippets.jacobian_spectra import spectra as page


def forward(g, W, b, x):
    """a_N of one network (W: (N, n, n), b: (N, n), x: (n,)), written independently."""
    for W_l, b_l in zip(W, b, strict=True):
        x = g(W_l @ x + b_l)
    return x


def test_critical_point_by_monte_carlo():
    h = np.random.default_rng(0).normal(scale=np.sqrt(page.q_star), size=2_000_000)
    chi = page.sigma_w ** 2 * np.mean((1 - np.tanh(h) ** 2) ** 2)
    q = page.sigma_w ** 2 * np.mean(np.tanh(h) ** 2) + page.sigma_b ** 2
    assert chi == pytest.approx(1.0, abs=2e-3)
    assert q == pytest.approx(page.q_star, rel=2e-3)
    assert page.chi == pytest.approx(1.0, abs=1e-9)
    assert page.q_next == pytest.approx(page.q_star, rel=1e-9)


@pytest.mark.parametrize("name", [*page.NETWORKS, "biased"])
def test_the_jacobian_product_against_finite_differences(name):
    kw = page.biased if name == "biased" else page.NETWORKS[name]
    W, b, x = page.draw(**kw, key=9, seeds=2, depth=3, width=6)
    assert W.shape == (3, 2, 6, 6) and b.shape == (3, 2, 6) and x.shape == (2, 6)
    jacobians, on = page.input_output_jacobians(kw["g"], W, b, x, depths=(1, 3))
    assert jacobians[3].shape == (2, 6, 6) and on[3].shape == (2,)
    for i in range(2):
        numeric = numerical_jacobian(lambda v, i=i: forward(kw["g"], W[:, i], b[:, i], v),
                                     x[i])
        assert numeric.shape == (6, 6)
        assert_close(jacobians[3][i], numeric, atol=1e-8, what=f"Jacobian of {name}, net {i}")
        numeric_1 = numerical_jacobian(lambda v, i=i: forward(kw["g"], W[:1, i], b[:1, i], v),
                                       x[i])
        assert_close(jacobians[1][i], numeric_1, atol=1e-8, what=f"layer 1 of {name}")


def test_weights_biases_and_inputs_come_from_independent_streams():
    W, b, _ = page.draw(**page.NETWORKS["tanh, orthogonal, critical"], key=3, depth=2)
    W2, _, _ = page.draw(**page.NETWORKS["tanh, orthogonal, critical"], key=4, depth=2)
    assert not np.allclose(W, W2)                        # another key, other networks
    assert not np.allclose(W[0, 0], W[0, 1])             # another seed, other networks
    for i in range(page.SEEDS):                          # biases unrelated to the weights
        assert abs(np.corrcoef(W[0, i, :, 0], b[0, i])[0, 1]) < 0.5


def test_the_spectra_are_those_of_the_jacobians():
    """The table's mean s^2 is ||J||_F^2 / n, computed here without an SVD; the zeros are
    at least the units off in the emptiest layer, counted here from the forward pass."""
    for key, (name, kw) in enumerate(page.NETWORKS.items()):
        W, b, x = page.draw(**kw, key=key, depth=32)
        jacobians, _ = page.input_output_jacobians(kw["g"], W, b, x, depths=(8, 32))
        for depth in (8, 32):
            frobenius = np.sum(jacobians[depth] ** 2, axis=(-2, -1)) / page.WIDTH
            assert_close(np.mean(page.spectra[name][depth] ** 2, axis=-1), frobenius,
                         rtol=1e-9, atol=0, what=f"mean s^2 of {name}")
        if kw["g"] is page.RELU:
            a, fewest_on = x, np.full(len(x), page.WIDTH)
            for l in range(32):
                z = np.einsum("sij,sj->si", W[l], a) + b[l]
                a = np.maximum(z, 0)
                fewest_on = np.minimum(fewest_on, np.sum(z > 0, axis=-1))
            zeros = np.round(page.WIDTH * page.zero_fraction(page.spectra[name][32]))
            assert (zeros >= page.WIDTH - fewest_on).all()


def test_what_the_table_and_the_histograms_show():
    s = page.spectra
    mean_s2 = {name: {d: np.mean(v ** 2, axis=-1) for d, v in by.items()}
               for name, by in s.items()}
    # "near 1 at depth 32, in all five networks, while the median is of order 1e-5"
    assert ((0.5 < mean_s2["linear, Gaussian"][32]) & (mean_s2["linear, Gaussian"][32] < 2)).all()
    median = np.median(np.median(s["linear, Gaussian"][32], axis=-1))
    assert 1e-6 < median < 1e-4
    # orthogonal linear: every singular value is 1, in every network
    assert np.allclose(np.concatenate(list(s["linear, orthogonal"].values())), 1, atol=1e-10)
    # ReLU: more than half exactly 0, at every depth, in all five
    for depth, v in s["ReLU, He"].items():
        assert (page.zero_fraction(v) > 0.5).all(), depth
    # tanh: median near 1 at depths 8 and 32, between 0.6 and 1 at 128, in every network
    tanh = {d: np.median(v, axis=-1) for d, v in s["tanh, orthogonal, critical"].items()}
    for depth in (8, 32):
        assert ((0.9 < tanh[depth]) & (tanh[depth] < 1.2)).all()
    assert ((0.6 < tanh[128]) & (tanh[128] < 1)).all()
    assert (page.zero_fraction(s["tanh, orthogonal, critical"][128]) == 0).all()


def test_the_histograms_draw_the_spectra_with_zeros_where_the_table_counts_them():
    """Each panel, read back: one outline per depth, a bin's height the share of all five
    networks' singular values in it (recomputed with np.histogram), the bin at 1e-15 holding
    exactly the share the table counts as 0, and the axis spanning every bin."""
    assert len(page.panels) == len(page.spectra)
    for fig, (name, by_depth) in zip(page.panels, page.spectra.items(), strict=True):
        ax = fig.axes[0]
        assert ax.get_title() == name
        low, high = ax.get_xlim()
        assert low < page.BINS[0] and page.BINS[-1] < high < page.BINS[-1] + 1
        outlines = {p.get_label(): p.get_xy() for p in ax.patches}
        assert set(outlines) == {f"depth {d}" for d in by_depth}
        for depth, s in by_depth.items():
            xy = outlines[f"depth {depth}"]
            zero = s < 1e-13 * s.max(axis=-1, keepdims=True)
            logs = np.where(zero, -15.0, np.log10(np.maximum(s, 1e-14)))
            heights, _ = np.histogram(logs, bins=page.BINS)
            heights = heights / s.size
            # a step outline: the top of bin i runs from BINS[i] to BINS[i + 1] at heights[i]
            for i in np.flatnonzero(heights):
                top = (np.isclose(xy[:, 0], page.BINS[i]) | np.isclose(xy[:, 0],
                       page.BINS[i + 1])) & np.isclose(xy[:, 1], heights[i])
                assert top.sum() >= 2, (name, depth, i)
            assert heights[0] == pytest.approx(np.mean(page.zero_fraction(s)))


def test_the_mean_squared_singular_value_of_one_network():
    mean_s2 = {name: np.mean(by[128] ** 2, axis=-1) for name, by in page.spectra.items()}
    assert mean_s2["linear, Gaussian"].max() < 0.3        # "all five below 0.3"
    assert mean_s2["ReLU, He"].max() < 0.2                # "all five below 0.2"
    tanh = page.spectra["tanh, orthogonal, critical"]
    for depth in (8, 32):                                 # "above 1 at depths 8 and 32"
        assert (np.mean(tanh[depth] ** 2, axis=-1) > 1).all()


def test_one_relu_layer_keeps_the_squared_length_on_average():
    """E ||diag(g'(z)) W u||^2 = ||u||^2 for He weights and zero biases, whatever a and u
    (the page's sign-flip argument), by Monte Carlo over 200 000 layers."""
    rng = np.random.default_rng(5)
    n = 6
    a, u = rng.normal(size=n), rng.normal(size=n)
    W = rng.normal(scale=np.sqrt(2 / n), size=(200_000, n, n))
    passed = (W @ a > 0) * (W @ u)
    ratio = np.sum(passed ** 2, axis=-1) / (u @ u)
    assert ratio.mean() == pytest.approx(1, abs=4 * ratio.std() / np.sqrt(ratio.size))


def test_zero_biases_leave_more_than_half_zero_and_positive_biases_do_not():
    relu_s, relu_on = page.results["ReLU, He"]
    for by_depth, on in [(relu_s, relu_on), (page.biased_s, page.biased_on)]:
        for depth in (8, 32):
            zeros = page.zero_fraction(by_depth[depth])
            assert (zeros >= 1 - on[depth] - 1e-12).all()          # at least the units off
        assert np.allclose(page.zero_fraction(by_depth[8]), 1 - on[8])  # equal at depth 8
    for depth in (8, 32):
        assert (page.zero_fraction(relu_s[depth]) > 0.5).all()
        assert (page.zero_fraction(page.biased_s[depth]) < 0.5).all()   # "fewer than half"
    biased_mean = np.mean(page.biased_s[32] ** 2, axis=-1)
    assert (biased_mean < 1e-4).all() and np.median(biased_mean) > 1e-7  # "order 1e-6"
    # "each layer multiplies it by about the share of its units that are on"
    W, b, x = page.draw(**page.biased, key=len(page.NETWORKS), depth=32)
    a, on = x, []
    for l in range(32):
        z = np.einsum("sij,sj->si", W[l], a) + b[l]
        a = np.maximum(z, 0)
        on.append(np.mean(z > 0, axis=-1))
    rate = (biased_mean / np.mean(page.biased_s[8] ** 2, axis=-1)) ** (1 / 24)
    assert np.abs(rate - np.mean(on[8:], axis=0)).max() < 0.06


def test_the_one_direction_the_tanh_network_forgets():
    # the slope of the variance map, by Monte Carlo and a finite difference
    h = np.random.default_rng(1).normal(size=4_000_000)
    def variance_map(q):
        return page.sigma_w ** 2 * np.mean(np.tanh(np.sqrt(q) * h) ** 2) + page.sigma_b ** 2
    slope = (variance_map(page.q_star * 1.01) - variance_map(page.q_star * 0.99)) \
        / (0.02 * page.q_star)
    assert page.slope == pytest.approx(slope, abs=2e-3)
    assert 0.85 < page.slope < 0.95
    assert (np.abs(page.rate - page.slope) < 0.02).all()     # in every network
    for depth in (32, 128):
        assert (page.along_x[depth] > 0.95).all()
    # the direction, found another way: the eigenvector of J^T J with the smallest
    # eigenvalue, against the input, and the printed lines
    from tests.page_output import agrees_over_seeds, line_with, run_page

    W, b, x = page.draw(**page.NETWORKS["tanh, orthogonal, critical"], key=3)
    _, printed = run_page("snippets.jacobian_spectra.spectra")
    for depth, J in page.input_output_jacobians(TANH, W, b, x)[0].items():
        _, vectors = np.linalg.eigh(J.mT @ J)
        cos = np.abs(np.einsum("si,si->s", vectors[..., 0], x)) / np.linalg.norm(x, axis=-1)
        assert_close(page.along_x[depth], cos, atol=1e-6, what=f"cos at depth {depth}")
        shown = line_with(printed, f"depth {depth:3d}: smallest s ")
        assert agrees_over_seeds(shown.split("|cos(its direction, x)| ")[1], cos), shown
    assert (page.smallest[128] < 1e-4).all()
    # the other 63 stay within a factor of a few of 1
    tanh = np.sort(page.spectra["tanh, orthogonal, critical"][128], axis=-1)
    assert np.allclose(tanh[:, 0], page.smallest[128], rtol=1e-6)
    assert (tanh[:, 1] > 0.1).all() and (tanh[:, -1] < 4).all()   # "between 0.1 and 4"
    assert ((1e-6 < page.smallest[128]) & (page.smallest[128] < 1e-5)).all()


def test_exercise_one_layer():
    assert (ex.zeros == ex.units_off).all()
    assert (ex.units_off < 50).any()            # "below a half in some layers"


def test_exercise_expectation():
    for g, variance in [(page.IDENTITY, 1.0), (page.RELU, 2.0)]:
        m = ex.mean_s2(g, variance)
        assert m.mean() == pytest.approx(1, abs=4 * m.std() / np.sqrt(m.size))
        assert np.median(m) < 0.9 and np.mean(m < 1) > 0.5


def test_exercise_gaussian_tanh():
    gaussian = {l: np.linalg.svd(J, compute_uv=False) for l, J in ex.gaussian_tanh.items()}
    assert (np.median(gaussian[32], axis=-1) < 1e-3).all()
    assert (np.mean(gaussian[32] ** 2, axis=-1) > 0.1).all()       # the mean is not gone
    orthogonal = page.spectra["tanh, orthogonal, critical"]
    assert (np.median(orthogonal[32], axis=-1) > 0.9).all()
    for depth in (32, 128):          # "2% below 0.1": the one crushed direction of 64
        assert (np.sum(orthogonal[depth] < 0.1, axis=-1) == 1).all()


def test_exercise_he_weights_with_positive_biases():
    zeros = {d: page.zero_fraction(ex.he_biased_s[d]) for d in (8, 32)}
    assert 0.4 < np.median(zeros[8]) < 0.6                         # "about half"
    assert (zeros[32] > 0.5).all()                                 # "more than half"
    assert (np.mean(ex.he_biased_s[32] ** 2, axis=-1) > 1).all()   # "it grows"
    # "Keep the biases at +0.5 but use He weights": the section's biases, and the caption's
    prose = (Path(__file__).parents[1] / "docs" / "jacobian-spectra.md").read_text()
    (kept,) = re.findall(r"Keep the biases at \\\(\+([\d.]+)\\\) but use He", prose)
    from tests.page_output import run_page
    (captioned,) = re.findall(r"He weights, biases \+([\d.]+)",
                              run_page("snippets.jacobian_spectra.exercises")[1])
    assert ex.he_biased["constant"] == page.biased["constant"] == float(kept) == float(captioned)
    assert ex.he_biased["init"] == "he" and page.biased["init"] == "gaussian"


@pytest.mark.parametrize("init", ["gaussian", "he", "orthogonal"])
def test_the_weights_are_those_of_init_weights(init):
    """Drawn at once, the same numbers as the core's init_weights drawing one at a time."""
    from snippets.bp.init import init_weights

    stacked = page.draw_weights(np.random.default_rng(3), init, (4, 7, 7), gain=1.3)
    rng = np.random.default_rng(3)
    one_by_one = np.array([init_weights(rng, 7, 7, init, gain=1.3) for _ in range(4)])
    assert stacked.shape == (4, 7, 7)
    assert_close(stacked, one_by_one, atol=1e-12, what=f"{init} weights")


def test_the_printed_tables_are_the_spectra():
    """The tables as printed (a sampled mutation run changed how a cell was computed from
    the spectra, which the tests above read from the module's arrays, and nothing failed)."""
    from tests.page_output import agrees_over_seeds, printed_as, run_page, table_rows

    run, printed = run_page("snippets.jacobian_spectra.spectra")
    keys = [(name, depth) for name, by_depth in run.spectra.items() for depth in by_depth]
    rows = table_rows(printed, f"Median of {run.SEEDS} networks per kind", len(keys))
    for cells, (name, depth) in zip(rows, keys, strict=True):
        s = page.spectra[name][depth]                       # the imported module's, the same
        assert cells[:2] == [name, str(depth)]
        assert agrees_over_seeds(cells[2], np.mean(s ** 2, axis=-1)), cells
        zeros = np.mean(s < 1e-13 * s.max(axis=-1, keepdims=True), axis=-1)   # "below 1e-13"
        assert agrees_over_seeds(cells[4], 100 * zeros), cells
        # "median s": of the networks' own medians, or "0" where most values are 0
        if np.median(zeros) > 0.5:
            assert cells[3] == "0", cells
        else:
            assert printed_as(cells[3], np.median([np.median(one) for one in s])), cells
    run_ex, printed_ex = run_page("snippets.jacobian_spectra.exercises")
    rows = table_rows(printed_ex, f"Critical tanh: median of {run.SEEDS}", 4)
    keys = [("orthogonal", d) for d in (32, 128)] + [("Gaussian", d) for d in (32, 128)]
    for cells, (weights, depth) in zip(rows, keys, strict=True):
        s = (page.spectra["tanh, orthogonal, critical"][depth] if weights == "orthogonal"
             else np.linalg.svd(run_ex.gaussian_tanh[depth], compute_uv=False))
        assert cells[:2] == [weights, str(depth)]
        assert agrees_over_seeds(cells[2], np.median(s, axis=-1)), cells
        assert agrees_over_seeds(cells[3], 100 * np.mean(s < 0.1, axis=-1)), cells
    rows = table_rows(printed_ex, f"He weights, biases +0.5: median of {run.SEEDS}", 2)
    for cells, depth in zip(rows, (8, 32), strict=True):
        s = ex.he_biased_s[depth]
        zeros = np.mean(s < 1e-13 * s.max(axis=-1, keepdims=True), axis=-1)   # "below 1e-13"
        assert cells[0] == str(depth)
        assert agrees_over_seeds(cells[1], 100 * zeros), cells
        assert agrees_over_seeds(cells[2], np.mean(s ** 2, axis=-1)), cells


def test_every_printed_range_is_in_order():
    """Each 'median (lowest–highest)' the page prints has its median between its ends."""
    from tests.page_output import run_page, spreads_in_order

    assert spreads_in_order(run_page("snippets.jacobian_spectra.spectra")[1])


def test_the_printed_relu_table_and_the_forgetting_rate():
    """The ReLU table's cells from the spectra and the forward passes' on-fractions, and the
    printed rate per layer from the smallest singular values at depths 32 and 128 (96 layers
    apart)."""
    from tests.page_output import agrees_over_seeds, line_with, run_page, table_rows

    run, printed = run_page("snippets.jacobian_spectra.spectra")
    rows = table_rows(printed, f"ReLU networks: median of {run.SEEDS}", 4)
    cases = [("0", *run.results["ReLU, He"]), ("+0.5", run.biased_s, run.biased_on)]
    keys = [(label, by_depth, on, depth) for label, by_depth, on in cases for depth in (8, 32)]
    for cells, (label, by_depth, on, depth) in zip(rows, keys, strict=True):
        s = by_depth[depth]
        assert cells[:2] == [label, str(depth)]
        assert agrees_over_seeds(cells[2], 100 * (1 - on[depth])), cells
        zeros = np.mean(s < 1e-13 * s.max(axis=-1, keepdims=True), axis=-1)
        assert agrees_over_seeds(cells[3], 100 * zeros), cells
        assert agrees_over_seeds(cells[4], np.mean(s ** 2, axis=-1)), cells
    rate = (run.smallest[128] / run.smallest[32]) ** (1 / (128 - 32))
    shown = line_with(printed, "per layer, from depth 32 to 128: x ")
    assert agrees_over_seeds(shown.split(": x ")[1].split(";")[0], rate), shown


def test_the_printed_expectations_are_those_of_the_networks_the_caption_names():
    """The exercise's table, recomputed here for the networks its caption describes (their
    number, width and depth) with the variance each row names (1 for linear Gaussian
    weights, 2 for He): every printed number, and an average of 1 within 4 of its errors."""
    from tests.page_output import printed_as, run_page, table_rows

    _, printed = run_page("snippets.jacobian_spectra.exercises")
    caption = re.search(r"^mean s² of (\d[\d\s]*) networks of width (\d+), depth (\d+)$",
                        printed, re.M)
    networks = int(re.sub(r"\s", "", caption[1]))
    width, depth = int(caption[2]), int(caption[3])
    rows = table_rows(printed, caption[0], 2)
    for (name, average, median, share), (label, g, variance) in zip(
            rows, [("linear, Gaussian", page.IDENTITY, 1.0), ("ReLU, He", page.RELU, 2.0)],
            strict=True):
        assert name == label
        m = ex.mean_s2(g, variance, networks=networks, width=width, depth=depth)
        mean, error = average.split(" ± ")
        assert printed_as(mean, m.mean()) and printed_as(error, m.std() / np.sqrt(m.size))
        assert abs(float(mean) - 1) <= 4 * float(error)
        assert printed_as(median, np.median(m))
        assert printed_as(share.rstrip("%"), 100 * np.mean(m < 1))
