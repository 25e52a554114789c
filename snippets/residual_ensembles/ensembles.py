"""Residual networks as ensembles of paths (docs/residual-ensembles.md runs these sections
in order)."""

# --8<-- [start:setup]
from dataclasses import replace
from math import comb

import numpy as np

from snippets.bp.mlp import MLP, build_mlp, build_residual_mlp
from snippets.figures import show, subplots

# --8<-- [end:setup]


# --8<-- [start:counting]
n = 54                                      # blocks of ResNet-110 on CIFAR-10
counts = np.array([comb(n, k) for k in range(n + 1)], dtype=float)
share = counts / 2.0 ** n                   # Binomial(54, 1/2)
print(f"{n} blocks: 2^{n} = {2.0 ** n:.2e} paths, mean length {n / 2:.0f}")
print(f"paths through 19 to 35 blocks: {share[19:36].sum():.1%}")
print(f"paths through  5 to 17 blocks: {share[5:18].sum():.2%}")
# --8<-- [end:counting]


# --8<-- [start:paths]
def path_gradients(branch_scale, n=n, width=32, samples=200, seed=0):
    """Mean norm of the gradient carried by one path of each length k = 0..n:
    at one input, back-propagate through the residual branch of k randomly
    chosen blocks and through the shortcut of all the others (Veit et al.)."""
    rng = np.random.default_rng(seed)
    net = build_residual_mlp(rng, width, n, branch_scale=branch_scale)
    fwd = net.forward(rng.normal(size=(1, width)))
    J = []                                 # each branch's Jacobian, W_b D W_a
    for block in range(n):
        W_a, W_b = net.layers[2 * block].W, net.layers[2 * block + 1].W
        D = net.layers[2 * block].g.df(fwd.z[2 * block + 1][0])
        J.append(W_b @ (D[:, None] * W_a))
    g = rng.normal(size=width)
    g /= np.linalg.norm(g)
    magnitude = np.empty(n + 1)
    for k in range(n + 1):
        chosen = np.array([rng.permutation(n) < k for _ in range(samples)])
        v = np.tile(g, (samples, 1))
        for block in reversed(range(n)):   # backward: gᵀ J for chosen blocks
            v = np.where(chosen[:, [block]], v @ J[block], v)
        magnitude[k] = np.linalg.norm(v, axis=1).mean()
    return magnitude


def effective_lengths(magnitude, mass=0.9):
    """Shortest range of lengths that carries ``mass`` of the total gradient
    (paths counted with their number), and the peak of that distribution."""
    total = counts * magnitude
    total /= total.sum()
    peak = int(np.argmax(total))
    lo = hi = peak
    while total[lo:hi + 1].sum() < mass:
        if hi == n or (lo > 0 and total[lo - 1] >= total[hi + 1]):
            lo -= 1
        else:
            hi += 1
    return total, peak, lo, hi


settings = {"He-initialised branches": 1.0, "branches x 0.25": 0.25}
paths = {name: path_gradients(scale) for name, scale in settings.items()}
for name, magnitude in paths.items():
    decay = (magnitude[20] / magnitude[0]) ** (1 / 20)
    total, peak, lo, hi = effective_lengths(magnitude)
    print(f"{name:<24} per block on a path x{decay:.2f}; gradient peaks at "
          f"length {peak}, 90% from lengths {lo}-{hi} "
          f"({share[lo:hi + 1].sum():.2%} of paths)")
# --8<-- [end:paths]


# --8<-- [start:paths_plot]
k = np.arange(n + 1)
fig, axes = subplots(1, 3, figsize=(11, 3.2))
axes[0].bar(k, share, color="0.6")
axes[0].set_title("(a) paths of each length")
axes[0].set_ylabel("fraction of all paths")
for (name, magnitude), style in zip(paths.items(), ["-", "--"], strict=True):
    axes[1].semilogy(k, magnitude, style, label=name)
    axes[2].plot(k, effective_lengths(magnitude)[0], style, label=name)
axes[1].set_title("(b) gradient carried by one path")
axes[2].set_title("(c) (a) x (b): where the gradient comes from")
for ax in axes:
    ax.set_xlabel("path length k (blocks)")
axes[1].legend()
show(
    fig,
    alt="Three plots against path length 0 to 54. (a) A bell-shaped bar chart "
    "of the binomial distribution of path lengths, centred at 27. (b) On a "
    "log scale, the gradient carried by one path grows with its length for "
    "He-initialised branches and falls steeply for branches scaled by 0.25. "
    "(c) The product: for He-initialised branches it peaks at long paths, "
    "beyond 27; for scaled branches it peaks at short paths, near 10.",
    caption="A 54-block residual network at initialisation. Which paths carry "
    "the gradient depends on how much a residual branch scales it: branches "
    "that amplify favour long paths, branches that shrink it, as in the "
    "trained networks Veit et al. measured, leave the gradient to short paths.",
)
# --8<-- [end:paths_plot]


# --8<-- [start:lesion]
def without_block(net, i, size):
    """``net`` with block i (layers size*i .. size*i + size - 1) deleted: the
    block's input passes straight on, and later shortcut indices shift."""
    layers = []
    for j, layer in enumerate(net.layers):
        if size * i <= j < size * (i + 1):
            continue
        if layer.skip is not None and j >= size * (i + 1):
            layer = replace(layer, skip=layer.skip - size)
        layers.append(layer)
    return MLP(layers)


def lesion(net, blocks, size, seed=1):
    """Relative change of the output when block i is deleted, for each i."""
    x = np.random.default_rng(seed).normal(size=(64, net.widths[0]))
    y = net.forward(x).a[-1]
    return np.array([np.linalg.norm(without_block(net, i, size).forward(x).a[-1] - y)
                     / np.linalg.norm(y) for i in range(blocks)])


blocks, width = 20, 32
residual = build_residual_mlp(np.random.default_rng(3), width, blocks,
                              branch_scale=0.25)
plain = build_mlp(np.random.default_rng(3), [width] * (blocks + 1))
damage = {"residual (20 blocks)": lesion(residual, blocks, 2),
          "plain (20 layers)": lesion(plain, blocks, 1)}
for name, change in damage.items():
    print(f"{name:<21} delete one block: output changes by {change.mean():.0%} "
          f"on average (from {change.min():.0%} to {change.max():.0%})")
# --8<-- [end:lesion]
