"""Activations and initialisation (docs/activations-and-initialisation.md runs these
sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import LEAKY_RELU, RELU, SIGMOID, TANH
from snippets.bp.mlp import build_mlp
from snippets.figures import show, subplots

ACTS = {"sigmoid": SIGMOID, "tanh": TANH, "ReLU": RELU, "LeakyReLU": LEAKY_RELU}
INITS = {"N(0, 1/n)": "gaussian", "Glorot": "glorot", "He": "he"}
# --8<-- [end:setup]


# --8<-- [start:facts]
x = np.linspace(-10, 10, 200_001)            # includes x = 0
for name, g in ACTS.items():
    d = g.df(x)
    values = np.unique(d)
    kind = (f"only the values {values.tolist()}" if len(values) <= 2
            else f"values from {values.min():.1e} to {values.max():.4f}")
    print(f"{name:<10} g'(0) = {g.df(0.0):.4f}, max g' = {d.max():.4f}, "
          f"{kind}")
gap = np.max(np.abs(TANH.df(x) - 4 * SIGMOID.df(2 * x)))
print(f"max |tanh'(x) - 4 σ'(2x)| = {gap:.1e}")
# --8<-- [end:facts]


# --8<-- [start:sweep]
def gradient_variances(g, init, depth=30, width=128, batch=64, seed=0):
    """Var of dL/dz_l for l = 1..depth, relative to the last layer, for a
    random direction dL/da_N (only the shape of the profile matters)."""
    rng = np.random.default_rng(seed)
    net = build_mlp(rng, [width] * (depth + 1), g, init=init, out_g=g)
    fwd = net.forward(rng.normal(size=(batch, width)))
    grads = net.backward(fwd, rng.normal(size=(batch, width)))
    var = np.array([np.mean(grads.delta[l] ** 2) for l in range(1, depth + 1)])
    return var / var[-1]


variances = {(a, i): gradient_variances(ACTS[a], INITS[i])
             for a in ACTS for i in INITS}
print("Var(dL/dz_1) / Var(dL/dz_30), depth 30, width 128:")
print(f"{'':<10}" + "".join(f"{i:>12}" for i in INITS))
for a in ACTS:
    print(f"{a:<10}" + "".join(f"{variances[a, i][0]:12.1e}" for i in INITS))
# --8<-- [end:sweep]


# --8<-- [start:sweep_plot]
fig, axes = subplots(1, 4, figsize=(11, 3.0), sharey=True)
for ax, a in zip(axes, ACTS, strict=True):
    for i, style in zip(INITS, ["-", "--", ":"], strict=True):
        ax.semilogy(range(1, 31), variances[a, i], style, label=i)
    ax.set_title(a)
    ax.set_xlabel("layer l")
axes[0].set_ylabel("Var(dL/dz_l), relative")
axes[0].legend()
show(
    fig,
    alt="Four log-scale panels, one per activation (sigmoid, tanh, ReLU, "
    "LeakyReLU), each with three curves of gradient variance against layer "
    "1 to 30 for three initialisations. Sigmoid falls steeply under all "
    "three. Tanh stays level with variance 1/n and Glorot and rises toward "
    "the input with He. ReLU and LeakyReLU fall with variance 1/n and "
    "Glorot and stay level with He.",
    caption="Back-propagated gradient variance per layer, 30 layers. The "
    "same activation vanishes, holds or grows depending on the "
    "initialisation; only sigmoid loses under all three.",
)
# --8<-- [end:sweep_plot]


# --8<-- [start:glorot]
def glorot_bengio(init, input_std, depth=8, width=256, batch=512, seed=0):
    """Per layer l = 1..depth of a tanh network: Var(dL/dz_l), Var(dL/dW_l),
    and the factor per layer that the variance analysis predicts between
    dL/dz_{l+1} and dL/dz_l, n Var(W_{l+1}) E[tanh'(z_l)^2]."""
    rng = np.random.default_rng(seed)
    net = build_mlp(rng, [width] * (depth + 1), TANH, init=init, out_g=TANH)
    x = input_std * rng.normal(size=(batch, width))
    y = rng.normal(size=(batch, width))
    fwd = net.forward(x)
    grads = net.backward(fwd, (fwd.a[-1] - y) / batch)
    layers = range(1, depth + 1)
    predicted = [width * net.layers[l].W.var() * np.mean(TANH.df(fwd.z[l]) ** 2)
                 for l in range(1, depth)]
    return {"back-propagated": np.array([grads.delta[l].var() for l in layers]),
            "weight gradients": np.array([grads.W[l].var() for l in layers]),
            "predicted": np.array(predicted)}


gb = {(init, std): glorot_bengio(scheme, std)
      for init, scheme in [("standard", "standard"), ("normalized", "glorot")]
      for std in (1.0, 0.1)}
print(f"{'initialisation':<15} {'input std':>9} {'shrink per layer':>17} "
      f"{'predicted':>10} {'weight-grad max/min':>20}")
for (init, std), stats in gb.items():
    back = stats["back-propagated"]
    measured = (back[-1] / back[0]) ** (1 / (len(back) - 1))
    predicted = 1 / np.exp(np.mean(np.log(stats["predicted"])))
    weights = stats["weight gradients"]
    print(f"{init:<15} {std:9.1f} {measured:16.2f}x {predicted:9.2f}x "
          f"{weights.max() / weights.min():20.2f}")


def factor(init, std):
    back = gb[init, std]["back-propagated"]
    return (back[-1] / back[0]) ** (1 / (len(back) - 1))


def spread(init):
    return max(gb[init, std]["weight gradients"].max()
               / gb[init, std]["weight gradients"].min() for std in (1.0, 0.1))
# --8<-- [end:glorot]


# --8<-- [start:glorot_plot]
fig, axes = subplots(1, 2, figsize=(9, 3.2))
styles = ["-o", "-s", "--o", "--s"]
for ax, quantity in zip(axes, ["back-propagated", "weight gradients"],
                        strict=True):
    for (init, std), style in zip(gb, styles, strict=True):
        ax.semilogy(range(1, 9), gb[init, std][quantity], style,
                    label=f"{init}, input std {std}", markersize=4)
    ax.set_title(f"Var of {quantity}" if quantity == "weight gradients" else
                 "Var of back-propagated gradients dL/dz_l")
    ax.set_xlabel("layer l (1 = nearest the input)")
    ax.legend()
show(
    fig,
    alt="Two log-scale plots against layer 1 to 8 of a tanh network, four "
    "curves each. Left: the variance of back-propagated gradients falls "
    "steeply toward the input with standard initialisation, for both input "
    "scales; with normalized initialisation it is level for small inputs "
    "and falls by a factor of "
    f"{factor('normalized', 1.0) ** 7:.0f} over eight layers for unit inputs. "
    "Right: the variance of weight "
    "gradients is nearly level in all four cases.",
    caption="Glorot & Bengio's effect at small scale (tanh, width 256). "
    "Standard initialisation shrinks the back-propagated gradient about 3 "
    "times per layer while weight gradients stay level; normalized "
    "initialisation keeps both level for small inputs, and leaves a factor "
    f"of {factor('normalized', 1.0):.1f} per layer for unit inputs.",
)
# --8<-- [end:glorot_plot]


# --8<-- [start:paper]
# Glorot & Bengio (2010): their analysis of gradients at initialisation, and Table 1
paper = [
    ("shrink per layer, standard", "3 (n Var W = 1/3)",
     f"{factor('standard', 0.1):.2f} (std 0.1), "
     f"{factor('standard', 1.0):.2f} (std 1)"),
    ("weight-gradient variance", "about equal per layer",
     f"max/min {max(spread('standard'), spread('normalized')):.2f}"),
    ("shrink per layer, normalized", "1 (n Var W = 1)",
     f"{factor('normalized', 0.1):.2f} (std 0.1), "
     f"{factor('normalized', 1.0):.2f} (std 1)"),
    ("test error, Table 1", "sigmoid 82.61%,", "not reproduced"),
    ("(Shapeset 32x32, 5 layers)", "tanh 27.15%, tanh", ""),
    ("", "normalized 15.60%", ""),
]
print(f"{'':<29}{'Glorot & Bengio (2010)':<24}this page")
for quantity, theirs, ours in paper:
    print(f"{quantity:<29}{theirs:<24}{ours}")
# --8<-- [end:paper]
