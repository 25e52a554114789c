"""Shattered gradients (docs/shattered-gradients.md runs these sections in
order; tests/test_shattered_gradients.py checks what they show)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import RELU
from snippets.bp.mlp import MLP, build_mlp, build_residual_mlp
from snippets.figures import may_leave_axes, show, subplots, table

x = np.linspace(-2, 2, 256)[:, None]    # one input, swept over an interval
WIDTH, KINDS, SEEDS = 32, ("plain", "residual"), 5
DEPTHS = [1, 2, 4, 8, 16, 32, 64]


def make(kind, depth, seed):
    """A network from 1 input to 1 output through ``depth`` hidden layers
    (plain) or ``depth`` blocks (residual, branches scaled by
    1/sqrt(depth)), with random biases of standard deviation 0.5 (with
    none, a ReLU network of one input bends only at 0). Weights and biases
    come from independent streams; every (kind, depth, seed) has its own."""
    entropy = [seed, depth, KINDS.index(kind)]
    streams = np.random.SeedSequence(entropy).spawn(2)
    rng = np.random.default_rng(streams[0])
    if kind == "plain":
        net = build_mlp(rng, [1] + [WIDTH] * depth + [1])
    else:
        net = build_residual_mlp(rng, WIDTH, depth, n_in=1, n_out=1,
                                 branch_scale=1 / np.sqrt(depth))
    rng = np.random.default_rng(streams[1])
    for layer in net.layers:
        layer.b[...] = rng.normal(scale=0.5, size=layer.b.shape)
    return net


def relus(kind, depth):
    """How many ReLUs a network has (residual: its input layer's too)."""
    return WIDTH * (depth if kind == "plain" else depth + 1)


def spread(values, fmt=".2f"):
    """'median (min–max)' of the seeds' values."""
    lo, mid, hi = np.min(values), np.median(values), np.max(values)
    return f"{mid:{fmt}} ({lo:{fmt}}–{hi:{fmt}})"


def autocorrelation(g, lag=1):
    """Correlation between the gradient at neighbouring points of the sweep
    (the last axis)."""
    g = g - g.mean(axis=-1, keepdims=True)
    return (np.sum(g[..., lag:] * g[..., :-lag], axis=-1)
            / np.sum(g * g, axis=-1))
# --8<-- [end:setup]


# --8<-- [start:gradients]
def input_gradient(net, x=x):
    """dy/dx at every point of the sweep, by one backward pass; for a stack
    of networks, one row per network."""
    fwd = net.forward(x)
    return net.backward(fwd, np.ones_like(fwd.a[-1])).a[0][..., 0]


# The five networks of each kind and depth run as one stack
nets = {(kind, depth): MLP.stack([make(kind, depth, seed)
                                  for seed in range(SEEDS)])
        for kind in KINDS for depth in DEPTHS}
gradients = {key: input_gradient(net) for key, net in nets.items()}
# --8<-- [end:gradients]


# --8<-- [start:curves]
panels = []
for kind in KINDS:
    fig, ax = subplots(figsize=(3.6, 3.2))
    for offset, depth in [(7, 2), (0, 64)]:
        g = gradients[kind, depth]
        c = autocorrelation(g)
        g = g[np.argsort(c)[SEEDS // 2]]   # the median-correlation one
        ax.plot(x[:, 0], offset + (g - g.mean()) / g.std(), linewidth=1.2,
                color="C0" if kind == "plain" else "C1")
        unit = "layers" if kind == "plain" else "blocks"
        ax.text(-2.1, offset + 2.6, f"{depth} {unit}", va="bottom")
    ax.set_ylim(min(-4, ax.dataLim.y0 - 0.3), 11.5)   # every jag in view
    ax.set_yticks([])
    ax.set_title(kind)
    ax.set_xlabel("input x")
    ax.set_ylabel("dy/dx (standardised)")
    panels.append(fig)
show(
    panels,
    alt=[
        "Two curves of the derivative of a plain ReLU network's output "
        "with respect to its scalar input, for inputs from -2 to 2, each "
        "standardised. Two layers (top): piecewise constant, with steps "
        "at several dozen inputs. Sixty-four layers (bottom): jagged, "
        "changing erratically from one input to the next.",
        "The same for a residual network: with two blocks (top) and with "
        "sixty-four blocks (bottom) the derivative wanders, with small "
        "steps, and changes much less from one input to the next.",
    ],
    caption="The gradient of the output with respect to the input, as the "
    "input sweeps an interval, for one network of each kind (width 32, no "
    "normalisation, random biases), each curve standardised to mean 0 and "
    "standard deviation 1. The deep plain network's gradient changes "
    "erratically between neighbouring inputs; the deep residual network's "
    "changes much less.",
)
# --8<-- [end:curves]


# --8<-- [start:depth]
correlation = {kind: np.array([autocorrelation(gradients[kind, depth])
                               for depth in DEPTHS])      # (depths, seeds)
               for kind in KINDS}
plain, residual = correlation["plain"], correlation["residual"]
for kind, values in correlation.items():
    print(f"median, depths {DEPTHS[0]}-{DEPTHS[-1]}, {kind}:",
          " ".join(f"{v:.2f}" for v in np.median(values, axis=1)))
print("plain, depth 64 below depth 1 in every network:",
      bool((plain[-1] < plain[0].min()).all()))
print("residual above 0.9 at every depth, in every network:",
      bool((residual > 0.9).all()))
print("depths where the median plain network is below the median residual:",
      [d for d, p, r in zip(DEPTHS, plain, residual, strict=True)
       if np.median(p) < np.median(r)])
print("depths where every plain network is below every residual one:",
      [d for d, p, r in zip(DEPTHS, plain, residual, strict=True)
       if p.max() < r.min()])
# --8<-- [end:depth]


# --8<-- [start:depth_plot]
fig, ax = subplots(figsize=(4.4, 3.2))
for (kind, values), marker in zip(correlation.items(), "os", strict=True):
    line, = ax.plot(DEPTHS, np.median(values, axis=1), marker=marker,
                    label=f"{kind}, median")
    ax.fill_between(DEPTHS, values.min(axis=1), values.max(axis=1),
                    color=line.get_color(), alpha=0.15, linewidth=0)
    ax.plot(np.repeat(DEPTHS, SEEDS), values.ravel(), marker, markersize=3,
            linestyle="none", color=line.get_color(), alpha=0.6)
ax.set_xscale("log", base=2)
ax.set_xticks(DEPTHS, [str(d) for d in DEPTHS])
ax.set_xlabel("depth (hidden layers, or residual blocks)")
ax.set_ylabel("correlation of neighbours")
ax.legend(loc="lower left")
show(
    fig,
    alt="Correlation of the gradient at neighbouring inputs against "
    "depth, from 1 to 64 on a log scale, for five plain and five residual "
    "networks at each depth, with the median as a line and the range "
    "shaded. The plain networks' correlation falls from about 0.98 at "
    "depth 1 to between 0.4 and 0.75 at depth 64; the residual networks' "
    "stays between 0.9 and 1 at every depth.",
    caption="How quickly gradients shatter with depth: the correlation of "
    "dy/dx between neighbouring inputs, for five networks of each kind and "
    "depth (dots), their median (line) and range (shaded).",
)
# --8<-- [end:depth_plot]


# --8<-- [start:pieces]
def add_knots(knots, values, s, k, t):
    """Knots (S, K) and arrays of values at them (S, K, n), with a new knot
    a fraction t of the way from knot k to knot k + 1 of network s, where
    the values are interpolated: sorted, and padded with copies of the last
    knot for the networks that gain fewer."""
    S, K = knots.shape
    new = np.bincount(s, minlength=S)
    slot = K + np.arange(len(s)) - np.repeat(np.cumsum(new) - new, new)
    out = []
    for v in [knots[..., None], *values]:
        w = np.repeat(v[:, -1:], K + new.max(), axis=1)
        w[:, :K] = v
        w[s, slot] = v[s, k] + t[:, None] * (v[s, k + 1] - v[s, k])
        out.append(w)
    order = np.argsort(out[0], axis=1, kind="stable")
    out = [np.take_along_axis(w, order, axis=1) for w in out]
    return out[0][..., 0], out[1:]


def linear_pieces(net, lo=-2.0, hi=2.0):
    """Every point of [lo, hi] where a ReLU of the network switches, exactly:
    the knots (networks, K), sorted, and the output y at each (networks, K).
    Between two neighbouring knots every pre-activation is linear in x, so
    a unit switches there at most once, where linear interpolation puts its
    zero."""
    S, N = net.stack_shape[0], len(net.layers)
    knots = np.tile([lo, hi], (S, 1))
    needed = {layer.skip: l for l, layer in enumerate(net.layers, start=1)
              if layer.skip is not None}     # a_j is last needed by layer l
    a = {0: knots[..., None]}                # a_j at the knots, (S, K, n_j)
    for l, layer in enumerate(net.layers, start=1):
        z = a[l - 1] @ layer.W.mT + layer.b[:, None, :]
        if layer.skip is not None:
            z += a[layer.skip]
        a = {j: v for j, v in a.items() if needed.get(j, 0) > l}
        if layer.g is RELU:                  # unit i switches in (k, k + 1)
            on = z > 0
            s, k, i = np.nonzero(on[:, 1:] != on[:, :-1])
            t = z[s, k, i] / (z[s, k, i] - z[s, k + 1, i])
            knots, (z, *kept) = add_knots(knots, [z, *a.values()], s, k, t)
            a = dict(zip(a, kept, strict=True))
        a[l] = layer.g(z)
    return knots, a[N][..., 0]


def count_pieces(knots):
    """Pieces between distinct knots, per network."""
    return np.sum(np.diff(knots, axis=-1) > 0, axis=-1)


knots = {key: linear_pieces(net) for key, net in nets.items()}
pieces = {kind: np.array([count_pieces(knots[kind, depth][0])
                          for depth in DEPTHS]) for kind in KINDS}
for kind in KINDS:
    per_relu = pieces[kind] / np.array([[relus(kind, d)] for d in DEPTHS])
    print(f"{kind}: pieces per ReLU {per_relu.min():.2f} to "
          f"{per_relu.max():.2f}; at depth 64, "
          f"{spread(pieces[kind][-1], '.0f')} pieces")
for depth in (8, 64):
    print(f"most a plain network of depth {depth} could have: at least "
          f"{WIDTH}^{depth} = {float(WIDTH) ** depth:.1e}")
# --8<-- [end:pieces]


# --8<-- [start:pieces_plot]
fig, ax = subplots(figsize=(4.4, 3.6))
for (kind, counts), marker in zip(pieces.items(), "os", strict=True):
    n = [relus(kind, d) for d in DEPTHS]
    line, = ax.plot(n, np.median(counts, axis=1), marker=marker,
                    label=f"{kind} (median)")
    ax.plot(np.repeat(n, SEEDS), counts.ravel(), marker, markersize=3,
            linestyle="none", color=line.get_color(), alpha=0.6)
ax.plot([32, 4096], [32, 4096], "--", color="0.5", linewidth=1,
        label="one piece per ReLU")
L = np.arange(1, 4)
bound, = ax.plot(WIDTH * L, float(WIDTH) ** L, ":", color="0.2",
                 label=f"most possible (≥ {WIDTH}^depth)")
may_leave_axes(bound)                        # it rises out of the plot
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlim(16, 4096)
ax.set_ylim(1, 8192)
ax.set_xlabel("ReLUs in the network")
ax.set_ylabel("linear pieces on [−2, 2]")
ax.legend(loc="lower right")
show(
    fig,
    alt="Log-log plot of the number of linear pieces of dy/dx on the "
    "interval against the number of ReLUs, from 32 to about 2000, for "
    "five plain and five residual networks at each depth. Both kinds lie "
    "close to and below the line of one piece per ReLU, growing in "
    "proportion to the number of ReLUs; a dotted curve for the most "
    "pieces possible rises out of the plot before 128 ReLUs.",
    caption="How many linear pieces the networks have on [−2, 2], counted "
    "exactly, against how many ReLUs they have: five networks of each kind "
    "and depth (dots) and their median (line). The count grows about in "
    "proportion to the number of ReLUs, slightly less for deep networks, "
    "far below the exponential growth that the most possible allows "
    "(dotted).",
)
# --8<-- [end:pieces_plot]


# --8<-- [start:jumps]
def slope_jumps(knots, y):
    """For each network: the slopes dy/dx of its pieces, and the jumps
    between neighbouring pieces."""
    out = []
    for k, v in zip(knots, y, strict=True):
        length = np.diff(k)
        slope = np.diff(v)[length > 0] / length[length > 0]
        out.append((slope, np.diff(slope)))
    return out


rows = []
for kind in KINDS:
    for depth in (8, 64):
        jumps = [np.sqrt(np.mean(jump ** 2)) / np.std(slope) for slope, jump
                 in slope_jumps(*knots[kind, depth])]
        i = DEPTHS.index(depth)
        rows.append([kind, f"{depth}", f"{np.median(pieces[kind][i]):.0f}",
                     spread(jumps), spread(correlation[kind][i])])
table(rows, header=["network", "depth", "pieces", "jump / spread of dy/dx",
                    "correlation"],
      caption=f"Median of {SEEDS} networks (range in brackets)")
# --8<-- [end:jumps]
