"""docs/sigmoid.md: the sigmoid, its derivative, and what the page claims about them."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pytest

from snippets.bp.activations import sigmoid, sigmoid_prime
from snippets.bp.gradcheck import assert_close, numerical_jacobian

SHAPES = [(), (1,), (7,), (4, 5), (2, 3, 2)]


def exact_sigmoid_prime(t: float) -> float:
    """An independent reference: 60-digit decimal arithmetic."""
    with localcontext() as ctx:
        ctx.prec = 60
        e = Decimal(-abs(t)).exp()
        return float(e / (1 + e) ** 2)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_jacobian_is_diag_of_sigmoid_prime(shape, seed):
    """Central differences, float64, h = 1e-6: error budget about 1e-10; tolerance 1e-9."""
    x = np.random.default_rng(seed).normal(scale=3.0, size=shape)
    J = numerical_jacobian(sigmoid, x)
    assert J.shape == shape + shape
    analytic = np.diag(sigmoid_prime(x).reshape(-1)).reshape(shape + shape)
    assert_close(analytic, J, atol=1e-9, what=f"d sigmoid / dx, shape {shape}")


def test_sigmoid_agrees_with_the_textbook_formula_where_that_is_safe():
    x = np.linspace(-30, 30, 1201)
    assert_close(sigmoid(x), 1 / (1 + np.exp(-x)), atol=0, rtol=4e-16, what="sigmoid")


def test_mirror_identity():
    x = np.random.default_rng(3).normal(scale=5, size=1000)
    assert_close(sigmoid(-x), 1 - sigmoid(x), atol=2.3e-16, what="sigma(-x) vs 1 - sigma(x)")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_overflow_anywhere(dtype):
    """pytest turns warnings into errors here, and errstate turns silent overflow into one."""
    z = np.array([-1000, -100, -40, 0, 40, 100, 1000], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, d = sigmoid(z), sigmoid_prime(z)
    assert s.dtype == d.dtype == dtype and s.shape == d.shape == z.shape
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert d[0] == d[-1] == 0.0 and d[3] == 0.25


def test_integer_input_is_computed_in_float64():
    assert sigmoid(np.array([0, 1])).dtype == np.float64


@pytest.mark.parametrize("t", [0.5, 5.0, 20.0, 36.0, 40.0, 100.0, 700.0])
def test_sigmoid_prime_keeps_relative_precision_in_the_tails(t):
    for x in (t, -t):
        exact = exact_sigmoid_prime(x)
        assert abs(sigmoid_prime(x) - exact) <= 4e-16 * exact


def test_what_the_page_prints():
    """The page's code, imported as a module: its variables are what the page shows."""
    from snippets.sigmoid import worked as page

    assert page.gap_symmetry <= 2.3e-16  # "agree to rounding"
    assert page.gap_derivative <= 1e-10  # "within that budget" (about 1e-11)
    assert page.gap_forms <= 2.3e-16
    assert page.naive_warnings == ["overflow encountered in exp"]
    assert page.stable_warnings == []
    assert page.rel_err[40.0][0] == 1.0  # all digits lost by 1 - sigma
    for t, (one_minus, mirrored) in page.rel_err.items():     # the table's errors, recomputed
        exact = exact_sigmoid_prime(t)
        s = sigmoid(t)                       # the page's σ: its rounding is the point
        assert one_minus == pytest.approx(abs(s * (1 - s) - exact) / exact, rel=1e-6, abs=1e-17)
        assert mirrored == pytest.approx(abs(s * sigmoid(-t) - exact) / exact, rel=1e-6,
                                         abs=1e-17)
    assert all(mirrored <= 4e-16 for _, mirrored in page.rel_err.values())
    # "from x = 37 on, sigma(x) rounds to exactly 1"
    assert sigmoid(36.0) < 1.0 and sigmoid(37.0) == 1.0


def test_exercises():
    from snippets.sigmoid import exercises as ex

    # 1: the largest factor is 1/4, and 4^-L < 1e-6 first at L = 10
    assert ex.best == 0.25 and 0.25 ** 9 > 1e-6 > 0.25 ** 10 and ex.layers == 10
    assert ex.at == 0.0                               # sigma' peaks at x = 0, on the grid
    # 2: tanh from sigma, to rounding, on random points too
    assert ex.gap_tanh <= 4e-16 and ex.gap_tanh_prime <= 4e-16
    # the printed gaps are the largest over the page's grid (a smallest gap would be 0 and
    # prove nothing), to the digits printed; computed on the whole grid at once, as the
    # page does (NumPy may round a lone number and an array's element differently)
    from tests.page_output import line_with, printed_as, run_page

    _, printed = run_page("snippets.sigmoid.exercises")
    x = np.asarray(ex.x)
    for label, gap in [("max |tanh(x) - (2σ(2x) - 1)|:",
                        np.abs(np.tanh(x) - (2 * sigmoid(2 * x) - 1))),
                       ("max |tanh'(x) - 4σ'(2x)|:",
                        np.abs((1 - np.tanh(x) ** 2) - 4 * sigmoid_prime(2 * x)))]:
        worst = gap.max()
        shown = line_with(printed, label).split()[-1]
        assert worst > 0 and float(shown) > 0 and printed_as(shown, worst), (label, shown)
    t = np.random.default_rng(4).normal(scale=4, size=1000)
    assert_close(2 * sigmoid(2 * t) - 1, np.tanh(t), atol=4e-16, what="tanh from sigma")
    assert_close(4 * sigmoid_prime(2 * t), 1 - np.tanh(t) ** 2, atol=4e-16,
                 what="tanh' from sigma'")
    # 3: sigma rounds to 1 where 1 + e^-x does: 24 ln 2 and 53 ln 2
    for dtype, bits in [(np.float32, 24), (np.float64, 53)]:
        first = ex.first_one(dtype)
        assert first == pytest.approx(bits * np.log(2), abs=1e-3)
        assert sigmoid(dtype(first + 1e-3)) == 1 and sigmoid(dtype(first - 1e-3)) < 1


