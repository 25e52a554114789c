"""The helpers that turn computed results into what a reader sees: figures and tables.

    fig, ax = subplots()                          # one panel, in the site's style
    ...
    show(fig, alt="what the plot shows", caption="what to see in it")
    show([fig_a, fig_b], alt=["panel a shows...", "panel b shows..."], caption="...")
    table(rows, header=["depth", "plain", "residual"], caption="...")

A figure is one panel or several. Panels are drawn one by one, each small enough that every
label stays legible on a phone (12-point text on panels about 3.5 inches wide); the page lays
them side by side where there is room and stacks them where there is not, so a multi-panel
figure is never shrunk to a strip.

:func:`show` and :func:`table` hand their result to whoever runs the code, as a *display* (a
MIME bundle, as Jupyter calls it):

* in the site build, the runner's stdout takes displays (``sys.stdout.display``): the build
  records the result once, and the page and the companion notebook are both made from that
  record (:func:`site_html`, :func:`notebook_bundle`);
* in Jupyter or Colab, it is displayed as HTML;
* anywhere else (a terminal, a test), the same HTML is printed.

The SVG is byte-identical from run to run: a fixed ``svg.hashsalt`` names its internal ids and
no date is written. Text is drawn as paths, so no font is fetched by the reader's browser. The
dark palette gets its own copy of each panel (:func:`dark_svg`), with the same hues.
"""

from __future__ import annotations

import base64
import colorsys
import html
import io
import itertools
import json
import re
import sys
import weakref

# Matplotlib is imported by the functions that draw: the site build turns stored figures
# into pages without it, and importing it costs a second.

FIGURE_MIME = "application/vnd.backprop.figure+json"
TABLE_MIME = "application/vnd.backprop.table+json"
SVG_RC = {"svg.hashsalt": "backprop-from-first-principles", "svg.fonttype": "path"}
PX_PER_PT = 4 / 3
PANEL = (3.6, 2.7)   # inches: a panel's default size
# The site's look, in one place: 12-point text (at most 11 for tick labels and legends), a
# light grid at the major ticks, legends without frames.
SITE_RC = {
    "font.size": 12, "axes.titlesize": 12, "axes.labelsize": 12,
    "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": 11,
    "axes.grid": True, "axes.grid.which": "major", "grid.alpha": 0.35,
    "legend.frameon": False, "lines.linewidth": 1.8, "axes.titlepad": 4,
    "figure.figsize": PANEL,
}


def subplots(*args, **kwargs):
    """``plt.subplots`` in the site's style (one panel of the default size unless asked).
    Matplotlib reads most of these settings when an artist is made, so the style is set
    here, before the figure exists. (During the site build every block starts from
    Matplotlib's defaults again.)"""
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


def tick_label(value: float, _position=None) -> str:
    """A log axis's tick label in full-size characters: Matplotlib's default writes powers of
    ten as 10 with a superscript 70 % of the text's size, too small to read on a phone.

    >>> [tick_label(v) for v in (1e-6, 0.001, 0.5, 1, 64, 1000, 1e5)]
    ['1e−6', '0.001', '0.5', '1', '64', '1000', '1e5']
    """
    if value <= 0:
        return ""
    if 1e-3 <= value < 1e4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", "\N{MINUS SIGN}")


def sig(x: float, digits: int = 2) -> str:
    """x to ``digits`` significant digits, for tables and prose: 0.43, 84 or 3.5e−32.

    >>> [sig(v) for v in (0.4321, 84.0, 3.456e-32, 1.0)]
    ['0.43', '84', '3.5e−32', '1.0']
    """
    if 0.01 <= abs(x) < 100:
        return f"{x:#.{digits}g}".rstrip(".")
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", "−")


