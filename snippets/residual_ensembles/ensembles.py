"""Residual networks as ensembles of paths (docs/residual-ensembles.md runs these sections
in order)."""

# --8<-- [start:setup]
from dataclasses import replace
from math import comb

import numpy as np

from snippets.bp.activations import TANH
from snippets.bp.mlp import MLP, build_mlp, build_residual_mlp
from snippets.figures import show, subplots, table

SEEDS = 5
PURPOSES = ["weights", "inputs", "directions", "orders",
            "lesion residual", "lesion plain", "lesion inputs", "similar"]


def rngs(purpose):
    """One generator per seed for one purpose: streams independent of each
    other and of every other purpose's, the same on every run."""
    i = PURPOSES.index(purpose)
    keys = [np.random.SeedSequence(2016, spawn_key=(i, s))
            for s in range(SEEDS)]
    return [np.random.default_rng(key) for key in keys]


def spread(values, fmt="{:.2f}"):
    """'median (smallest-largest)' of values over seeds."""
    values = np.asarray(values)
    low, mid, high = (fmt.format(v) for v in
                      (values.min(), np.median(values), values.max()))
    return f"{mid} ({low}–{high})"
# --8<-- [end:setup]


# --8<-- [start:similar]
width, I = 8, np.eye(8)
cases = {"near-copy layer": [], "small branch": []}
for rng in rngs("similar"):
    a = 0.1 * rng.normal(size=width)   # small: tanh is nearly linear there
    W = I + 0.01 * rng.normal(size=(width, width))
    z = W @ a                          # the layer: a_N = tanh(W a_{N−1})
    J = TANH.df(z)[:, None] * W         # diag(tanh′(z)) W
    cases["near-copy layer"].append(
        [np.linalg.norm(np.tanh(z) - a) / np.linalg.norm(a), J + I])
    V = rng.normal(size=(width, width)) / np.sqrt(width)
    x = rng.normal(size=width)         # the branch: f(x) = 0.01 tanh(V x)
    J_f = 0.01 * TANH.df(V @ x)[:, None] * V
    cases["small branch"].append(
        [np.linalg.norm(0.01 * np.tanh(V @ x) - x) / np.linalg.norm(x),
         I + J_f])


def distance(M, T):
    """‖M − T‖ / ‖T‖ (Frobenius), per seed."""
    return np.linalg.norm(M - T) / np.linalg.norm(T)


measures = {"‖out − in‖ / ‖in‖": lambda c: c[0],
            "‖B − I‖ / ‖I‖": lambda c: distance(c[1], I),
            "‖B − 2I‖ / ‖2I‖": lambda c: distance(c[1], 2 * I)}
table([[name, *(spread([f(c) for c in v], "{:.3f}") for v in cases.values())]
       for name, f in measures.items()],
      header=["", *cases],
      caption=f"A near-copy layer, a_N = tanh(W a_{{N−1}}) with W ≈ I, and "
      f"a small branch, f(x) = 0.01 tanh(V x): B is the block's Jacobian "
      f"(J_N + I, or I + J_f). Median (smallest–largest) over {SEEDS} "
      f"draws, width {width}")
# --8<-- [end:similar]


# --8<-- [start:counting]
n = 54                                      # blocks of ResNet-110 on CIFAR-10
counts = np.array([comb(n, k) for k in range(n + 1)], dtype=float)
share = counts / 2.0 ** n                   # Binomial(54, 1/2)
print(f"{n} blocks: 2^{n} = {2.0 ** n:.2e} paths, mean length {n / 2:.0f}")
print(f"paths through 19 to 35 blocks: {share[19:36].sum():.1%}")
print(f"paths through  5 to 17 blocks: {share[5:18].sum():.2%}")
# --8<-- [end:counting]