def test_the_printed_lines_and_table():
    """What the page prints, read back and recomputed here (a sampled mutation run edited
    the naive formula, the inputs and the table's rows, and nothing above failed)."""
    import re

    from tests.page_output import NUMBER, line_with, printed_as, run_page

    _, printed = run_page("snippets.sigmoid.worked")
    # the largest gap of the mirror identity over the page's grid, which is not zero: the
    # two sides round differently somewhere (a smallest gap would be 0, at x = 0)
    x = np.linspace(-10.0, 10.0, 2001)
    worst = max(abs(sigmoid(-v) - (1 - sigmoid(v))) for v in x)
    shown = line_with(printed, "max |σ(-x) - (1 - σ(x))|").rsplit(" ", 1)[1]
    assert worst > 0 and float(shown) > 0 and printed_as(shown, worst), shown
    z = [float(v) for v in NUMBER.findall(line_with(printed, "z:"))]
    assert z == [-1000.0, -40.0, 0.0, 40.0, 1000.0]      # the prose's x = -1000 and 1000
    naive = [float(v) for v in NUMBER.findall(line_with(printed, "naive formula:"))]
    with np.errstate(over="ignore"):
        expected = [1.0 / (1.0 + np.exp(-t)) for t in z]
    assert naive == pytest.approx(expected, rel=1e-4, abs=0)
    stable = [float(v) for v in NUMBER.findall(line_with(printed, "stable sigmoid:"))]
    assert stable == pytest.approx(expected, rel=1e-4, abs=0)
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["x"])
    rows = [line.split() for line in lines[start + 1:start + 7]]
    assert [row[0] for row in rows] == ["1", "10", "20", "30", "36", "40"]
    for row in rows:
        t = float(row[0])
        exact = exact_sigmoid_prime(t)
        assert printed_as(row[3], exact)
        s = 1.0 / (1.0 + np.exp(-t))
        assert printed_as(row[1], s * (1.0 - s)) and printed_as(row[2], s / (1.0 + np.exp(t)))
    _, printed_ex = run_page("snippets.sigmoid.exercises")
    for dtype in (np.float32, np.float64):
        bits = np.finfo(dtype).nmant + 1                   # 24 and 53 significant bits
        line = line_with(printed_ex, f"{dtype.__name__}: σ(x) == 1 from x =")
        first, power, threshold = re.fullmatch(
            r".*from x = (\S+); e\^-x < 2\^-(\d+) from x = (\S+)", line).groups()
        assert power == str(bits)
        assert printed_as(threshold, bits * np.log(2)) and printed_as(first, bits * np.log(2))


def test_the_explorer_is_the_network_the_prose_describes():
    """"A 20-layer sigmoid network of width 64 (five of them...)": the figure's module
    computes with those settings, and its axis runs over every layer."""
    import re
    from pathlib import Path

    from tests.page_output import run_page

    settings, _ = run_page("snippets.sigmoid.explorer")
    prose = (Path(__file__).parents[1] / "docs" / "sigmoid.md").read_text()
    depth, width, count = re.search(
        r"follows a (\d+)-layer sigmoid network of width\s+(\d+) \((\w+) of them", prose).groups()
    words = {"three": 3, "four": 4, "five": 5, "six": 6}
    assert (settings.DEPTH, settings.WIDTH, settings.SEEDS) == (int(depth), int(width),
                                                                words[count])
    assert settings.W1.shape == (settings.DEPTH, settings.SEEDS, settings.WIDTH, settings.WIDTH)
    assert list(settings.layer_numbers) == list(range(1, int(depth) + 1))


def test_the_plot_spans_the_range_its_alt_text_gives():
    """A reader who cannot see the figure is told "over x from -8 to 8": the curves are
    drawn over exactly that range, the sigmoid and its derivative both."""
    import re

    from tests.page_output import drawn

    ((alt, (shown,)),) = [(alt, panels) for alt, panels in drawn("snippets.sigmoid.worked")
                          .items() if alt.startswith("Line plot over x from")]
    low, high = (float(v) for v in re.match(r"Line plot over x from (\S+) to (\S+?):", alt)
                 .groups())
    curves = {label: xy for label, xy in shown.lines if label in ("σ(x)", "σ′(x)")}
    assert len(curves) == 2
    for label, xy in curves.items():
        assert (xy[0, 0], xy[-1, 0]) == (low, high), label
        assert_close(xy[:, 1], (sigmoid if label == "σ(x)" else sigmoid_prime)(xy[:, 0]),
                     atol=0, what=label)
