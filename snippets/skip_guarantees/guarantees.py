"""What skip connections do not guarantee (docs/skip-guarantees.md runs these
sections in order).

Every random draw comes from its own stream, ``streams(key, n)``: n generators
spawned from one SeedSequence per section, so that no seed serves two
purposes (weights and inputs, say). Five seeds per claim, run as one array
computation.
"""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import IDENTITY, RELU
from snippets.bp.init import init_weights
from snippets.bp.mlp import MLP, Layer
from snippets.figures import show, subplots, table

SEEDS = 5


def streams(key, n):
    """n independent generators for the section with this key."""
    seqs = np.random.SeedSequence([2017, *np.atleast_1d(key)]).spawn(n)
    return [np.random.default_rng(s) for s in seqs]


def spread(values, fmt):
    """'median (lowest–highest)' of one number per seed."""
    def num(v):
        return f"{v:{fmt}}".replace("e+", "e").replace("e-0", "e-")

    lo, mid, hi = np.min(values), np.median(values), np.max(values)
    return f"{num(mid)} ({num(lo)}–{num(hi)})"
# --8<-- [end:setup]


# --8<-- [start:lens]
def lens_area(r, R=1.0, d=1.0):
    """Area where a disc of radius r centred at 1 overlaps the unit disc."""
    if d >= r + R:
        return 0.0
    if d <= abs(R - r):
        return np.pi * min(r, R) ** 2
    a = r * r * np.arccos((d * d + r * r - R * R) / (2 * d * r))
    b = R * R * np.arccos((d * d + R * R - r * r) / (2 * d * R))
    c = 0.5 * np.sqrt((-d + r + R) * (d + r - R) * (d - r + R)
                      * (d + r + R))
    return a + b - c
# --8<-- [end:lens]


# --8<-- [start:eigenvalues]
n, S_VALUES = 200, (0.5, 1.0, 2.0)
# one random Jacobian J = s G per seed, entries of G of variance 1/n
G = np.stack([rng.normal(size=(n, n)) for rng in streams(1, SEEDS)])
G /= np.sqrt(n)
mu = np.linalg.eigvals(G)                 # (SEEDS, n): eigenvalues of G
eig = {s: 1 + s * mu for s in S_VALUES}   # those of I + sG: shifted by 1
inside = {s: np.mean(np.abs(eig[s]) < 1, axis=1) for s in S_VALUES}
table([[f"{s:g}", spread(inside[s], ".2f"),
        f"{lens_area(s) / (np.pi * s * s):.2f}"] for s in S_VALUES],
      header=["s", "share with |λ| < 1, measured", "circular law"],
      caption=f"I + J for a random {n} × {n} Jacobian J, {SEEDS} seeds: "
      "median (lowest–highest)")
# --8<-- [end:eigenvalues]


# --8<-- [start:eigenvalues_plot]
circle = np.linspace(0, 2 * np.pi, 400)
figs = []
for s in (0.5, 1.0):
    lam = eig[s][0]                       # the first seed's eigenvalues
    inner = np.abs(lam) < 1
    fig, ax = subplots(figsize=(3.6, 2.9))
    ax.plot(np.cos(circle), np.sin(circle), color="#555555", linewidth=1)
    ax.scatter(lam.real[~inner], lam.imag[~inner], s=7, color="#1f77b4")
    ax.scatter(lam.real[inner], lam.imag[inner], s=22, marker="x",
               linewidths=1.0, color="#ff7f0e")
    ax.set_aspect("equal")
    ax.set_xlim(-1.15, 2.25)
    ax.set_ylim(-1.15, 1.15)
    ax.set_title(f"I + J, s = {s}")
    ax.set_xlabel("real part")
    ax.set_ylabel("imaginary part")
    ax.text(-0.5, 0.0, "|λ| < 1", color="#ff7f0e", ha="center",
            va="center")
    ax.text(2.2, -1.0, "|λ| ≥ 1", color="#1f77b4", ha="right",
            va="center")
    figs.append(fig)
