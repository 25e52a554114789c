"""What skip connections do not guarantee (docs/skip-guarantees.md runs these sections in
order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.init import init_weights
from snippets.bp.mlp import build_mlp, build_residual_mlp
from snippets.figures import show, subplots

# --8<-- [end:setup]


# --8<-- [start:eigenvalues]
def lens_area(r, R=1.0, d=1.0):
    """Area where a disc of radius r centred at 1 overlaps the unit disc."""
    if d >= r + R:
        return 0.0
    if d <= abs(R - r):
        return np.pi * min(r, R) ** 2
    a = r * r * np.arccos((d * d + r * r - R * R) / (2 * d * r))
    b = R * R * np.arccos((d * d + R * R - r * r) / (2 * d * R))
    c = 0.5 * np.sqrt((-d + r + R) * (d + r - R) * (d - r + R) * (d + r + R))
    return a + b - c


n = 400
rng = np.random.default_rng(0)
G = rng.normal(size=(n, n)) / np.sqrt(n)        # eigenvalues fill the unit disc
eig = {}
print(f"{'s':>4} {'|lambda| < 1, measured':>23} {'circular law':>13}")
for s in (0.5, 1.0, 2.0):
    eig[s] = np.linalg.eigvals(np.eye(n) + s * G)   # I + J, J = s G
    below = np.mean(np.abs(eig[s]) < 1)
    predicted = lens_area(s) / (np.pi * s * s)
    print(f"{s:4.1f} {below:23.3f} {predicted:13.3f}")
# --8<-- [end:eigenvalues]


# --8<-- [start:eigenvalues_plot]
fig, axes = subplots(1, 2, figsize=(8, 3.8))
circle = np.linspace(0, 2 * np.pi, 400)
for ax, s in zip(axes, (0.5, 1.0), strict=True):
    inside = np.abs(eig[s]) < 1
    ax.scatter(eig[s].real[~inside], eig[s].imag[~inside], s=4, label="|λ| ≥ 1")
    ax.scatter(eig[s].real[inside], eig[s].imag[inside], s=4, marker="x",
               label="|λ| < 1")
    ax.plot(np.cos(circle), np.sin(circle), color="0.3", linewidth=1,
            label="unit circle")
    ax.set_aspect("equal")
    ax.set_title(f"eigenvalues of I + J, s = {s}")
    ax.set_xlabel("real part")
axes[0].set_ylabel("imaginary part")
axes[0].legend(loc="lower left")
show(
    fig,
    alt="Two scatter plots of eigenvalues in the complex plane with the unit "
    "circle drawn. For s = 0.5 the eigenvalues fill a disc of radius 0.5 "
    "centred at 1, partly inside the unit circle. For s = 1 they fill a "
    "disc of radius 1 centred at 1, and a large lens-shaped part of it lies "
    "inside the unit circle.",
    caption="Eigenvalues of I + J for a random 400 × 400 Jacobian J with "
    "entries of variance s²/n: a disc of radius s around 1. The crosses, "
    "inside the unit circle, are eigenvalues with |λ| < 1; a skip "
    "connection does not rule them out.",
)
# --8<-- [end:eigenvalues_plot]


# --8<-- [start:expected_growth]
n, trials = 64, 500
rng = np.random.default_rng(1)
g = rng.normal(size=n)
print(f"{'s':>4} {'E||(I+J)ᵀg||² / ||g||²':>24} {'1 + s²':>7}")
for s in (0.5, 1.0, 2.0):
    J = s * rng.normal(size=(trials, n, n)) / np.sqrt(n)
    ratio = np.mean(np.sum((g + np.einsum("tij,i->tj", J, g)) ** 2, axis=1))
    print(f"{s:4.1f} {ratio / (g @ g):24.3f} {1 + s * s:7.2f}")
# --8<-- [end:expected_growth]


# --8<-- [start:depth]
def input_gradient_ratio(net, width, seed):
    """||dL/dx|| / ||dL/d(output)|| for a random output gradient, batch 16."""
    rng = np.random.default_rng(seed)
    fwd = net.forward(rng.normal(size=(16, width)))
    grads = net.backward(fwd, rng.normal(size=fwd.a[-1].shape))
    return np.linalg.norm(grads.a[0]) / np.linalg.norm(grads.a[-1])


VARIANTS = {
    "plain (ReLU, He)": lambda rng, w, L: build_mlp(rng, [w] * (2 * L + 1)),
    "residual, identity shortcut": lambda rng, w, L: build_residual_mlp(rng, w, L),
    "residual, branches x 1/sqrt(L)": lambda rng, w, L: build_residual_mlp(
        rng, w, L, branch_scale=1 / np.sqrt(L)),
    "residual, last layer at 0": lambda rng, w, L: build_residual_mlp(
        rng, w, L, zero_last=True),
    "shortcut x 0.5, last layer at 0": lambda rng, w, L: build_residual_mlp(
        rng, w, L, zero_last=True, shortcut=0.5),
}
width, depths, seeds = 64, [1, 2, 4, 8, 16, 32, 64], range(3)
ratios = {name: np.array([np.mean([input_gradient_ratio(
              make(np.random.default_rng(s), width, L), width, s) for s in seeds])
              for L in depths]) for name, make in VARIANTS.items()}
print(f"{'blocks L':<32}" + "".join(f"{L:>9d}" for L in depths))
for name, values in ratios.items():
    print(f"{name:<32}" + "".join(f"{v:9.1e}" for v in values))
# --8<-- [end:depth]


# --8<-- [start:depth_plot]
fig, ax = subplots(figsize=(6.8, 3.8))
for (name, values), style in zip(ratios.items(), ["-o", "-s", "--^", ":v", "-.d"],
                                 strict=True):
    ax.loglog(depths, values, style, label=name, markersize=4)
ax.set_xlabel("residual blocks L (a plain network has the same 2L layers)")
ax.set_ylabel(r"$\|\partial\mathcal{L}/\partial x\| \,/\, \|\partial\mathcal{L}"
              r"/\partial y\|$")
ax.legend()
show(
    fig,
    alt="Log-log plot of the input gradient norm relative to the output "
    "gradient norm against the number of blocks, 1 to 64. Residual networks "
    "with identity shortcuts and He-initialised branches grow steeply with "
    "depth; with branches scaled by one over the square root of L they stay "
    "near 1 to 3; with zero-initialised last layers they are exactly 1; "
    "with shortcuts scaled by 0.5 they fall as 0.5 to the power L; the plain "
    "ReLU network stays within an order of magnitude of 1.",
    caption="Gradient norm reaching the input, relative to the output, at "
    "initialisation (width 64, mean of 3 networks). Identity shortcuts with "
    "unscaled branches make gradients explode, by about sqrt(1 + s²) per "
    "block; scaling the branches or starting them at zero fixes it; scaling "
    "the shortcut multiplies the gradient by its factor once per block.",
)
# --8<-- [end:depth_plot]


# --8<-- [start:branch_gain]
rng = np.random.default_rng(2)
W_a = init_weights(rng, width, width, "he")
W_b = init_weights(rng, width, width, "he")
x = rng.normal(size=(4096, width))
u = rng.normal(size=(4096, width))
Ju = ((x @ W_a.T > 0) * (u @ W_a.T)) @ W_b.T        # J_F u = W_b diag(ReLU'(z)) W_a u
s2 = np.mean(np.sum(Ju ** 2, axis=1) / np.sum(u ** 2, axis=1))
print(f"a He-initialised branch: s² = {s2:.2f}; sqrt(1 + s²) = "
      f"{np.sqrt(1 + s2):.2f} per block; measured growth per block "
      f"{ratios['residual, identity shortcut'][-1] ** (1 / depths[-1]):.2f}")
# --8<-- [end:branch_gain]
