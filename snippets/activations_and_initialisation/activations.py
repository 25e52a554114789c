"""Activations and initialisation (docs/activations-and-initialisation.md runs these
sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import LEAKY_RELU, RELU, SIGMOID, TANH
from snippets.bp.mlp import MLP, build_mlp
from snippets.figures import show, sig, subplots, table

ACTS = {"sigmoid": SIGMOID, "tanh": TANH, "ReLU": RELU,
        "LeakyReLU": LEAKY_RELU}
INITS = {"N(0, 1/n)": "gaussian", "Glorot": "glorot", "He": "he"}
SEEDS = 5                     # independent networks behind every random claim


def median_range(values):
    """'median (smallest–largest)' of positive values over seeds, with as
    many decimals as the spread allows: the last digit at the scale of the
    range."""
    v = np.asarray(values)
    m, lo, hi = np.median(v), v.min(), v.max()
    if not 0.01 <= m < 100 or hi == lo:
        return f"{sig(m)} ({sig(lo)}–{sig(hi)})"
    d = int(np.clip(-np.floor(np.log10(hi - lo)), 0, 3))
    return f"{m:.{d}f} ({lo:.{d}f}–{hi:.{d}f})"


def stacked_mlp(seed_seq, widths, g, **kwargs):
    """SEEDS networks of one architecture, each from its own stream, stacked
    into one MLP (parameters get a leading axis of length SEEDS)."""
    return MLP.stack([build_mlp(np.random.default_rng(s), widths, g, out_g=g,
                                **kwargs)
                      for s in seed_seq.spawn(SEEDS)])
# --8<-- [end:setup]


# --8<-- [start:facts]
x = np.linspace(-10, 10, 200_001)            # includes x = 0
rows = []
for name, g in ACTS.items():
    d = g.df(x)
    values = np.unique(d)
    kind = (" or ".join(f"{v:g}" for v in values) if len(values) <= 2
            else f"{sig(values.min())} to {values.max():g}")
    rows.append([name, f"{g.df(0.0):g}", f"{d.max():g}", kind])
table(rows, header=["g", "g'(0)", "max g'", "values of g'"],
      caption="The derivatives of four activations, on [−10, 10]")
# --8<-- [end:facts]

# --8<-- [start:tanh_gap]
gap = np.max(np.abs(TANH.df(x) - 4 * SIGMOID.df(2 * x)))
print(f"max |tanh'(x) - 4 σ'(2x)| on [-10, 10]: {gap:.1e}")
# --8<-- [end:tanh_gap]


# --8<-- [start:sweep]
def backward_factors(g, init, *, width=64, depth=20, batch=16, gain=1.0,
                     bias=0.0, seed=0):
    """Per-layer factor Var(δ_l) / Var(δ_{l+1}) of SEEDS networks, measured
    over l = 1..depth, and the factor the variance argument predicts from
    each network's own weights and pre-activations. Both: (SEEDS,)."""
    weight_ss, input_ss, grad_ss = np.random.SeedSequence(seed).spawn(3)
    nets = stacked_mlp(weight_ss, [width] * (depth + 1), g, init=init,
                       gain=gain)
    for layer in nets.layers:
        layer.b += bias                      # a constant bias, no randomness
    x = np.random.default_rng(input_ss).normal(size=(SEEDS, batch, width))
    fwd = nets.forward(x)
    grads = nets.backward(fwd, np.random.default_rng(grad_ss).normal(
        size=x.shape))
    # Var(δ_l) as the mean of δ_l² over batch and units (its mean is 0)
    var = np.stack([np.mean(grads.delta[l] ** 2, axis=(1, 2))
                    for l in range(1, depth + 1)])          # (depth, SEEDS)
    measured = (var[0] / var[-1]) ** (1 / (depth - 1))
    # n_{l+1} Var(W_{l+1}) E[g'(z_l)²] for l = 1..depth-1
    n_var_W = np.stack([width * layer.W.var(axis=(1, 2))
                        for layer in nets.layers[1:]])
    g2 = np.stack([np.mean(g.df(fwd.z[l]) ** 2, axis=(1, 2))
                   for l in range(1, depth)])
    predicted = np.exp(np.mean(np.log(n_var_W * g2), axis=0))
    return measured, predicted


sweep = {(a, i): backward_factors(ACTS[a], INITS[i]) for a in ACTS
         for i in INITS}