show(
    figs,
    alt=[f"Scatter plot of the eigenvalues of I + J in the complex plane, "
         f"s = {s}, with the unit circle: a disc of radius {s} centred at "
         "1. Blue dots outside the unit circle, orange crosses inside it "
         "(labelled |λ| ≥ 1 and |λ| < 1), "
         + ("nearly half of the disc, its left part." if s == 0.5 else
            "a large lens-shaped part of the disc, on its left.")
         for s in (0.5, 1.0)],
    caption=f"Eigenvalues of I + J for one random {n} × {n} Jacobian J "
    "with entries of variance s²/n: a disc of radius s around 1. The "
    "orange crosses, inside the unit circle (grey), are eigenvalues with "
    "|λ| < 1; a skip connection does not rule them out.",
)
# --8<-- [end:eigenvalues_plot]


# --8<-- [start:expected_growth]
n_g, trials = 64, 100
rng_g, rng_J = streams(2, 2)
g = rng_g.normal(size=n_g)
# SEEDS x trials Jacobians with entries of variance 1/n, one set for all s
G_t = rng_J.normal(size=(SEEDS, trials, n_g, n_g)) / np.sqrt(n_g)
Gg = np.einsum("ktij,i->ktj", G_t, g)            # G^T g for every matrix
growth = {s: np.mean(np.sum((g + s * Gg) ** 2, axis=-1), axis=1) / (g @ g)
          for s in S_VALUES}                     # one mean per seed
table([[f"{s:g}", spread(growth[s], ".2f"), f"{1 + s * s:.2f}"]
       for s in S_VALUES],
      header=["s", "mean |(I+J)ᵀg|² / |g|²", "1 + s²"],
      caption=f"{trials} random Jacobians per seed, {SEEDS} seeds: "
      "median (lowest–highest) of the mean")
# --8<-- [end:expected_growth]


# --8<-- [start:depth_nets]
def residual_stack(W_a, W_b, L, variant):
    """L blocks built from base weights W_a, W_b: (seeds, L_max, n, n), one
    stacked network per seed. Every variant uses the same draws."""
    S, n = W_a.shape[0], W_a.shape[-1]
    zeros = np.zeros((S, n))
    scale = {"identity": 1.0, "scaled": 1 / np.sqrt(L)}.get(variant, 0.0)
    P = 0.5 * np.broadcast_to(np.eye(n), (S, n, n)) if variant == "half" \
        else None
    layers = []
    for k in range(L):
        if variant == "plain":             # the same 2L ReLU layers, no +
            last = IDENTITY if k == L - 1 else RELU
            layers += [Layer(W_a[:, k], zeros, RELU),
                       Layer(W_b[:, k], zeros, last)]
        else:
            layers += [Layer(W_a[:, k], zeros, RELU),
                       Layer(scale * W_b[:, k], zeros, IDENTITY,
                             skip=2 * k, P=P)]
    return MLP(layers)


VARIANTS = {                      # key: label in the table and the figure
    "plain": "plain, 2L layers",
    "identity": "identity shortcut",
    "scaled": "branches × 1/√L",
    "zero": "last layer at 0",
    "half": "shortcut × 0.5",
}
# --8<-- [end:depth_nets]


# --8<-- [start:depth]
width, depths, batch = 64, [1, 2, 4, 8, 16, 32, 64], 4
rng_W, rng_x, rng_g = streams(3, 3)
W_a, W_b = (np.stack([[init_weights(rng_W, width, width, "he")
                       for _ in range(depths[-1])] for _ in range(SEEDS)])
            for _ in range(2))
x_in = rng_x.normal(size=(SEEDS, batch, width))
g_out = rng_g.normal(size=(SEEDS, batch, width))       # dL/d(output)


def input_gradient_ratio(net):
    """|dL/dx| / |dL/d(output)| per seed, for the random output gradient."""
    grads = net.backward(net.forward(x_in), g_out)
    return (np.linalg.norm(grads.a[0], axis=(1, 2))
            / np.linalg.norm(g_out, axis=(1, 2)))


ratios = {v: np.array([input_gradient_ratio(residual_stack(W_a, W_b, L, v))
                       for L in depths])    # (depths, seeds)
          for v in VARIANTS}
