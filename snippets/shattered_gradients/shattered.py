"""Shattered gradients (docs/shattered-gradients.md runs these sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.mlp import MLP, build_mlp, build_residual_mlp
from snippets.figures import show, subplots

x = np.linspace(-2, 2, 256)[:, None]    # one input, swept over an interval
WIDTH, KINDS = 128, ("plain", "residual")


def make(kind, depth, seed, dtype=np.float64):
    """A network from 1 input to 1 output through ``depth`` hidden layers
    (plain) or ``depth`` blocks (residual, branches scaled by 1/sqrt(depth)),
    with random biases of standard deviation 0.5 (with none, a ReLU network
    of one input bends only at 0). Weights and biases come from independent
    streams, and every (kind, depth, seed) has its own."""
    streams = np.random.SeedSequence([seed, depth, KINDS.index(kind)]).spawn(2)
    rng = np.random.default_rng(streams[0])
    if kind == "plain":
        net = build_mlp(rng, [1] + [WIDTH] * depth + [1], dtype=dtype)
    else:
        net = build_residual_mlp(rng, WIDTH, depth, n_in=1, n_out=1,
                                 branch_scale=1 / np.sqrt(depth), dtype=dtype)
    rng = np.random.default_rng(streams[1])
    for layer in net.layers:
        layer.b[...] = rng.normal(scale=0.5, size=layer.b.shape)
    return net


def input_gradient(net):
    """dy/dx at every point of the sweep, by one backward pass; for a stack
    of networks, one row per network."""
    fwd = net.forward(x.astype(net.layers[0].W.dtype))
    return net.backward(fwd, np.ones_like(fwd.a[-1])).a[0][..., 0]


def autocorrelation(g, lag=1):
    """Correlation between the gradient at neighbouring points of the sweep
    (the last axis)."""
    g = g - g.mean(axis=-1, keepdims=True)
    return np.sum(g[..., lag:] * g[..., :-lag], axis=-1) / np.sum(g * g, axis=-1)
# --8<-- [end:setup]


# --8<-- [start:curves]
curves = {(kind, depth): input_gradient(make(kind, depth, seed=1, dtype=np.float32))
          for kind in KINDS for depth in (2, 24, 64)}
fig, axes = subplots(2, 3, figsize=(10, 4.4), sharex=True)
for col, depth in enumerate((2, 24, 64)):
    for row, kind in enumerate(KINDS):
        g = curves[kind, depth]
        axes[row, col].plot(x[:, 0], g / np.abs(g).max(), linewidth=0.8,
                            color=f"C{row}")
        axes[row, col].set_title(f"{kind}, {depth} "
                                 f"{'layers' if kind == 'plain' else 'blocks'}")
for ax in axes[1]:
    ax.set_xlabel("input x")
for ax in axes[:, 0]:
    ax.set_ylabel("dy/dx (scaled)")
show(
    fig,
    alt="Six line plots of the derivative of the output with respect to a "
    "scalar input, over inputs from -2 to 2. Top row, plain networks of 2, "
    "24 and 64 layers: smooth with a few kinks at 2 layers, increasingly "
    "jagged at 24 and 64. Bottom row, residual networks of 2, 24 and 64 "
    "blocks: wandering but smoother curves at every depth.",
    caption="The gradient of one output with respect to one input, as the "
    "input sweeps an interval (no normalisation, random biases). Deep plain "
    "networks' gradients change erratically between neighbouring inputs; "
    "residual networks' change smoothly.",
)
# --8<-- [end:curves]


# --8<-- [start:depth]
DEPTHS, SEEDS = [1, 2, 4, 8, 16, 32, 64], 5
# Each depth's networks, one per seed, run as one stack (float32: a statistic
# of many gradients, not a derivative check, which the tests do in float64).
correlation = {kind: np.array([autocorrelation(input_gradient(MLP.stack(
                   [make(kind, depth, seed, np.float32) for seed in range(SEEDS)])))
                   for depth in DEPTHS]) for kind in KINDS}   # (depths, seeds)
print(f"correlation of dy/dx at neighbouring inputs, median (range) of {SEEDS} networks")
print(f"{'depth':>5}" + "".join(f"{kind:>20}" for kind in KINDS))
for i, depth in enumerate(DEPTHS):
    cells = [f"{np.median(v):.2f} ({v.min():.2f}-{v.max():.2f})"
             for v in (correlation[kind][i] for kind in KINDS)]
    print(f"{depth:>5}" + "".join(f"{cell:>20}" for cell in cells))
# --8<-- [end:depth]


# --8<-- [start:depth_plot]
fig, ax = subplots(figsize=(6.4, 3.4))
for (kind, values), style in zip(correlation.items(), ["-o", "--s"], strict=True):
    line, = ax.semilogx(DEPTHS, np.median(values, axis=1), style, label=kind, base=2)
    ax.fill_between(DEPTHS, values.min(axis=1), values.max(axis=1),
                    color=line.get_color(), alpha=0.15, linewidth=0)
ax.set_xlabel("depth (hidden layers, or residual blocks)")
ax.set_ylabel("correlation of neighbouring gradients")
ax.legend()
show(
    fig,
    alt="Log-scale x axis of depth from 1 to 64 against the correlation of "
    "gradients at neighbouring inputs. The plain network's correlation falls "
    "steadily with depth; the residual network's stays near its starting "
    "value.",
    caption="How quickly gradients shatter with depth: the correlation of dy/dx "
    "between neighbouring inputs falls with depth for plain networks and "
    "stays high for residual ones.",
)
# --8<-- [end:depth_plot]