table([[a] + [sig(np.median(sweep[a, i][0])) for i in INITS] for a in ACTS],
      header=["g", *INITS],
      caption="Var(δ_l) / Var(δ_(l+1)), measured: median over 5 networks "
      "of 20 layers, width 64")
# --8<-- [end:sweep]


# --8<-- [start:sweep_plot]
fig, ax = subplots(figsize=(3.7, 3.6))
for k, (i, marker) in enumerate(zip(INITS, "osD", strict=True)):
    x_pos = np.arange(len(ACTS)) + (k - 1) * 0.22
    measured = np.array([sweep[a, i][0] for a in ACTS])
    predicted = np.array([np.median(sweep[a, i][1]) for a in ACTS])
    median = np.median(measured, axis=1)
    ax.errorbar(x_pos, median, yerr=[median - measured.min(axis=1),
                                     measured.max(axis=1) - median],
                fmt=marker, color=f"C{k}", label=i)
    ax.plot(x_pos, predicted, "_", color="black", markersize=16,
            markeredgewidth=1.5, label="predicted" if k == 0 else None)
ax.axhline(1.0, color="grey", linewidth=1)
ax.set_yscale("log")
ax.set_yticks([0.05, 0.1, 0.2, 0.5, 1])
ax.set_xticks(np.arange(len(ACTS)), list(ACTS))
ax.set_ylabel("Var(δ_l) / Var(δ_(l+1))")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
gap = max(np.max(np.abs(measured / predicted - 1))
          for measured, predicted in sweep.values())
show(
    fig,
    alt="Dot plot of the per-layer factor of gradient variance, on a log "
    "scale, for four activations under three initialisations, with the "
    "predicted factor as a black dash at each dot. Sigmoid lies near 0.06 "
    "to 0.1 under all three. Tanh lies just below 1 under variance 1/n and "
    "Glorot and just above 1 under He. ReLU and LeakyReLU lie at 0.5 under "
    "variance 1/n and Glorot and at 1 under He. Every dot sits on its dash.",
    caption="How much of its variance the back-propagated gradient keeps "
    "per layer (dots: median over 5 networks, bars: their range, mostly "
    "smaller than the dots), against the prediction of the variance "
    "argument (short horizontal dashes), which every one of the 60 "
    "networks meets to "
    f"within {gap:.0%}. Above the grey line the gradient grows toward the "
    "input, below it vanishes.",
)
# --8<-- [end:sweep_plot]


# --8<-- [start:failures]
# label: activation, init, width, gain, bias, the nominal prediction
# n Var(W) E[g'²] with E[g'²] as its assumption says (1/2 for ReLU, 1 for
# tanh near 0)
cases = {
    "ReLU, He": (RELU, "he", 64, 1.0, 0.0, 1.0),
    "+ biases 0.5": (RELU, "he", 64, 1.0, 0.5, 1.0),
    "+ width 8": (RELU, "he", 8, 1.0, 0.0, 1.0),
    "tanh, 4/n": (TANH, "gaussian", 64, 2.0, 0.0, 4.0),
}
failures = {}
for label, (g, init, width, gain, bias, nominal) in cases.items():
    measured, predicted = backward_factors(g, init, width=width, gain=gain,
                                           bias=bias)
    failures[label] = (nominal, predicted, measured)
table([[label, f"{nominal:g}", sig(np.median(predicted), 3),
        median_range(measured)]
       for label, (nominal, predicted, measured) in failures.items()],
      header=["network", "nominal", "equation", "measured"],
      caption="Var(δ_l) / Var(δ_(l+1)) over 20 layers, 5 networks each: "
      "predicted with E[g'(z)²] as assumed (nominal) and as measured "
      "(equation, median), against the measurement (median, smallest–"
      "largest). ReLU, He: width 64, no biases, unless changed.")
# --8<-- [end:failures]


