"""Degradation: training deep plain and residual networks (docs/degradation.md runs these
sections in order)."""

# --8<-- [start:setup]
from dataclasses import dataclass, replace

import numpy as np

from snippets.bp.activations import TANH
from snippets.bp.losses import squared_error, squared_error_grad
from snippets.bp.mlp import MLP, build_mlp, build_residual_mlp
from snippets.bp.optim import SGD
from snippets.figures import show, subplots, table

# The task: regress the output of a fixed random "teacher" network, 8
# inputs, 512 points. Every random stream on this page derives from ROOT.
ROOT = np.random.SeedSequence(2015)
rng = np.random.default_rng(ROOT.spawn(1)[0])
X = rng.normal(size=(512, 8))
teacher = build_mlp(rng, [8, 64, 64, 1], TANH, init="glorot", gain=1.5)
Y = teacher.forward(X).a[-1]
Y = (Y - Y.mean()) / Y.std()     # predicting 0 everywhere gives loss 0.5
X, Y = X.astype(np.float32), Y.astype(np.float32)  # trained in float32
# --8<-- [end:setup]


# --8<-- [start:model]
KINDS = ["plain", "residual, He branches", "residual, branches start at 0"]
DEPTHS, RATES, SEEDS = [4, 20, 56], [0.001, 0.003, 0.01], 5
STEPS, BATCH, WIDTH = 300, 16, 16


def network(kind, depth, rng, dtype=np.float32):
    """``depth`` weight layers of width 16: an input layer, a body, an
    output layer. The residual body has (depth - 2) / 2 blocks of two."""
    if kind == "plain":
        return build_mlp(rng, [8, *[WIDTH] * (depth - 1), 1], dtype=dtype)
    return build_residual_mlp(rng, WIDTH, (depth - 2) // 2, n_in=8, n_out=1,
                              zero_last=kind.endswith("start at 0"),
                              dtype=dtype)


def streams(kind, depth):
    """For each seed, a weight stream and a mini-batch stream: independent
    of each other and of those of every other kind and depth."""
    key = np.random.SeedSequence(
        ROOT.entropy, spawn_key=(1, KINDS.index(kind), depth))
    return [seed.spawn(2) for seed in key.spawn(SEEDS)]


def initial(kind, depth):
    """The SEEDS networks of a kind and depth as training starts them, as
    one stack."""
    return MLP.stack([network(kind, depth, np.random.default_rng(weights))
                      for weights, _ in streams(kind, depth)])


@dataclass
class Run:
    """curves: mini-batch loss averaged over every 10 steps, (STEPS // 10,
    SEEDS, rates); final: loss on all 512 points after training, (SEEDS,
    rates), NaN once a network has diverged; net: the trained stack, its
    networks in the order (seed, rate); rates: the learning rates."""

    curves: np.ndarray
    final: np.ndarray
    net: MLP
    rates: list
# --8<-- [end:model]


