"""Degradation: training deep plain and residual networks (docs/degradation.md runs these
sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import TANH
from snippets.bp.losses import squared_error, squared_error_grad
from snippets.bp.mlp import MLP, build_mlp, build_residual_mlp
from snippets.bp.optim import SGD
from snippets.figures import show, subplots

# The task: regress the output of a fixed random "teacher" network, 8 inputs, 512 points.
ROOT = np.random.SeedSequence(2015)   # every random stream on this page derives from it
rng = np.random.default_rng(ROOT.spawn(1)[0])
X = rng.normal(size=(512, 8))
teacher = build_mlp(rng, [8, 64, 64, 1], TANH, init="glorot", gain=1.5)
Y = teacher.forward(X).a[-1]
Y = (Y - Y.mean()) / Y.std()     # predicting 0 everywhere gives loss 0.5
X, Y = X.astype(np.float32), Y.astype(np.float32)  # trained in float32, as in practice
# --8<-- [end:setup]


# --8<-- [start:train]
KINDS = ["plain", "residual, He branches", "residual, branches start at 0"]
DEPTHS, RATES, SEEDS = [4, 20, 56], [0.001, 0.003, 0.01], 5
STEPS, BATCH, WIDTH = 300, 16, 16


def network(kind, depth, rng, dtype=np.float32):
    """``depth`` weight layers of width 16: an input layer, a body, an output
    layer. The residual body has (depth - 2) / 2 blocks of two layers."""
    if kind == "plain":
        return build_mlp(rng, [8] + [WIDTH] * (depth - 1) + [1], dtype=dtype)
    return build_residual_mlp(rng, WIDTH, (depth - 2) // 2, n_in=8, n_out=1,
                              zero_last=(kind == "residual, branches start at 0"),
                              dtype=dtype)


def streams(kind, depth):
    """For each seed, a weight stream and a mini-batch stream: independent of
    each other and of those of every other kind and depth."""
    key = np.random.SeedSequence(ROOT.entropy, spawn_key=(1, KINDS.index(kind), depth))
    return [seed.spawn(2) for seed in key.spawn(SEEDS)]


def train(kind, depth, rates=RATES):
    """Train SEEDS x len(rates) networks of one kind and depth at once, as one
    stack: network (seed, rate) starts from seed's weights and sees seed's
    mini-batches, so the rates are compared on equal terms. SGD with momentum
    0.9, mini-batches of 32. Returns the mini-batch loss averaged over every
    10 steps, shape (STEPS // 10, SEEDS, len(rates)), and the final loss on all 512
    points, (SEEDS, rates); NaN once a network has diverged."""
    nets, batches = [], []
    for weights, batch in streams(kind, depth):
        start = network(kind, depth, np.random.default_rng(weights))
        nets += [start] * len(rates)   # one copy per rate (stacking copies)
        batches.append(np.random.default_rng(batch).integers(len(X), size=(STEPS, BATCH)))
    net = MLP.stack(nets)
    opt = SGD(net, lr=np.tile(rates, SEEDS), momentum=0.9)
    idx = np.repeat(np.stack(batches, axis=1), len(rates), axis=1)  # (STEPS, nets, BATCH)
    losses = np.full((STEPS, len(nets)), np.nan, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is an outcome here
        for step in range(STEPS):
            fwd = net.forward(X[idx[step]])
            losses[step] = squared_error(fwd.a[-1], Y[idx[step]])
            if not np.isfinite(losses[step]).any():
                break                      # every network has diverged
            opt.step(net.backward(fwd, squared_error_grad(fwd.a[-1], Y[idx[step]])))
        final = squared_error(net.forward(X).a[-1], np.broadcast_to(Y, (len(nets), *Y.shape)))
    final = np.where(np.isfinite(final) & (final < 1e3), final, np.nan)
    losses[~np.isfinite(losses)] = np.nan
    curves = losses.reshape(STEPS // 10, 10, SEEDS, len(rates)).mean(axis=1)
    return curves, final.reshape(SEEDS, len(rates))
# --8<-- [end:train]


# --8<-- [start:runs]
# He-initialised branches only at 0.003: they diverge there already (see below).
runs = {(kind, depth): train(kind, depth, [0.003] if "He" in kind else RATES)
        for kind in KINDS for depth in DEPTHS}
rate = RATES.index(0.003)


def summary(final):
    """Median and range over seeds, or how many diverged."""
    if np.isnan(final).any():
        return f"{np.isnan(final).sum()} of {len(final)} diverged"
    return f"{np.median(final):.2f} ({final.min():.2f}-{final.max():.2f})"


print(f"training loss after {STEPS} steps, learning rate 0.003: median over "
      f"{SEEDS} seeds (range)")
print(f"{'':<31}" + "".join(f"{f'{d} layers':>19}" for d in DEPTHS))
for kind in KINDS:
    column = 0 if "He" in kind else rate
    print(f"{kind:<31}" + "".join(f"{summary(runs[kind, d][1][:, column]):>19}"
                                  for d in DEPTHS))
# --8<-- [end:runs]


# --8<-- [start:runs_plot]
steps = np.arange(10, STEPS + 1, 10)
fig, axes = subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, kind in zip(axes, ["plain", "residual, branches start at 0"], strict=True):
    for depth, style in zip(DEPTHS, [":", "--", "-"], strict=True):
        curves = runs[kind, depth][0][:, :, rate]
        line, = ax.semilogy(steps, np.median(curves, axis=1), style, label=f"{depth} layers")
        ax.fill_between(steps, curves.min(axis=1), curves.max(axis=1),
                        color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set_title(kind)
    ax.set_xlabel("training step")
    ax.legend()
axes[0].set_ylabel("training loss (mini-batches)")
show(
    fig,
    alt="Two log-scale plots of training loss against step, 0 to 300, for 4, "
    "20 and 56 layers, each a median line over five seeds with a shaded "
    "range. Left, plain networks: the 56-layer networks stay near 0.5, the "
    "loss of a constant prediction, and end far above the 20-layer ones. "
    "Right, residual networks whose branches start at zero: the deeper the "
    "network, the lower its loss throughout.",
    caption="Degradation at small scale, five seeds per curve (line: median, "
    "band: range). A deeper plain network trains worse than a shallower one "
    "although it could represent it; the residual network, with each block "
    "starting as the identity, improves with depth.",
)
# --8<-- [end:runs_plot]


# --8<-- [start:learning_rate]
for kind in ("plain", "residual, branches start at 0"):
    for r, lr in enumerate(RATES):
        print(f"{kind}, 56 layers, learning rate {lr}: "
              f"{summary(runs[kind, 56][1][:, r])}")
# --8<-- [end:learning_rate]


# --8<-- [start:paper]
# He, Zhang, Ren and Sun (2015): Table 2 (ImageNet, top-1 error, %, 10-crop) and
# Table 6 (CIFAR-10 test error, %).
print("ImageNet top-1 error:  plain-18 27.94   plain-34 28.54   "
      "ResNet-18 27.88   ResNet-34 25.03")
print("CIFAR-10 test error:   ResNet-20 8.75  ResNet-32 7.51  ResNet-44 7.17  "
      "ResNet-56 6.97  ResNet-110 6.43")
# --8<-- [end:paper]