# --8<-- [start:glorot]
def glorot_bengio(init, depth=8, width=128, batch=16, seed=1):
    """For each input scale, per layer l = 1..depth of SEEDS tanh networks
    (one set of networks for both scales): Var(δ_l), Var(∇_{W_l} L), and
    the per-layer factor predicted from each network,
    n Var(W_{l+1}) E[tanh'(z_l)²]."""
    weight_ss, input_ss, target_ss = np.random.SeedSequence(seed).spawn(3)
    nets = stacked_mlp(weight_ss, [width] * (depth + 1), TANH, init=init)
    x = np.random.default_rng(input_ss).normal(size=(SEEDS, batch, width))
    y = np.random.default_rng(target_ss).normal(size=x.shape)
    stats = {}
    for input_std in (1.0, 0.1):
        fwd = nets.forward(input_std * x)
        grads = nets.backward(fwd, (fwd.a[-1] - y) / batch)  # ½ squared error
        layers = range(1, depth + 1)
        back = np.stack([grads.delta[l].var(axis=(1, 2)) for l in layers])
        weights = np.stack([grads.W[l].var(axis=(1, 2)) for l in layers])
        predicted = np.exp(np.mean(np.log(np.stack([
            width * nets.layers[l].W.var(axis=(1, 2))
            * np.mean(TANH.df(fwd.z[l]) ** 2, axis=(1, 2))
            for l in range(1, depth)])), axis=0))
        factor = (back[0] / back[-1]) ** (1 / (depth - 1))
        stats[input_std] = {"back": back, "weights": weights,
                            "factor": factor, "predicted": predicted}
    return stats


gb = {"standard": glorot_bengio("standard"),
      "normalized": glorot_bengio("glorot")}
table([[init, f"{std:g}", sig(np.median(s["factor"])),
        sig(np.median(s["predicted"]))]
       for init in gb for std, s in gb[init].items()],
      header=["init", "input std", "measured", "predicted"],
      caption="Tanh, 8 layers of width 128: Var(δ_l) / Var(δ_(l+1)), "
      "medians over 5 networks")
# --8<-- [end:glorot]


# --8<-- [start:glorot_plot]
def glorot_panel(key, ylabel, log):
    fig, ax = subplots(figsize=(3.6, 3.5))
    for k, init in enumerate(gb):
        for std, style in ((1.0, "-o"), (0.1, "--s")):
            v = gb[init][std][key]
            ax.plot(range(1, 9), np.median(v / v[-1], axis=1), style,
                    color=f"C{k}", markersize=4,
                    label=f"{init}, input std {std:g}")
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(0, 2)
    ax.set_xlabel("layer l (1 = nearest the input)")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    return fig


fig_back = glorot_panel("back", "Var(δ_l), relative to layer 8", log=True)
fig_weights = glorot_panel("weights", "Var(∇W_l), relative to layer 8",
                           log=False)
show(
    [fig_back, fig_weights],
    alt=["Log-scale plot of the variance of the back-propagated gradient "
         "against layer 1 to 8 of a tanh network, relative to layer 8, four "
         "curves. With standard initialisation it falls toward the input by "
         "about a factor of 3 per layer for both input scales; with "
         "normalized initialisation it stays level for inputs of standard "
         "deviation 0.1 and falls slowly for inputs of standard deviation 1.",
         "Plot of the variance of the weight gradients against layer 1 to "
         "8, relative to layer 8, on a linear scale from 0 to 2, four "
         "curves: all nearly level, within a factor of 2."],
    caption="Glorot & Bengio's effect at small scale (tanh, width 128, "
    "medians over 5 networks). Left: standard initialisation shrinks the "
    "back-propagated gradient about 3 times per layer, normalized "
    "initialisation keeps it level for small inputs. Right: the weight "
    "gradients stay nearly level in every case.",
)
# --8<-- [end:glorot_plot]


# --8<-- [start:paper]
def factor(init, std):
    return sig(np.median(gb[init][std]["factor"]))


spread_W = max((s["weights"].max(axis=0) / s["weights"].min(axis=0)).max()
               for init in gb for s in gb[init].values())
table([["factor, standard", "1/3",
        f"{factor('standard', 0.1)}, {factor('standard', 1.0)}"],
       ["factor, normalized", "1",
        f"{factor('normalized', 0.1)}, {factor('normalized', 1.0)}"],
       ["Var ∇W, max / min", "about 1", f"≤ {spread_W:.2f}"],
       ["error, sigmoid", "82.61%", "—"],
       ["error, tanh", "27.15%", "—"],
       ["error, tanh normalized", "15.60%", "—"]],
      header=["", "paper", "here"],
      caption="Glorot & Bengio (2010) beside this page: the per-layer "
      "factor (here for inputs of std 0.1, then 1), the spread of the "
      "weight gradients' variance over the layers (here the largest in any "
      "network), and test errors from their Table 1 (Shapeset-3×2, five "
      "hidden layers), which need training and are not reproduced")
# --8<-- [end:paper]