def _legible_log_axes(fig) -> None:
    """Full-size labels on log axes, and minor ticks only at 2 and 5 times each power of ten
    where the axis spans few decades (none where it spans many: they would be a blur, and
    Matplotlib's eight per decade made a log panel take twice as long to draw)."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    for ax in fig.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_scale() != "log":
                continue
            axis.set_major_formatter(FuncFormatter(tick_label))
            axis.set_minor_formatter(NullFormatter())
            low, high = sorted(limits)
            decades = math.log10(high / low) if low > 0 else math.inf
            axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)) if decades <= 4
                                   else NullLocator())


_MAY_LEAVE_AXES = weakref.WeakSet()


def may_leave_axes(artist):
    """Let ``artist`` run out of its panel's plotting area on purpose (a bound that grows
    past the plot, as the caption says); :func:`layout_problems` lets it pass. Returns it."""
    _MAY_LEAVE_AXES.add(artist)
    return artist


def layout_problems(fig, tolerance_px: float = 2.0) -> list[str]:
    """What a reader would find wrong in a drawn figure, one sentence each: a label outside
    its panel's plotting area or over another label, a shape that leaves the area (floating
    outside it, or cut off), a line whose data leaves it (clipped, so data go unseen), a
    median line outside its own band, an arrow through a label or into a node it should meet
    at the edge, an arrow of a diagram that starts or ends away from every node and label,
    two arrows drawn one over the other or crossing, a legend over a line, a point or a label,
    a tick placed outside its axis, a heat map that does not fill its axes. Measured as the
    figure was last drawn, so call it after ``savefig``."""
    import numpy as np
    from matplotlib.patches import Circle, FancyBboxPatch

    renderer = fig.canvas.get_renderer()
    found = []

    def outside(x0, y0, x1, y1, box):
        return (x0 < box.x0 - tolerance_px or x1 > box.x1 + tolerance_px
                or y0 < box.y0 - tolerance_px or y1 > box.y1 + tolerance_px)

    for ax in fig.axes:
        box = ax.bbox
        texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
        extents = [t.get_window_extent(renderer) for t in texts]
        for text, e in zip(texts, extents, strict=True):
            if outside(e.x0, e.y0, e.x1, e.y1, box):
                found.append(f"the label {text.get_text()!r} lies outside its axes")
        for i, (a, text) in enumerate(zip(extents, texts, strict=True)):
            for b, other in zip(extents[i + 1:], texts[i + 1:], strict=True):
                if _overlap(a, b, tolerance_px):
                    found.append(f"the labels {text.get_text()!r} and "
                                 f"{other.get_text()!r} overlap")
        for patch in ax.patches:
            if patch.get_visible() and patch not in _MAY_LEAVE_AXES:
                e = patch.get_window_extent(renderer)
                if outside(e.x0, e.y0, e.x1, e.y1, box):
                    found.append(f"a {type(patch).__name__} leaves its axes")
        for line in ax.lines:
            xy = line.get_xydata()
            if not line.get_visible() or line in _MAY_LEAVE_AXES or not len(xy):
                continue
            points = line.get_transform().transform(xy)
            points = points[np.isfinite(points).all(axis=1)]
            if len(points) and outside(*points.min(axis=0), *points.max(axis=0), box):
                found.append(f"{_line_name(line)} leaves its axes (its data there go unseen)")
        found += _lines_outside_their_bands(ax)
        found += _legend_over_data(ax, renderer, texts, extents, tolerance_px)
        found += _ticks_off_the_axis(ax)
        found += _images_not_filling_their_axes(ax)
        nodes = [p for p in ax.patches
                 if isinstance(p, Circle | FancyBboxPatch) and p.get_visible()]
        shafts = []
        for arrow, own_label in _arrows(ax, renderer):
            # the arrow as drawn (its shaft, then its head), in display coordinates
            polygons = [p for p in arrow.get_path().to_polygons(
                arrow.get_transform(), closed_only=False) if len(p)]
            points = np.concatenate([_densified(p) for p in polygons] or [np.empty((0, 2))])
            for text, e in zip(texts, extents, strict=True):
                if text is own_label:                 # an annotation points from its text
                    continue
                if _inside(points, e, tolerance_px).any():
                    found.append(f"an arrow runs through the label {text.get_text()!r}")
            for node in nodes:          # arrows join shapes at their edges
                if _well_inside(node, points, tolerance_px).any():
                    found.append(f"an arrow runs into a {type(node).__name__}")
            shaft = polygons[0] if polygons else None
            if shaft is not None and not np.array_equal(shaft[0], shaft[-1]):
                shafts.append(shaft)      # a line (a filled arrow's outline is not compared)
            if nodes and shaft is not None:   # in a diagram, an arrow joins things: both ends
                places = [n.get_window_extent(renderer) for n in nodes] + extents
                for end, point in (("starts", shaft[0]), ("ends", shaft[-1])):
                    if not any(_near(point, place, 8 * tolerance_px) for place in places):
                        found.append(f"an arrow {end} away from every node and label")
        for i, a in enumerate(shafts):
            for b in shafts[i + 1:]:
                if _length_along(a, b, tolerance_px) > 8 * tolerance_px:
                    found.append("two arrows are drawn one over the other")  # read as one
                elif _cross(a, b, 4 * tolerance_px):
                    found.append("two arrows cross")   # which goes where is then a puzzle
    return found


def _cross(a, b, margin) -> bool:
    """Whether the polylines ``a`` (n, 2) and ``b`` (m, 2), in display units, cross at a
    point that is not within ``margin`` of an end of each (arrows that leave or reach one
    node meet there)."""
    import numpy as np

    p, r = a[:-1][:, None, :], (a[1:] - a[:-1])[:, None, :]
    q, s = b[:-1][None, :, :], (b[1:] - b[:-1])[None, :, :]
    denom = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((q - p)[..., 0] * s[..., 1] - (q - p)[..., 1] * s[..., 0]) / denom
        u = ((q - p)[..., 0] * r[..., 1] - (q - p)[..., 1] * r[..., 0]) / denom
    hit = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    points = (p + np.where(hit, t, 0.0)[..., None] * r)[hit]           # (k, 2)

    def near_an_end(line):
        ends = np.stack([line[0], line[-1]])
        return np.linalg.norm(points[:, None, :] - ends[None], axis=-1).min(axis=1) <= margin

    return bool((~(near_an_end(a) & near_an_end(b))).any())


def _length_along(a, b, margin) -> float:
    """How long a stretch of the polyline ``a`` (n, 2) runs within ``margin`` of the
    polyline ``b`` (m, 2), both in display units (measured on ``a`` at 1-unit steps)."""
    import numpy as np

    points = _densified(a)                                              # (k, 2)
    start, step = b[:-1], b[1:] - b[:-1]                                # (m - 1, 2) each
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.einsum("kmd,md->km", points[:, None, :] - start[None], step) / \
            np.einsum("md,md->m", step, step)
    closest = start[None] + np.clip(np.nan_to_num(t), 0, 1)[..., None] * step[None]
    distance = np.linalg.norm(points[:, None, :] - closest, axis=-1).min(axis=1)
    return float(np.count_nonzero(distance <= margin)) * float(
        np.linalg.norm(np.diff(a, axis=0), axis=1).sum()) / max(len(points) - 1, 1)


def _ticks_off_the_axis(ax) -> list[str]:
    """Ticks placed by hand (``set_xticks``) outside the axis range are not drawn, their
    labels with them: a reader never sees a value the figure meant to name."""
    from matplotlib.ticker import FixedLocator

    found = []
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        locator = axis.get_major_locator()
        if not isinstance(locator, FixedLocator):
            continue
        low, high = sorted(axis.get_view_interval())
        slack = 1e-9 * max(abs(low), abs(high), 1.0)
        formatter = axis.get_major_formatter()
        for i, value in enumerate(locator.locs):
            if not low - slack <= value <= high + slack:
                label = formatter(value, i) or f"{value:g}"
                found.append(f"the {name} tick {label!r} lies outside the axis range "
                             f"({low:g} to {high:g}), so it is not drawn")
    return found


def _images_not_filling_their_axes(ax) -> list[str]:
    """A heat map is its panel: axes that run past the images drawn in them (ticks placed
    beyond an image widen them) leave a blank strip that reads as missing data. Images drawn
    in data coordinates only, taken together (two side by side fill one panel)."""
    images = [image for image in ax.get_images()
              if image.get_visible() and image.get_transform() is ax.transData]
    if not images:
        return []
    found = []
    extents = [image.get_extent() for image in images]   # (left, right, bottom, top) each
    for name, (low, high), ends in (("x", ax.get_xlim(), [e[:2] for e in extents]),
                                    ("y", ax.get_ylim(), [e[2:] for e in extents])):
        start, end = min(map(min, ends)), max(map(max, ends))
        slack = 1e-3 * (end - start)
        if min(low, high) < start - slack or max(low, high) > end + slack:
            found.append(f"the {name} axis ({min(low, high):g} to {max(low, high):g}) runs "
                         f"past its heat map ({start:g} to {end:g}), leaving part of the "
                         "panel blank")
    return found


def _legend_over_data(ax, renderer, texts, extents, margin) -> list[str]:
    """A legend drawn over a line, a scatter point or a label of its own axes hides them."""
    import numpy as np

    legend = ax.get_legend()
    if legend is None or not legend.get_visible():
        return []
    e = legend.get_window_extent(renderer)

    def covered(points):
        return _inside(points, e, margin).any()

    found = []
    for line in ax.lines:
        xy = line.get_xydata()
        if not line.get_visible() or not len(xy):
            continue
        points = line.get_transform().transform(xy)
        points = points[np.isfinite(points).all(axis=1)]
        if not len(points):
            continue
        if line.get_linestyle() not in ("None", "", " "):     # its segments, not only vertices
            points = _densified(points)
        if covered(points):
            found.append(f"the legend covers {_line_name(line)}")
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if collection.get_visible() and len(offsets) and len(collection.get_paths()) == 1:
            points = collection.get_offset_transform().transform(offsets)
            if covered(points[np.isfinite(points).all(axis=1)]):
                found.append("the legend covers scatter points")
    for text, t in zip(texts, extents, strict=True):
        if _overlap(t, e, margin):
            found.append(f"the legend covers the label {text.get_text()!r}")
    return found


def _line_name(line) -> str:
    label = line.get_label()
    return "an unlabelled line" if label.startswith("_") else f"the line {label!r}"


def _lines_outside_their_bands(ax) -> list[str]:
    """A line drawn in the colour of a band (a median in its range) must lie inside the
    band wherever both are drawn: a band on the wrong side of its line is a wrong number."""
    import numpy as np
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb

    found = []
    for band in ax.collections:
        if not isinstance(band, PolyCollection) or not len(band.get_facecolor()):
            continue
        colour = tuple(np.round(band.get_facecolor()[0][:3], 6))
        edge = np.concatenate([p.vertices for p in band.get_paths()])
        for line in ax.lines:
            if tuple(np.round(to_rgb(line.get_color()), 6)) != colour:
                continue
            for x, y in line.get_xydata():
                at = edge[edge[:, 0] == x, 1]
                slack = 1e-9 * np.abs(at).max(initial=abs(y))
                if len(at) and np.isfinite(y) and not (
                        at.min() - slack <= y <= at.max() + slack):
                    found.append(f"{_line_name(line)} leaves its own band at x = {x:g}")
                    break
    return found


def _inside(points, box, margin):
    """Which of ``points`` (n, 2) lie inside ``box`` by more than ``margin`` (display
    units)."""
    return ((points[:, 0] > box.x0 + margin) & (points[:, 0] < box.x1 - margin)
            & (points[:, 1] > box.y0 + margin) & (points[:, 1] < box.y1 - margin))


def _overlap(a, b, margin) -> bool:
    """Whether the boxes ``a`` and ``b`` overlap by more than ``margin`` both ways."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > margin
            and min(a.y1, b.y1) - max(a.y0, b.y0) > margin)