table([[label, spread(ratios[v][-1], ".2g")]
       for v, label in VARIANTS.items()],
      header=["64 blocks", "|∂L/∂x| / |∂L/∂y|"],
      caption=f"{SEEDS} seeds: median (lowest–highest)")
# --8<-- [end:depth]


# --8<-- [start:depth_plot]
COLOURS = dict(zip(VARIANTS, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                              "#9467bd"], strict=True))
LABEL_AT = {  # where each direct label goes: x, y, alignments
    "identity": (30, 1e14, "right", "center"),
    "half": (30, 1e-17, "right", "center"),
    "plain": (60, 0.07, "right", "top"),
    "scaled": (60, 3.6, "right", "bottom"),
    "zero": (1.05, 0.85, "left", "top"),
}
panels = {"all five": list(VARIANTS), "the three near 1":
          ["plain", "scaled", "zero"]}
figs = []
for title, shown in panels.items():
    fig, ax = subplots(figsize=(3.6, 2.9))
    for v in shown:
        c = COLOURS[v]
        ax.loglog(depths, np.median(ratios[v], axis=1), "-o", color=c,
                  markersize=3)
        ax.fill_between(depths, ratios[v].min(axis=1),
                        ratios[v].max(axis=1), color=c, alpha=0.25,
                        linewidth=0)
        if v in ("identity", "half") or len(shown) == 3:
            x_, y_, ha, va = LABEL_AT[v]
            ax.text(x_, y_, VARIANTS[v], color=c, ha=ha, va=va)
    if len(shown) == 3:
        ax.set_ylim(0.03, 20)
    ax.set_title(title)
    ax.set_xlabel("blocks L (plain: 2L layers)")
    ax.set_ylabel("|∂L/∂x| / |∂L/∂y|")
    figs.append(fig)
show(
    figs,
    alt=["Log-log plot of the input gradient norm relative to the output "
         "gradient norm against the number of blocks, 1 to 64, five kinds "
         "of network. Identity shortcuts with He-initialised branches grow "
         "steeply, to about 1e15 at 64 blocks; shortcuts scaled by 0.5 "
         "fall as 0.5 to the power L, to about 5e-20; the other three stay "
         "near 1 on this scale.",
         "The same plot for the three kinds that stay near 1, on a scale "
         "from 0.03 to 20: branches scaled by one over the square root "
         f"of L rise to about {np.median(ratios['scaled'][-1]):.1f}; last "
         "layers at zero stay exactly at 1; "
         "the plain ReLU network drifts down to about "
         f"{np.median(ratios['plain'][-1]):.1f} at 128 layers, with a band "
         f"from {ratios['plain'][-1].min():.2f} to "
         f"{ratios['plain'][-1].max():.1f} over the seeds."],
    caption="Gradient norm reaching the input, relative to the output, at "
    "initialisation (width 64; line: median of five seeds, band: lowest "
    "to highest). Identity shortcuts with unscaled branches make "
    "gradients explode, by about √(1 + s²) per block; scaling the "
    "branches or starting them at zero fixes it; scaling the shortcut "
    "multiplies the gradient by its factor once per block. The right "
    "panel shows the three that stay near 1 on their own scale.",
)
# --8<-- [end:depth_plot]


# --8<-- [start:branch_gain]
rng_W, rng_x, rng_u = streams(4, 3)
W_a1, W_b1 = (np.stack([init_weights(rng_W, width, width, "he")
                        for _ in range(SEEDS)]) for _ in range(2))
x = rng_x.normal(size=(2048, width))           # inputs, one per row
u = rng_u.normal(size=(2048, width))           # directions
# J_F u = W_b diag(ReLU'(W_a x)) W_a u, every row, every seed at once
Ju = ((x @ W_a1.mT > 0) * (u @ W_a1.mT)) @ W_b1.mT
s2 = np.mean(np.sum(Ju ** 2, axis=-1) / np.sum(u ** 2, axis=-1), axis=-1)
per_block = ratios["identity"][-1] ** (1 / depths[-1])
print(f"He branch, s² = {spread(s2, '.2f')}")
print(f"so √(1 + s²) = {np.sqrt(1 + np.median(s2)):.2f} per block; "
      f"measured: {spread(per_block, '.2f')}")
# --8<-- [end:branch_gain]