# --8<-- [start:jacobians]
def branch_jacobians(net, x):
    """J_i = W_b diag(g'(z)) W_a, the Jacobian of block i's branch at the
    input x, for a stack of residual networks: (SEEDS, blocks, width,
    width)."""
    fwd = net.forward(x)
    blocks = range(len(net.layers) // 2)
    W_a = np.stack([net.layers[2 * i].W for i in blocks], axis=1)
    W_b = np.stack([net.layers[2 * i + 1].W for i in blocks], axis=1)
    D = np.stack([net.layers[2 * i].g.df(fwd.z[2 * i + 1][:, 0])
                  for i in blocks], axis=1)
    return W_b @ (D[..., None] * W_a)
# --8<-- [end:jacobians]


# --8<-- [start:paths]
def path_norms(J, g, rank):
    """Mean norm of the gradient g carried back along one path of each
    length k = 0..n: (SEEDS, n + 1). J: (SEEDS, n, width, width).
    rank[s, j, i] is block i's place in the j-th random order of the
    blocks: the path of length k enters the branches of the first k blocks
    of the order, and the shortcuts of all the others."""
    S, n = J.shape[:2]
    samples = rank.shape[1]
    on_path = rank[:, None] < np.arange(n + 1)[:, None, None]  # (S, k, j, i)
    on_path = on_path.reshape(S, -1, n)        # a row per (k, j), as in v
    v = np.repeat(g[:, None], (n + 1) * samples, axis=1)
    for i in reversed(range(n)):   # rows: v^T J_i is (J_i^T v) transposed
        v = np.where(on_path[..., i, None], v @ J[:, i], v)
    v = v.astype(np.float64)         # squares of 1e-25 underflow float32
    norms = np.linalg.norm(v, axis=-1).reshape(S, n + 1, samples)
    return norms.mean(axis=-1)


def gradient_by_length(magnitude):
    """Share of the total gradient that paths of each length carry: their
    number times the gradient of one, normalised to sum to 1."""
    total = counts * magnitude
    return total / total.sum(axis=-1, keepdims=True)
# --8<-- [end:paths]


# --8<-- [start:paths_table]
def path_gradients(branch_scale, width=32, samples=64):
    """path_norms for SEEDS residual networks of n blocks, each at one
    random input, for a random unit gradient and random orders."""
    net = MLP.stack([build_residual_mlp(rng, width, n,
                                        branch_scale=branch_scale)
                     for rng in rngs("weights")])
    x = np.stack([rng.normal(size=(1, width)) for rng in rngs("inputs")])
    g = np.stack([rng.normal(size=width) for rng in rngs("directions")])
    g /= np.linalg.norm(g, axis=-1, keepdims=True)
    rank = np.stack([rng.random((samples, n)).argsort(-1).argsort(-1)
                     for rng in rngs("orders")])
    J = branch_jacobians(net, x).astype(np.float32)  # ample for norms,
    return path_norms(J, g.astype(np.float32), rank)  # 4 times as fast


def effective_lengths(total, mass=0.9):
    """Shortest range of lengths lo..hi around the peak that carries
    ``mass`` of the gradient (total: one network's gradient_by_length)."""
    lo = hi = int(np.argmax(total))
    while total[lo:hi + 1].sum() < mass:
        if hi == n or (lo > 0 and total[lo - 1] >= total[hi + 1]):
            lo -= 1
        else:
            hi += 1
    return lo, hi


def gain_per_block(magnitude):
    """c: the factor by which one more branch on a path scales its
    gradient (slope of log magnitude against k), one per seed."""
    slope = np.polyfit(np.arange(n + 1), np.log(magnitude).T, 1)[0]
    return np.exp(slope)


settings = {"He-initialised": 1.0, "scaled by 0.25": 0.25}
paths = {name: path_gradients(scale) for name, scale in settings.items()}
columns = []
for magnitude in paths.values():
    c = gain_per_block(magnitude)
    total = gradient_by_length(magnitude)
    lo, hi = np.median([effective_lengths(t) for t in total], 0).astype(int)
    mean = total @ np.arange(n + 1)          # mean length of the gradient
    columns.append([spread(c), f"{np.median(n * c / (1 + c)):.1f}",
                    spread(mean, "{:.1f}"),
                    spread(total.argmax(-1), "{:.0f}"), f"{lo}–{hi}",
                    f"{share[lo:hi + 1].sum():.1%}"])
names = ["gain c", "nc/(1+c)", "mean", "peak", "90% in", "of paths"]
table([[name, *cells]
       for name, *cells in zip(names, *columns, strict=True)],
      header=["", *paths],
      caption=f"{SEEDS} networks of {n} blocks, width 32: median "
      "(smallest–largest) of the gain per branch and of the mean and peak "
      "length of the gradient; the lengths that carry 90% of it (medians "
      "of the ends), and their share of all paths")
# --8<-- [end:paths_table]


# --8<-- [start:paths_plot]
k = np.arange(n + 1)
styles = dict(zip(paths, ["-", "--"], strict=True))
fig_one, ax = subplots()
for name, magnitude in paths.items():
    line, = ax.semilogy(k, np.median(magnitude, axis=0), styles[name],
                       label=name)
    ax.fill_between(k, magnitude.min(axis=0), magnitude.max(axis=0),
                    color=line.get_color(), alpha=0.2, linewidth=0)
ax.set_xlabel("path length k (blocks)")
ax.set_ylabel("gradient norm of one path")
ax.legend(loc="lower left")

fig_all, ax = subplots()
ax.axvspan(5, 17, color="0.85")
ax.plot(k, share, ":", color="0.3", label="number of paths")
for name, magnitude in paths.items():
    total = gradient_by_length(magnitude)
    line, = ax.plot(k, np.median(total, axis=0), styles[name], label=name)
    ax.fill_between(k, total.min(axis=0), total.max(axis=0),
                    color=line.get_color(), alpha=0.2, linewidth=0)
top = 1.5 * ax.get_ylim()[1]                   # room for the legend
ax.set_ylim(0, top)
ax.text(11, 0.97 * top, "Veit\net al.", ha="center", va="top")
ax.set_xlabel("path length k (blocks)")
ax.set_ylabel("share of the gradient")
ax.legend(loc="upper right")
show(
    [fig_one, fig_all],
    alt=["Log-scale plot of the gradient norm carried by one path against "
         "its length, 0 to 54 blocks, median and range over five networks. "
         "With He-initialised branches it grows steadily, by about 1.3 per "
         "block; with branches scaled by 0.25 it falls by about 0.34 per "
         "block, to about 1e-25 at 54 blocks.",
         "Share of the total gradient carried by paths of each length, 0 "
         "to 54. The number of paths is a bell curve centred at 27. With "
         "He-initialised branches the gradient comes from a bell curve "
         "centred near 31, close to zero beyond 45; with branches scaled "
         "by 0.25 from a bell curve centred near 14, close to the shaded "
         "band of 5 to 17 blocks that Veit et al. report."],
    caption="54-block residual networks at initialisation, five seeds "
    "(line: median, band: range), with He-initialised branches (solid) "
    "and branches scaled by 0.25 (dashed). Left: one more branch on a "
    "path multiplies its gradient by a fixed factor. Right: that factor "
    "times the number of paths (dotted). Amplifying branches move the peak "
    "to somewhat longer paths, not to the longest; shrinking branches move "
    "it to short paths, like the 5 to 17 blocks Veit et al. found in a "
    "trained network (grey band).",
)
# --8<-- [end:paths_plot]


# --8<-- [start:surgery]
def without_block(net, i, size):
    """``net`` with block i (layers size*i .. size*i + size - 1) deleted:
    the block's input passes straight on, later shortcut indices shift."""
    layers = []
    for j, layer in enumerate(net.layers):
        if size * i <= j < size * (i + 1):
            continue
        if layer.skip is not None and j >= size * (i + 1):
            layer = replace(layer, skip=layer.skip - size)
        layers.append(layer)
    return MLP(layers)


blocks, width = 20, 32
residual = MLP.stack([build_residual_mlp(r, width, blocks,
                                         branch_scale=0.25)
                      for r in rngs("lesion residual")])
plain = MLP.stack([build_mlp(r, [width] * (blocks + 1))
                   for r in rngs("lesion plain")])
x = np.stack([r.normal(size=(64, width)) for r in rngs("lesion inputs")])
# --8<-- [end:surgery]


# --8<-- [start:lesion]
def lesion(net, blocks, size, x):
    """Relative change of each stacked network's output when block i is
    deleted: (SEEDS, blocks). x: (SEEDS, batch, width)."""
    y = net.forward(x).a[-1]
    change = [without_block(net, i, size).forward(x).a[-1] - y
              for i in range(blocks)]
    return (np.linalg.norm(change, axis=(-2, -1))
            / np.linalg.norm(y, axis=(-2, -1))).T


damage = {"residual": lesion(residual, blocks, 2, x),
          "plain": lesion(plain, blocks, 1, x)}
percent = {name: 100 * d for name, d in damage.items()}
table([["average", *(spread(d.mean(1), "{:.0f}") for d in percent.values())],
       ["smallest", *(f"{d.min():.0f}" for d in percent.values())],
       ["largest", *(f"{d.max():.0f}" for d in percent.values())]],
      header=["change, %", *damage],
      caption="Relative change of the output when one block is deleted, "
      f"in %: median over {SEEDS} seeds (smallest–largest) of the average "
      "over the 20 blocks; the extremes over every block of every seed")
# --8<-- [end:lesion]
