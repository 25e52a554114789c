"""The chapter's two diagrams, drawn with Matplotlib patches: a residual
block with its two backward paths, and note 001's network unrolled into its
four paths from x5 back to x1. Both are fixed drawings (no data, no
randomness), so every build draws the same picture.
"""

from __future__ import annotations

from snippets.figures import subplots

INK = "#333333"
BRANCH = "#1f77b4"      # the backward path through a branch
SHORTCUT = "#ff7f0e"    # the backward path along a shortcut


def _canvas(width, height, xlim, ylim):
    fig, ax = subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _arrow(ax, start, end, colour, *, dashed=False, rad=0.0, width=1.6):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(
        start, end, arrowstyle="-|>", mutation_scale=13, color=colour,
        linewidth=width, linestyle=(0, (4, 2.5)) if dashed else "-",
        connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))


def block_diagram():
    """A residual block y = x + F(x): the forward pass in grey, the two
    backward paths in colour. Returns the figure."""
    from matplotlib.patches import Circle, FancyBboxPatch

    fig, ax = _canvas(4.4, 3.1, (-0.2, 10.4), (0.0, 7.7))
    for centre, label in (((1.0, 3.6), "$x$"), ((8.0, 3.6), "$+$")):
        ax.add_patch(Circle(centre, 0.5, facecolor="white", edgecolor=INK,
                            linewidth=1.4))
        ax.text(*centre, label, ha="center", va="center")
    ax.add_patch(FancyBboxPatch((3.3, 4.9), 2.8, 1.1,
                                boxstyle="round,pad=0.1", facecolor="white",
                                edgecolor=INK, linewidth=1.4))
    ax.text(4.7, 5.45, "branch $F$", ha="center", va="center")
    # forward: x -> F -> +, x -> + (the shortcut), + -> y
    _arrow(ax, (1.35, 3.95), (3.2, 5.3), INK, width=1.2)
    _arrow(ax, (6.2, 5.3), (7.65, 3.95), INK, width=1.2)
    _arrow(ax, (1.5, 3.6), (7.5, 3.6), INK, width=1.2)
    _arrow(ax, (8.5, 3.6), (9.5, 3.6), INK, width=1.2)
    ax.text(9.9, 3.6, "$y$", ha="center", va="center")
    ax.text(4.5, 3.85, "shortcut", ha="center", va="bottom", color=INK,
            fontsize=11)
    # backward: along the shortcut and through the branch
    _arrow(ax, (8.0, 2.9), (1.0, 2.9), SHORTCUT, dashed=True, rad=-0.25)
    ax.text(4.5, 2.0, "$g$", ha="center", va="top", color=SHORTCUT,
            fontsize=14)
    _arrow(ax, (8.3, 4.3), (0.9, 4.4), BRANCH, dashed=True, rad=0.6)
    ax.text(4.7, 6.75, r"$J_F^{\top} g$", ha="center", va="bottom",
            color=BRANCH, fontsize=14)
    ax.text(9.0, 2.4, r"$g = \nabla_y \mathcal{L}$", ha="center", va="top",
            fontsize=14)
    ax.text(0.0, 0.6, r"$\nabla_x \mathcal{L} = J_F^{\top} g + g$",
            ha="left", va="center", fontsize=14)
    return fig


# Each path of note 001's network: its hops from x5 down, as (from, to);
# a hop between neighbours crosses a branch F_i, a longer one a shortcut.
PATH_HOPS = {
    "(a)": [(5, 4), (4, 3), (3, 2), (2, 1)],
    "(b)": [(5, 4), (4, 3), (3, 1)],
    "(c)": [(5, 3), (3, 2), (2, 1)],
    "(d)": [(5, 3), (3, 1)],
}
IN_NOTE = {"(a)": "in note", "(b)": "in note", "(c)": "dropped",
           "(d)": "dropped"}


def paths_diagram():
    """Note 001's four paths from x5 back to x1, one row each. Returns the
    figure."""
    from matplotlib.patches import Circle

    step, rows = 1.7, list(PATH_HOPS)
    fig, ax = _canvas(4.4, 3.3, (-0.9, 9.9), (-0.6, 7.4))
    col = {i: (i - 1) * step + 0.6 for i in range(1, 6)}
    top = 6.6
    for i in range(1, 6):
        ax.text(col[i], top, f"$x_{i}$", ha="center", va="center",
                fontsize=14)
    for i in range(1, 5):                      # F_i joins x_i and x_{i+1}
        ax.text((col[i] + col[i + 1]) / 2, top, f"$F_{i}$", ha="center",
                va="center", color=BRANCH, fontsize=14)
    for r, name in enumerate(rows):
        y = 5.2 - 1.55 * r
        visited = {n for hop in PATH_HOPS[name] for n in hop}
        for i in range(1, 6):
            on = i in visited
            ax.add_patch(Circle((col[i], y), 0.17,
                                facecolor=INK if on else "white",
                                edgecolor=INK if on else "#aaaaaa",
                                linewidth=1.0))
        for start, end in PATH_HOPS[name]:
            a, b = (col[start] - 0.2, y), (col[end] + 0.2, y)
            if start - end == 1:
                _arrow(ax, a, b, BRANCH)
            else:
                _arrow(ax, a, b, SHORTCUT, dashed=True, rad=0.45)
        ax.text(-0.85, y, name, ha="left", va="center")
        ax.text(9.9, y, IN_NOTE[name], ha="right", va="center",
                fontsize=11, color=INK if IN_NOTE[name] == "in note"
                else "#d62728")
    return fig
