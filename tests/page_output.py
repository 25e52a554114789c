"""What a chapter's snippets print, read back for tests: run a snippet module with its output
captured, find its tables and lines, and compare printed numbers with values recomputed
independently, to the precision they were printed with."""

from __future__ import annotations

import contextlib
import functools
import io
import re
import runpy
from types import SimpleNamespace

NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?(?:e[-+−]?\d+)?")


def run_page(module: str) -> tuple[SimpleNamespace, str]:
    """Run ``module`` afresh (even if imported before) and return its names and everything it
    printed, tables in their plain-text form. Run once per test session: later calls for the
    same module return the same run."""
    names, printed, _ = _run(module)
    return names, printed


def drawn(module: str) -> dict[str, list[SimpleNamespace]]:
    """What each figure of ``module`` drew, by its panels' alt text: one entry per axes, with
    ``lines`` [(label, xy data)], ``collections`` [[vertices of each path]] (error bars,
    bands), ``points`` [offsets of each collection] (scatter plots), ``texts`` [(text,
    position, colour)] and ``images`` [(values, (lowest, highest) of the colour scale)], as
    handed to the renderer."""
    return _run(module)[2]


def panel(module: str, alt_start: str, axes: int = 0) -> SimpleNamespace:
    """The one drawn panel of ``module`` whose alt text starts with ``alt_start``."""
    found = [panels[axes] for alt, panels in drawn(module).items() if alt.startswith(alt_start)]
    if len(found) != 1:
        raise ValueError(f"{len(found)} panels of {module} have alt text {alt_start!r}...")
    return found[0]


def band_limits(vertices, xs):
    """The lowest and highest y of a band (a fill_between polygon's vertices) at each x."""
    import numpy as np

    return np.array([(vertices[vertices[:, 0] == x, 1].min(),
                      vertices[vertices[:, 0] == x, 1].max()) for x in xs])


def spreads_in_order(printed: str) -> list[str]:
    """Every 'median (lowest–highest)' printed, each checked to be in order (a range printed
    the wrong way round is a wrong number, whatever its digits)."""
    found = re.findall(r"([-−]?[\d.]+(?:e[-+−]?\d+)?) \(([-−]?[\d.]+(?:e[-+−]?\d+)?)"
                       r"(?:–| to )([-−]?[\d.]+(?:e[-+−]?\d+)?)\)", printed)
    for m, lo, hi in found:
        m, lo, hi = (float(v.replace("−", "-")) for v in (m, lo, hi))
        if not lo <= m <= hi:
            raise AssertionError(f"printed out of order: {m} ({lo} to {hi})")
    return found


@functools.cache
def _run(module: str):
    import warnings

    import snippets.figures as figures

    panels, render = {}, figures.panel_record

    def recording(fig, alt):
        panels[alt] = [_contents(ax) for ax in fig.axes]
        return render(fig, alt)

    out = io.StringIO()
    figures.panel_record = recording
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            # running a module that a test file also imports is what "afresh" means here
            warnings.filterwarnings("ignore", "'.*' found in sys.modules", RuntimeWarning)
            names = runpy.run_module(module, run_name="page_under_test")
    finally:
        figures.panel_record = render
    return SimpleNamespace(**names), out.getvalue(), panels


def _contents(ax) -> SimpleNamespace:
    import numpy as np
    from matplotlib.colors import to_hex

    return SimpleNamespace(
        lines=[(line.get_label(), np.array(line.get_xydata())) for line in ax.lines],
        collections=[[np.array(path.vertices) for path in c.get_paths()]
                     for c in ax.collections],
        points=[np.array(c.get_offsets()) for c in ax.collections],   # of scatter plots
        texts=[(t.get_text(), t.get_position(), to_hex(t.get_color())) for t in ax.texts],
        images=[(np.array(image.get_array()), image.get_clim()) for image in ax.images])


def printed_as(text: str, value: float) -> bool:
    """Whether ``text`` is ``value`` as printed: within half a unit of its last digit.

    >>> printed_as("9.77e-04", 2.0 ** -10), printed_as("1.00e+00", 2.0 ** -10)
    (True, False)
    >>> printed_as("13.5", 13.4779), printed_as("−3", -3.2)
    (True, True)

    In scientific notation every non-zero number prints with a non-zero first digit, so a
    printed zero there is exactly zero, whatever the unit of its last digit:

    >>> printed_as("0.0e+00", 2e-16), printed_as("0.0e+00", 0.0)
    (False, True)
    """
    text = text.replace("−", "-")
    if not NUMBER.fullmatch(text):
        raise ValueError(f"not a printed number: {text!r}")
    mantissa, _, exponent = text.partition("e")
    if exponent and float(mantissa) == 0:
        return value == 0
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** (int(exponent or 0) - decimals)
    return abs(float(text) - value) <= 0.5 * unit * (1 + 1e-9)


def median_range(text: str) -> tuple[str, str, str]:
    """'m (lo to hi)' or 'm (lo–hi)' -> ('m', 'lo', 'hi')."""
    match = re.fullmatch(r"(\S+) \((\S+?)(?: to |–)(\S+)\)", text)
    if match is None:
        raise ValueError(f"not 'median (smallest to largest)': {text!r}")
    return match.groups()


def agrees_over_seeds(text: str, values) -> bool:
    """Whether 'median (smallest to largest)' is what ``values`` give, as printed."""
    import numpy as np

    m, lo, hi = median_range(text)
    v = np.asarray(values, dtype=float)
    return printed_as(m, float(np.median(v))) and printed_as(lo, v.min()) \
        and printed_as(hi, v.max())


def table_rows(printed: str, caption_start: str, n_rows: int) -> list[list[str]]:
    """The cells of the ``n_rows`` rows of the printed table whose caption starts with
    ``caption_start``, header excluded (columns are separated by two spaces or more)."""
    lines = printed.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(caption_start)]
    if len(starts) != 1:
        raise ValueError(f"{len(starts)} tables with caption {caption_start!r}")
    rows = lines[starts[0] + 2: starts[0] + 2 + n_rows]
    return [re.split(r"\s{2,}", row.strip()) for row in rows]


def line_with(printed: str, start: str) -> str:
    """The one printed line that starts with ``start``."""
    found = [line for line in printed.splitlines() if line.startswith(start)]
    if len(found) != 1:
        raise ValueError(f"{len(found)} printed lines start with {start!r}")
    return found[0]


def numbers_in(line: str) -> list[str]:
    """The numbers of a printed line, as printed.

    >>> numbers_in("‖M^t‖ rises to 13.5 at t = 6; ‖M^100‖ = 1.3e-03")
    ['13.5', '6', '100', '1.3e-03']
    """
    return NUMBER.findall(line)
