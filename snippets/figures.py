"""The one helper that turns a Matplotlib figure into a figure on the page and in a notebook.

    fig, ax = subplots(figsize=(6.4, 3.4))      # the site's style
    ...
    show(fig, alt="what the plot shows", caption="what to see in it")

:func:`show` renders the figure to SVG and hands it to whoever runs the code, as a *display*
(a MIME bundle, as Jupyter calls it), the way Jupyter's ``display`` does:

* in the site build, the runner's stdout takes displays (``sys.stdout.display``): the build
  records the figure once, and the page and the companion notebook are both made from that
  record (:func:`site_html`, :func:`notebook_bundle`);
* in Jupyter or Colab, it is displayed as an HTML figure with its caption;
* anywhere else (a terminal, a test), the same HTML is printed.

The SVG is byte-identical from run to run: a fixed ``svg.hashsalt`` names its internal ids and
no date is written. Text is drawn as paths, so no font is fetched by the reader's browser.
"""

from __future__ import annotations

import base64
import html
import io
import re
import sys

# Matplotlib is imported by the functions that draw: the site build turns stored figures
# into pages without it, and importing it costs a second.

FIGURE_MIME = "application/vnd.backprop.figure+json"
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
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    mpl.rcParams.update(SITE_RC)
    return plt.subplots(*args, **kwargs)


def figure(*args, **kwargs):
    """``plt.figure`` in the site's style (see :func:`subplots`)."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    mpl.rcParams.update(SITE_RC)
    return plt.figure(*args, **kwargs)


def figure_record(fig, *, alt: str, caption: str) -> dict:
    """Render ``fig`` to SVG and close it; return what a page or a notebook needs to show it:
    ``{"svg", "width", "height" (CSS px), "alt", "caption"}``.

    ``alt`` says what the plot shows (for a reader who cannot see it); ``caption`` says what to
    notice. Both are required: a figure without them fails here, not in review.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    if not alt.strip() or not caption.strip():
        plt.close(fig)
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
    return {"svg": svg, "width": width, "height": height, "alt": alt, "caption": caption}


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def site_html(record: dict, src: str | None = None) -> str:
    """The figure as HTML: the image (``src``, or the SVG inlined as a ``data:`` URI), its
    alt text and its caption."""
    return (
        '<figure class="bp-figure">'
        f'<img src="{src or _data_uri(record["svg"])}" alt="{html.escape(record["alt"])}" '
        f'width="{record["width"]}" height="{record["height"]}">'
        f"<figcaption>{html.escape(record['caption'], quote=False)}</figcaption>"
        "</figure>"
    )


def notebook_bundle(record: dict) -> dict:
    """The figure as Jupyter displays it: HTML (image and caption), and its alt text as the
    plain-text form, for front ends that show no HTML."""
    return {"text/html": site_html(record), "text/plain": record["alt"]}


def svg_figure(fig, *, alt: str, caption: str) -> str:
    """``fig`` as an HTML figure with its SVG inlined (see :func:`figure_record`)."""
    return site_html(figure_record(fig, alt=alt, caption=caption))


def show(fig, *, alt: str, caption: str) -> None:
    """Show ``fig`` with its alt text and caption, and close it (see the module's docstring
    for where it goes)."""
    record = figure_record(fig, alt=alt, caption=caption)
    display = getattr(sys.stdout, "display", None)
    if callable(display):                       # the site build
        display({FIGURE_MIME: record})
        return
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display as ipython_display

        ipython_display(notebook_bundle(record), raw=True)
    else:
        print(site_html(record))
