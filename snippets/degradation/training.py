"""Degradation: training deep plain and residual networks (docs/degradation.md runs these
sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import TANH
from snippets.bp.losses import squared_error, squared_error_grad
from snippets.bp.mlp import build_mlp, build_residual_mlp
from snippets.bp.optim import SGD
from snippets.figures import show, subplots

# The task: regress the output of a fixed random "teacher" network, 8 inputs, 512 points.
rng = np.random.default_rng(0)
X = rng.normal(size=(512, 8))
teacher = build_mlp(rng, [8, 64, 64, 1], TANH, init="glorot", gain=1.5)
Y = teacher.forward(X).a[-1]
Y = (Y - Y.mean()) / Y.std()     # predicting 0 everywhere gives loss 0.5
# --8<-- [end:setup]


# --8<-- [start:train]
def train(net, steps=300, lr=0.003, batch=128, seed=0):
    """SGD with momentum 0.9 on mini-batches; the loss on all 512 points every
    10 steps. A run whose numbers overflow is stopped and marked as diverged."""
    rng = np.random.default_rng(seed)
    opt = SGD(net, lr=lr, momentum=0.9)
    curve = []
    try:
        with np.errstate(over="raise", invalid="raise"):
            for step in range(steps + 1):
                if step % 10 == 0:
                    curve.append(squared_error(net.forward(X).a[-1], Y))
                if step == steps:
                    break
                idx = rng.integers(len(X), size=batch)
                fwd = net.forward(X[idx])
                opt.step(net.backward(fwd, squared_error_grad(fwd.a[-1], Y[idx])))
    except FloatingPointError:
        curve.append(np.inf)             # diverged: the rest of the curve is lost
    return np.array(curve)


def network(kind, depth, seed=1):
    """``depth`` weight layers of width 32: an input layer, a body, an output
    layer. The residual body has (depth - 2) / 2 blocks of two layers."""
    rng = np.random.default_rng(seed)
    if kind == "plain":
        return build_mlp(rng, [8] + [32] * (depth - 1) + [1])
    return build_residual_mlp(rng, 32, (depth - 2) // 2, n_in=8, n_out=1,
                              zero_last=(kind == "residual, branches start at 0"))
# --8<-- [end:train]


# --8<-- [start:runs]
KINDS = ["plain", "residual, He branches", "residual, branches start at 0"]
DEPTHS = [4, 20, 56]
curves = {(kind, depth): train(network(kind, depth)) for kind in KINDS
          for depth in DEPTHS}
print(f"{'training loss after 300 steps':<31}" + "".join(f"{d:>10} layers"
                                                          for d in DEPTHS))
for kind in KINDS:
    cells = [f"{curves[kind, d][-1]:10.4f}" if np.isfinite(curves[kind, d][-1])
             else f"{'diverged':>10}" for d in DEPTHS]
    print(f"{kind:<31}" + "".join(f"{c:>17}" for c in cells))
# --8<-- [end:runs]


# --8<-- [start:runs_plot]
fig, axes = subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, kind in zip(axes, ["plain", "residual, branches start at 0"], strict=True):
    for depth, style in zip(DEPTHS, [":", "--", "-"], strict=True):
        ax.semilogy(np.arange(0, 301, 10), curves[kind, depth], style,
                    label=f"{depth} layers")
    ax.set_title(kind)
    ax.set_xlabel("training step")
    ax.legend()
axes[0].set_ylabel("training loss (all 512 points)")
show(
    fig,
    alt="Two log-scale plots of training loss against step, 0 to 300, for 4, "
    "20 and 56 layers. Left, plain networks: the 56-layer network stays near "
    "0.5 for about a hundred steps and ends well above the 20-layer one. "
    "Right, residual networks whose branches start at zero: the 56-layer "
    "network ends lowest of the three.",
    caption="Degradation at small scale. A deeper plain network trains worse "
    "than a shallower one although it could represent it; the residual "
    "network, with each block starting as the identity, improves with depth.",
)
# --8<-- [end:runs_plot]


# --8<-- [start:learning_rate]
for kind in ("plain", "residual, branches start at 0"):
    curve = train(network(kind, 56), lr=0.01)
    fate = (f"diverged at step {10 * (len(curve) - 2)} to {10 * (len(curve) - 1)}"
            if not np.isfinite(curve[-1]) else f"final loss {curve[-1]:.4f}")
    print(f"{kind}, 56 layers, learning rate 0.01: {fate}")
# --8<-- [end:learning_rate]


# --8<-- [start:paper]
# He, Zhang, Ren and Sun (2015): Table 2 (ImageNet, top-1 error, %, 10-crop) and
# Table 6 (CIFAR-10 test error, %).
print("ImageNet top-1 error:  plain-18 27.94   plain-34 28.54   "
      "ResNet-18 27.88   ResNet-34 25.03")
print("CIFAR-10 test error:   ResNet-20 8.75  ResNet-32 7.51  ResNet-44 7.17  "
      "ResNet-56 6.97  ResNet-110 6.43")
# --8<-- [end:paper]