def _near(point, box, margin) -> bool:
    """Whether ``point`` (display units) lies within ``margin`` of the box."""
    return (box.x0 - margin <= point[0] <= box.x1 + margin
            and box.y0 - margin <= point[1] <= box.y1 + margin)


def _well_inside(patch, points, margin):
    """Which points lie inside ``patch`` by more than ``margin`` (display units)."""
    import numpy as np

    path, transform = patch.get_path(), patch.get_transform()
    return np.logical_and.reduce([path.contains_points(points + d, transform)
                                  for d in ((margin, 0), (-margin, 0), (0, margin),
                                            (0, -margin))])


def _densified(polygon, step_px: float = 1.0):
    """Points along a polygon's edges, at most ``step_px`` apart."""
    import numpy as np

    pieces = [polygon[:1]]
    for a, b in itertools.pairwise(polygon):
        n = max(int(np.hypot(*(b - a)) / step_px), 1)
        pieces.append(a + (b - a) * np.linspace(0, 1, n + 1)[1:, None])
    return np.concatenate(pieces)


def _arrows(ax, renderer):
    """The arrows drawn on ``ax``, each with the annotation it belongs to (None for an arrow
    patch)."""
    from matplotlib.patches import FancyArrowPatch

    found = [(p, None) for p in ax.patches if isinstance(p, FancyArrowPatch)]
    for text in ax.texts:
        if getattr(text, "arrow_patch", None) is not None:
            # placed in display coordinates when last drawn, and savefig drew it shifted
            # into its tight box: place it again where the figure is now
            text.update_positions(renderer)
            found.append((text.arrow_patch, text))
    return [(a, text) for a, text in found if a.get_visible()]


