"""Shattered gradients (docs/shattered-gradients.md runs these sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.mlp import build_mlp, build_residual_mlp
from snippets.figures import show, subplots

x = np.linspace(-2, 2, 256)[:, None]    # one input, swept over an interval
WIDTH = 128


def with_biases(net, seed, std=0.5):
    """Random biases: with none, a ReLU network of one input bends only at 0."""
    rng = np.random.default_rng(seed)
    for l, layer in enumerate(net.layers, start=1):
        net = net.with_param(f"b{l}", rng.normal(scale=std, size=layer.b.shape))
    return net


def make(kind, depth, seed):
    """A network from 1 input to 1 output through ``depth`` hidden layers
    (plain) or ``depth`` blocks (residual, branches scaled by 1/sqrt(depth))."""
    rng = np.random.default_rng(seed)
    if kind == "plain":
        net = build_mlp(rng, [1] + [WIDTH] * depth + [1])
    else:
        net = build_residual_mlp(rng, WIDTH, depth, n_in=1, n_out=1,
                                 branch_scale=1 / np.sqrt(depth))
    return with_biases(net, seed)


def input_gradient(net):
    """dy/dx at every point of the sweep, by one backward pass."""
    fwd = net.forward(x)
    return net.backward(fwd, np.ones_like(fwd.a[-1])).a[0][:, 0]


def autocorrelation(g, lag=1):
    """Correlation between the gradient at neighbouring points of the sweep."""
    g = g - g.mean()
    return float(np.sum(g[lag:] * g[:-lag]) / np.sum(g * g))
# --8<-- [end:setup]


# --8<-- [start:curves]
curves = {(kind, depth): input_gradient(make(kind, depth, seed=1))
          for kind in ("plain", "residual") for depth in (2, 24, 64)}
fig, axes = subplots(2, 3, figsize=(10, 4.4), sharex=True)
for col, depth in enumerate((2, 24, 64)):
    for row, kind in enumerate(("plain", "residual")):
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
DEPTHS = [1, 2, 4, 8, 16, 32, 64]
correlation = {kind: np.array([np.mean([autocorrelation(input_gradient(
                   make(kind, depth, seed))) for seed in range(4)]) for depth in DEPTHS])
               for kind in ("plain", "residual")}
print("correlation of dy/dx at neighbouring inputs (mean of 4 networks):")
print(f"{'depth':<10}" + "".join(f"{d:>7}" for d in DEPTHS))
for kind, values in correlation.items():
    print(f"{kind:<10}" + "".join(f"{v:7.3f}" for v in values))
# --8<-- [end:depth]


# --8<-- [start:depth_plot]
fig, ax = subplots(figsize=(6.4, 3.4))
for (kind, values), style in zip(correlation.items(), ["-o", "--s"], strict=True):
    ax.semilogx(DEPTHS, values, style, label=kind, base=2)
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
