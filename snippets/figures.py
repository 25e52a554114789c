"""The one helper that turns a Matplotlib figure into a figure on the page.

    fig, ax = subplots(figsize=(6.4, 3.4))      # the site's style
    ...
    show(fig, alt="what the plot shows", caption="what to see in it")

prints an HTML ``<figure>`` whose image is the SVG itself (a ``data:`` URI), so a page carries
its figures with it and a build needs no files beside the page. The SVG is byte-identical from
run to run: a fixed ``svg.hashsalt`` names its internal ids and no date is written. Text is
drawn as paths, so no font is fetched by the reader's browser.
"""

from __future__ import annotations

import base64
import html
import io
import re
import sys

import matplotlib as mpl
import matplotlib.pyplot as plt

SVG_RC = {"svg.hashsalt": "backprop-from-first-principles", "svg.fonttype": "path"}
PX_PER_PT = 4 / 3
# The site's look, in one place: a light grid (minor lines too on log axes), legends
# without frames, small titles.
SITE_RC = {
    "axes.grid": True, "axes.grid.which": "both", "grid.alpha": 0.3,
    "legend.frameon": False, "legend.fontsize": 8, "axes.titlesize": 10,
}


def subplots(*args, **kwargs):
    """``plt.subplots`` in the site's style. Matplotlib reads most of these settings
    when an artist is made, so the style is set here, before the figure exists.
    (During the site build every block starts from Matplotlib's defaults again.)"""
    mpl.rcParams.update(SITE_RC)
    return plt.subplots(*args, **kwargs)


def figure(*args, **kwargs):
    """``plt.figure`` in the site's style (see :func:`subplots`)."""
    mpl.rcParams.update(SITE_RC)
    return plt.figure(*args, **kwargs)


def svg_figure(fig, *, alt: str, caption: str) -> str:
    """Render ``fig`` as an HTML figure with alt text and a caption, and close it.

    ``alt`` says what the plot shows (for a reader who cannot see it); ``caption`` says what to
    notice. Both are required: a figure without them fails here, not in review.
    """
    if not alt.strip() or not caption.strip():
        raise ValueError("a figure needs both alt text and a caption")
    buffer = io.StringIO()
    try:
        with mpl.rc_context(SVG_RC):
            fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    finally:
        plt.close(fig)
    svg = buffer.getvalue()
    size = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"', svg)
    width, height = (round(float(v) * PX_PER_PT) for v in size.groups())
    data = base64.b64encode(svg.encode()).decode()
    return (
        '<figure class="bp-figure">'
        f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}" '
        f'width="{width}" height="{height}">'
        f"<figcaption>{html.escape(caption, quote=False)}</figcaption>"
        "</figure>"
    )


def show(fig, *, alt: str, caption: str) -> None:
    """Show ``fig`` as a figure (see :func:`svg_figure`) and close it: printed as HTML for the
    site build, which puts what a block prints on the page; displayed as HTML in Jupyter."""
    html_figure = svg_figure(fig, alt=alt, caption=caption)
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import HTML, display

        display(HTML(html_figure))
    else:
        print(html_figure)