def panel_record(fig, alt: str) -> dict:
    """Render one panel to SVG and close it: ``{"svg", "width", "height" (CSS px), "alt"}``."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    if not alt.strip():
        plt.close(fig)
        raise ValueError("every panel of a figure needs alt text")
    _legible_log_axes(fig)
    buffer = io.StringIO()
    try:
        with mpl.rc_context(SVG_RC):
            fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight",
                        pad_inches=0.04)
        problems = layout_problems(fig)   # as drawn by savefig: no second drawing
    finally:
        plt.close(fig)
    if problems:
        raise ValueError(f"the panel {alt[:60]!r}... is not laid out for reading: "
                         + "; ".join(problems))
    svg = buffer.getvalue()
    size = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"', svg)
    width, height = (round(float(v) * PX_PER_PT) for v in size.groups())
    return {"svg": svg, "width": width, "height": height, "alt": alt}


def figure_record(figs, *, alt, caption: str) -> dict:
    """``{"panels": [panel_record, ...], "caption"}`` for one figure or a list of panels,
    with one alt text per panel. ``alt`` says what a panel shows (for a reader who cannot
    see it); ``caption`` says what to notice. Both are required: a figure without them
    fails here, not in review."""
    figs = figs if isinstance(figs, list | tuple) else [figs]
    alts = alt if isinstance(alt, list | tuple) else [alt]
    if len(alts) != len(figs):
        for fig in figs:
            __import__("matplotlib.pyplot").pyplot.close(fig)
        raise ValueError(f"{len(figs)} panels need {len(figs)} alt texts; got {len(alts)}")
    if not caption.strip():
        for fig in figs:
            __import__("matplotlib.pyplot").pyplot.close(fig)
        raise ValueError("a figure needs a caption")
    return {"panels": [panel_record(f, a) for f, a in zip(figs, alts, strict=True)],
            "caption": caption}


# Dark palette: the page's background and ink; hues keep their meaning, made lighter.
DARK_BACKGROUND = "#1e2129"


def dark_colour(colour: str) -> str:
    """The colour that plays the same part on the dark palette: greys are mirrored (black ink
    becomes light ink, the white ground the page's dark ground), hues keep their hue and
    become light enough to read on the dark ground.

    >>> dark_colour("#000000"), dark_colour("#ffffff"), dark_colour("#1f77b4")
    ('#e6e6e6', '#1e2129', '#5aaae3')
    """
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    if colour.lower() == "#ffffff":
        return DARK_BACKGROUND
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    if sat < 0.08 or max(r, g, b) - min(r, g, b) < 0.03:   # a grey
        light = 0.1 + 0.8 * (1 - light)
        r = g = b = light
    else:
        r, g, b = colorsys.hls_to_rgb(hue, max(light, 0.62), min(sat, 0.75))
    return "#" + "".join(f"{round(v * 255):02x}" for v in (r, g, b))


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b")


def dark_svg(svg: str) -> str:
    """The SVG with every colour of its drawing replaced by :func:`dark_colour` (embedded
    images, such as a heat map's, keep theirs: their colours are data). Text that names no
    colour is black by default: the root's fill makes it the dark palette's ink."""
    head, sep, rest = svg.partition("<image")
    parts = [_COLOUR.sub(lambda m: dark_colour(m[0]), head)]
    while sep:
        image, end, rest = rest.partition("/>")
        parts.append(sep + image + end)
        head, sep, rest = rest.partition("<image")
        parts.append(_COLOUR.sub(lambda m: dark_colour(m[0]), head))
    return re.sub(r"<svg\b", f'<svg fill="{dark_colour("#000000")}"', "".join(parts), count=1)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def site_html(record: dict, srcs: list[tuple[str, str]] | None = None, *,
              number: int | None = None, anchor: str | None = None,
              explorer: str | None = None) -> str:
    """The figure as the site shows it: each panel in both palettes (``srcs``: a (light,
    dark) pair of URLs per panel), a link to open it at full size, the caption, and, when
    given, its number and anchor. ``explorer`` is the URL of an interactive figure's
    definition: the page's script then draws it in place of the static panels."""
    panels = []
    for i, panel in enumerate(record["panels"]):
        light, dark = srcs[i] if srcs else (_data_uri(panel["svg"]),) * 2
        size = f'width="{panel["width"]}" height="{panel["height"]}"'
        alt = html.escape(panel["alt"])
        panels.append(
            f'<a class="bp-zoom" href="{light}" data-dark="{dark}" '
            f'title="Open at full size">'
            f'<img class="bp-light" src="{light}" alt="{alt}" {size} loading="lazy">'
            f'<img class="bp-dark" src="{dark}" alt="{alt}" {size} loading="lazy"></a>')
    label = ""
    if number is not None:
        label = f'<a class="bp-figure-number" href="#{anchor}">Figure {number}</a>. '
    attrs = ' class="bp-figure bp-explorer"' if explorer else ' class="bp-figure"'
    attrs += f' id="{anchor}"' if anchor else ""
    attrs += f' data-explorer="{explorer}"' if explorer else ""
    count = len(panels)
    return (f'<figure{attrs}><div class="bp-panels" data-panels="{count}">'
            + "".join(panels) + "</div>"
            f"<figcaption>{label}{html.escape(record['caption'], quote=False)}</figcaption>"
            "</figure>")


def notebook_bundle(record: dict) -> dict:
    """The figure as Jupyter displays it: the panels side by side (light palette), the
    caption; and the alt texts as the plain-text form, for front ends that show no HTML."""
    images = "".join(
        f'<img src="{_data_uri(p["svg"])}" alt="{html.escape(p["alt"])}" '
        f'width="{p["width"]}" height="{p["height"]}" style="max-width:100%">'
        for p in record["panels"])
    figure_html = ('<figure style="margin:0"><div style="display:flex;flex-wrap:wrap;gap:8px">'
                   f"{images}</div><figcaption>"
                   f"{html.escape(record['caption'], quote=False)}</figcaption></figure>")
    return {"text/html": figure_html,
            "text/plain": "\n".join(p["alt"] for p in record["panels"])}


def svg_figure(fig, *, alt: str, caption: str) -> str:
    """``fig`` as an HTML figure with its SVG inlined (see :func:`figure_record`)."""
    return site_html(figure_record(fig, alt=alt, caption=caption))


def _display(bundle: dict, fallback: dict) -> None:
    display = getattr(sys.stdout, "display", None)
    if callable(display):                       # the site build
        display(bundle)
        return
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display as ipython_display

        ipython_display(fallback, raw=True)
    else:                                       # a terminal: text where there is text
        print(fallback["text/plain"] if TABLE_MIME in bundle else fallback["text/html"])


def show(figs, *, alt, caption: str) -> None:
    """Show one figure (a Matplotlib figure, or a list of them as its panels, with one alt
    text each) with its caption, and close it (see the module's docstring for where it
    goes)."""
    record = figure_record(figs, alt=alt, caption=caption)
    _display({FIGURE_MIME: record}, notebook_bundle(record))


def table_record(rows, *, header, caption: str = "", align: str | None = None) -> dict:
    """``rows`` (lists of cells, numbers already formatted as text) under ``header``;
    ``align`` is one letter per column, "l" or "r" (default: the first column left, the
    others right, as numbers)."""
    rows = [[str(cell) for cell in row] for row in rows]
    header = [str(cell) for cell in header]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells, as the header has")
    align = align or "l" + "r" * (len(header) - 1)
    return {"header": header, "rows": rows, "caption": caption, "align": align}


def table_html(record: dict) -> str:
    """The table as HTML: a header row, aligned columns, the caption above it (outside the
    part that scrolls sideways on a narrow screen)."""
    def cells(tag, row):
        return "".join(f'<{tag} class="bp-{"right" if a == "r" else "left"}">'
                       f"{html.escape(cell)}</{tag}>"
                       for cell, a in zip(row, record["align"], strict=True))

    caption = (f"<figcaption>{html.escape(record['caption'])}</figcaption>"
               if record["caption"] else "")
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in record["rows"])
    return (f'<figure class="bp-table">{caption}<div class="bp-scroll">'
            f'<table class="bp-results"><thead><tr>{cells("th", record["header"])}</tr>'
            f"</thead><tbody>{body}</tbody></table></div></figure>")


def table_text(record: dict) -> str:
    """The table as aligned plain text (a terminal, or a front end without HTML)."""
    columns = list(zip(record["header"], *record["rows"], strict=True))
    widths = [max(len(cell) for cell in column) for column in columns]
    lines = [record["caption"]] if record["caption"] else []
    for row in [record["header"], *record["rows"]]:
        lines.append("  ".join(cell.ljust(w) if a == "l" else cell.rjust(w)
                               for cell, w, a in zip(row, widths, record["align"],
                                                     strict=True)).rstrip())
    return "\n".join(lines)


def table(rows, *, header, caption: str = "", align: str | None = None) -> None:
    """Show a table of results (see :func:`table_record`)."""
    record = table_record(rows, header=header, caption=caption, align=align)
    _display({TABLE_MIME: record}, {"text/html": table_html(record),
                                    "text/plain": table_text(record)})


# Interactive figures ----------------------------------------------------------------------

EXPLORER_MIME = "application/vnd.backprop.explorer+json"


def _key(values) -> str:
    return "|".join(str(v) for v in values)


def explorer(*, controls: list[dict], states: dict, x: dict, y: dict, default: tuple,
             alt: str, caption: str, band: str = "range over seeds") -> None:
    """A figure the reader changes, over results computed here, at build time.

    ``controls``: ``{"name", "label", "values": [...], "format": "{} layers"}`` each (a
    slider for numbers, a menu for text). ``states``: for every combination of the controls'
    values (a tuple, in the controls' order), the series to draw: ``{"name", "x": [...],
    "y": [...]}``, with ``"lo"`` and ``"hi"`` for a band (``band`` names it in the legend).
    ``x`` and ``y``: the axes, ``{"label", "scale": "linear" or "log", "domain": [lo, hi]}``
    (fixed, so that a change of state shows as motion). The ``default`` state is also drawn
    as a static figure with ``alt`` and ``caption``: what a reader without JavaScript, a
    printout and the notebook show, from the same numbers.
    """
    names = [c["name"] for c in controls]
    for control in controls:        # a slider with two equal stops would show one state twice
        if len(set(map(str, control["values"]))) != len(control["values"]):
            raise ValueError(f"control {control['name']!r} repeats a value: "
                             f"{control['values']}")
    for combination in states:
        if len(combination) != len(controls):
            raise ValueError(f"state {combination} needs one value per control {names}")
    missing = [s for s in _all_states(controls) if s not in states]
    if missing:
        raise ValueError(f"{len(missing)} states have no results, e.g. {missing[0]}")
    if default not in states:
        raise ValueError(f"the default state {default} is not among the states")
    colours = [f"#{''.join(f'{round(c * 255):02x}' for c in rgb)}" for rgb in _cycle()]
    definition = {"controls": controls, "x": x, "y": y, "band": band,
                  "default": _key(default),
                  "colours": {"light": colours, "dark": [dark_colour(c) for c in colours]},
                  "states": {_key(k): _rounded(v) for k, v in states.items()}}
    problems = _off_the_axes(definition["states"], x, y)     # the values as drawn
    if problems:
        raise ValueError("; ".join(problems))
    fig = static_panel(definition, definition["default"])
    record = figure_record(fig, alt=alt, caption=caption)
    # Kept as its JSON text, as the site serves it: a rebuild that takes the figure from the
    # cache writes the text as it is, instead of encoding thousands of states again.
    text = json.dumps(definition, separators=(",", ":"), sort_keys=True)
    _display({EXPLORER_MIME: {"definition": text, "static": record}},
             notebook_bundle(record))


def _off_the_axes(states: dict, x: dict, y: dict) -> list[str]:
    """A value outside a fixed axis would be drawn off the figure, in some state the reader
    may not try; an axis running far past every state's data leaves the figure partly empty
    whatever the reader picks (more than 5% of the x axis, a quarter of the y axis).
    ``states``: {key: [series]} as the figure draws them (None for a gap)."""
    import numpy as np

    found = []
    for name, axis, keys in (("x", x, ("x",)), ("y", y, ("y", "lo", "hi"))):
        if not axis.get("domain"):
            continue
        low, high = sorted(axis["domain"])
        log = axis.get("scale") == "log"
        if log and low <= 0:
            found.append(f"the log {name} axis {axis['domain']} reaches 0 or below")
            continue
        values = np.array([v for series_list in states.values() for series in series_list
                           for k in keys for v in series.get(k, []) if v is not None],
                          dtype=float)
        outside = values[(values < low) | (values > high)]
        if len(outside):
            found.append(f"{len(outside)} {name} values lie outside the {name} axis "
                         f"{axis['domain']}, e.g. {outside[0]:g}")
        elif len(values):
            ends = np.array([low, high, values.min(), values.max()])
            d_low, d_high, v_low, v_high = np.log10(ends) if log else ends
            # x: the data should span the axis; y: a value axis may leave room, but not
            # a quarter of the figure empty in every state
            room = 0.05 if name == "x" else 0.25
            if max(v_low - d_low, d_high - v_high) > room * (d_high - d_low):
                found.append(f"the {name} axis {axis['domain']} runs past the data "
                             f"({values.min():g} to {values.max():g}) in every state")
    return found


def _cycle():
    """The colours of Matplotlib's default cycle, as (r, g, b) in [0, 1]."""
    from matplotlib.colors import to_rgb

    return [to_rgb(f"C{i}") for i in range(10)]


def _all_states(controls):
    combos = [()]
    for control in controls:
        combos = [(*c, v) for c in combos for v in control["values"]]
    return combos


def _rounded(series: list[dict]) -> list[dict]:
    """Four significant digits: what a reader can see, in a fraction of the bytes."""
    out = []
    for s in series:
        item = {"name": s["name"]}
        for field in ("x", "y", "lo", "hi"):
            if field in s:
                values = [float(v) for v in s[field]] if isinstance(s[field], list) \
                    else __import__("numpy").asarray(s[field], dtype=float).tolist()
                item[field] = [None if v != v else float(f"{v:.4g}") for v in values]
        out.append(item)
    return out


def static_panel(definition: dict, key: str):
    """The Matplotlib panel of one state of an explorer (its static form)."""
    fig, ax = subplots(figsize=(4.8, 3.2))
    for i, series in enumerate(definition["states"][key]):
        colour = f"C{i}"
        ax.plot(series["x"], series["y"], color=colour, label=series["name"])
        if "lo" in series:
            ax.fill_between(series["x"], series["lo"], series["hi"], color=colour,
                            alpha=0.18, linewidth=0)
    for axis, spec in (("x", definition["x"]), ("y", definition["y"])):
        getattr(ax, f"set_{axis}scale")(spec.get("scale", "linear"))
        getattr(ax, f"set_{axis}label")(spec["label"])
        if spec.get("domain"):
            getattr(ax, f"set_{axis}lim")(*spec["domain"])
    legend = ax.legend(loc="best")
    fig.canvas.draw()
    if _legend_over_data(ax, fig.canvas.get_renderer(), [], [], 2.0):
        # Data everywhere (a jagged curve fills the panel): the legend goes below it.
        legend.remove()
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.26), frameon=False)
    return fig