# --8<-- [start:train]
def train(kind, depth, rates=RATES):
    """Train SEEDS x len(rates) networks of one kind and depth at once, as
    one stack: network (seed, rate) starts from seed's weights and sees
    seed's mini-batches, so the rates are compared on equal terms. SGD with
    momentum 0.9, mini-batches of BATCH points, STEPS steps."""
    nets, batches = [], []
    for weights, batch in streams(kind, depth):
        start = network(kind, depth, np.random.default_rng(weights))
        nets += [start] * len(rates)   # one copy per rate (stacking copies)
        batches.append(np.random.default_rng(batch).integers(
            len(X), size=(STEPS, BATCH)))
    net = MLP.stack(nets)
    opt = SGD(net, lr=np.tile(rates, SEEDS), momentum=0.9)
    idx = np.repeat(np.stack(batches, 1), len(rates), 1)  # (STEPS, net, BATCH)
    losses = np.full((STEPS, len(nets)), np.nan, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence happens
        for step in range(STEPS):
            fwd, y = net.forward(X[idx[step]]), Y[idx[step]]
            losses[step] = squared_error(fwd.a[-1], y)
            if not np.isfinite(losses[step]).any():
                break                      # every network has diverged
            opt.step(net.backward(fwd, squared_error_grad(fwd.a[-1], y)))
        final = squared_error(net.forward(X).a[-1],
                              np.broadcast_to(Y, (len(nets), *Y.shape)))
    final = np.where(np.isfinite(final) & (final < 1e3), final, np.nan)
    losses[~np.isfinite(losses)] = np.nan
    curves = losses.reshape(STEPS // 10, 10, SEEDS, len(rates)).mean(axis=1)
    return Run(curves, final.reshape(SEEDS, len(rates)), net, list(rates))
# --8<-- [end:train]


# --8<-- [start:runs]
# Branches with He initialisation only at 0.003: they diverge there already.
runs = {(kind, depth): train(kind, depth, [0.003] if "He" in kind else RATES)
        for kind in KINDS for depth in DEPTHS}
rate = RATES.index(0.003)
PLAIN, HE, ZERO = KINDS
# --8<-- [end:runs]


# --8<-- [start:runs_table]
def summary(final):
    """Median and range over seeds, or how many diverged."""
    if np.isnan(final).any():
        return f"{np.isnan(final).sum()} of {len(final)} diverged"
    return f"{np.median(final):.2f} ({final.min():.2f}–{final.max():.2f})"



table([[f"{depth}", *(summary(runs[kind, depth].final[:, rate])
                      for kind in (PLAIN, ZERO))] for depth in DEPTHS],
      header=["layers", "plain", "residual"],
      caption=f"Training loss after {STEPS} steps at learning rate 0.003, "
      f"on all 512 points: median over {SEEDS} seeds (smallest–largest); "
      "residual networks with every branch started at 0")
# --8<-- [end:runs_table]


# --8<-- [start:runs_plot]
steps = np.arange(10, STEPS + 1, 10)
panels = []
for kind in (PLAIN, ZERO):
    fig, ax = subplots()
    for depth, style in zip(DEPTHS, [":", "--", "-"], strict=True):
        curves = runs[kind, depth].curves[:, :, rate]
        line, = ax.semilogy(steps, np.median(curves, axis=1), style,
                            label=f"{depth} layers")
        ax.fill_between(steps, curves.min(axis=1), curves.max(axis=1),
                        color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set_ylim(0.005, 3)      # the same scale in both; room for the legend
    ax.set_title("plain" if kind == PLAIN else "residual, branches at 0")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss")
    ax.legend(loc="lower left" if kind == PLAIN else "upper right")
    panels.append(fig)
show(
    panels,
    alt=["Log-scale plot of the training loss of plain networks against "
         "the step, 0 to 300, for 4, 20 and 56 layers, each a median line "
         "over five seeds with a shaded range. The 56-layer networks stay "
         "near 0.5, the loss of a constant prediction; the 4- and 20-layer "
         "ones fall to below 0.1.",
         "The same for residual networks whose branches start at zero: all "
         "three depths fall quickly, the deeper ones lower, to about 0.03 "
         "for 56 layers."],
    caption="Training loss on the mini-batches at learning rate 0.003, "
    "five seeds per depth (line: median, band: range), both panels on the "
    "same scale. Left: a deeper plain network trains worse, although it "
    "could represent the shallower one. Right: with each block starting as "
    "the identity, the residual network does not degrade.",
)
# --8<-- [end:runs_plot]


# --8<-- [start:he_branches]
def one_digit(x):
    """One significant digit (the seeds spread over orders of magnitude)."""
    if 0.01 <= x < 1e4:
        return f"{float(f'{x:.1g}'):g}"      # 88 -> 90, not 9e+01
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def spread_of(v):
    """'median (smallest–largest)' over seeds, to one digit."""
    return (f"{one_digit(np.median(v))} "
            f"({one_digit(v.min())}–{one_digit(v.max())})")


he_spread = {depth: initial(HE, depth).forward(X).a[-1].std(axis=(-2, -1))
             for depth in DEPTHS}          # at initialisation, per seed
table([[f"{depth}", summary(runs[HE, depth].final[:, 0]),
        spread_of(he_spread[depth])] for depth in DEPTHS],
      header=["layers", "loss after training", "output spread"],
      caption=f"Residual networks whose branches are He-initialised, rate "
      f"0.003, median over {SEEDS} seeds (smallest–largest): the training "
      "loss, and the spread of the output over the 512 points at "
      "initialisation (the targets' is 1)")
# --8<-- [end:he_branches]


# --8<-- [start:learning_rate]
rows = []
for depth in DEPTHS:
    rows.append([f"{depth}-layer", "", ""])
    rows += [[f"{lr}", *(summary(runs[kind, depth].final[:, r])
                         for kind in (PLAIN, ZERO))]
             for r, lr in enumerate(RATES)]
table(rows, header=["η", "plain", "residual"],
      caption=f"Training loss after {STEPS} steps at each learning rate η: "
      f"median over {SEEDS} seeds (smallest–largest), or how many "
      "diverged")
# --8<-- [end:learning_rate]


# --8<-- [start:gradients]
def probe(net):
    """On all 512 points, for every network of a stack: the norm of the
    gradient of every layer's weights, (layers, networks), and the spread
    (standard deviation) of the output over the points, (networks,)."""
    fwd = net.forward(X)
    y = np.broadcast_to(Y, fwd.a[-1].shape)
    grads = net.backward(fwd, squared_error_grad(fwd.a[-1], y))
    norms = [np.linalg.norm(W, axis=(-2, -1)) for W in grads.W[1:]]
    return np.array(norms), fwd.a[-1].std(axis=(-2, -1))


def at_rate(net, r):
    """The networks of a trained stack that were trained at RATES[r]."""
    return MLP([replace(layer, W=layer.W[r::len(RATES)],
                        b=layer.b[r::len(RATES)]) for layer in net.layers])


profiles, columns = {}, {}
for depth in (20, 56):
    start, spread = probe(initial(PLAIN, depth))      # before training
    end, _ = probe(at_rate(runs[PLAIN, depth].net, rate))  # after
    profiles[depth] = start                        # every layer, for a figure
    columns[f"plain {depth}"] = {"g₁ start": start[0],  # g_l = |grad W_l|
                                 "g₁/g_N": start[0] / start[-1],
                                 "spread": spread, "g₁ end": end[0]}
table([[name, *(spread_of(c[name]) for c in columns.values())]
       for name in columns["plain 20"]],
      header=["", *columns],
      caption=f"Plain networks of 20 and 56 layers, learning rate 0.003, "
      f"on all 512 points, median over {SEEDS} seeds (smallest–largest). "
      "g₁: the norm of the gradient of the first layer's weights, at the "
      "start and after 300 steps; g₁/g_N: its ratio to the last layer's, "
      "at the start; spread: the output's standard deviation over the "
      "points, at the start")
# --8<-- [end:gradients]


# --8<-- [start:gradients_plot]
fig, ax = subplots()
for depth, colour in ((20, "#1f77b4"), (56, "#ff7f0e")):
    norms = profiles[depth]                       # (layers, seeds)
    lines = ax.semilogy(np.arange(1, depth + 1), norms, color=colour,
                        linewidth=1.2)
    lines[0].set_label(f"{depth} layers, 5 seeds")
ax.set_ylim(1e-7, 10)                           # room for the legend
ax.set_xlabel("layer l (1: input side)")
ax.set_ylabel("gradient norm, layer l")
ax.legend(loc="lower right")
show(
    fig,
    alt="Log-scale plot of the norm of the gradient of each layer's "
    "weights against the layer, at initialisation: five lines for the "
    "20-layer plain networks, around 0.1, and five for the 56-layer ones, "
    "two of them near 0.05 and three between 1e-5 and 1e-2. Each line is "
    "roughly level from the last layer to the first.",
    caption="Plain networks at initialisation: the gradient norm of every "
    "layer's weights on all 512 points, one line per seed. In three of "
    "the five 56-layer networks the gradient is small at every layer, not "
    "only near the input.",
)
# --8<-- [end:gradients_plot]


# --8<-- [start:paper]
# He, Zhang, Ren and Sun (2015): Table 2 (ImageNet, top-1 error, %,
# 10-crop testing) and Table 6 (CIFAR-10 test error, %).
table([["ImageNet", "plain-18", "27.94"], ["ImageNet", "plain-34", "28.54"],
       ["ImageNet", "ResNet-18", "27.88"],
       ["ImageNet", "ResNet-34", "25.03"],
       ["CIFAR-10", "ResNet-20", "8.75"], ["CIFAR-10", "ResNet-32", "7.51"],
       ["CIFAR-10", "ResNet-44", "7.17"], ["CIFAR-10", "ResNet-56", "6.97"],
       ["CIFAR-10", "ResNet-110", "6.43"]],
      header=["data", "network", "error, %"], align="llr",
      caption="He, Zhang, Ren and Sun (2015): top-1 error on ImageNet "
      "validation, 10-crop testing (their Table 2), and test error on "
      "CIFAR-10 (their Table 6)")
# --8<-- [end:paper]
