"""Jacobian spectra and dynamical isometry (docs/jacobian-spectra.md runs these sections
in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import IDENTITY, RELU, TANH
from snippets.bp.init import init_weights
from snippets.figures import show, subplots

WIDTH, DEPTHS = 128, (8, 32, 128)
# Gauss-Hermite nodes and weights for E[f(z)], z ~ N(0, 1)
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(101)
WEIGHTS = WEIGHTS / np.sqrt(2 * np.pi)


def gaussian_mean(f, q):
    """E[f(h)] for h ~ N(0, q)."""
    return float(np.sum(WEIGHTS * f(np.sqrt(q) * NODES)))
# --8<-- [end:setup]


# --8<-- [start:critical]
def tanh_critical_point(q_star):
    """(sigma_w, sigma_b) for which a tanh network keeps pre-activation
    variance q* and chi = sigma_w^2 E[tanh'(h)^2] = 1 (h ~ N(0, q*))."""
    sigma_w = 1 / np.sqrt(gaussian_mean(lambda h: TANH.df(h) ** 2, q_star))
    sigma_b2 = q_star - sigma_w ** 2 * gaussian_mean(lambda h: np.tanh(h) ** 2,
                                                      q_star)
    return sigma_w, np.sqrt(sigma_b2)


q_star = 0.05
sigma_w, sigma_b = tanh_critical_point(q_star)
chi = sigma_w ** 2 * gaussian_mean(lambda h: TANH.df(h) ** 2, q_star)
q_next = sigma_w ** 2 * gaussian_mean(lambda h: np.tanh(h) ** 2, q_star) \
    + sigma_b ** 2
print(f"q* = {q_star}: sigma_w = {sigma_w:.4f}, sigma_b = {sigma_b:.4f}; "
      f"check: chi = {chi:.6f}, q -> {q_next:.6f}")
# --8<-- [end:critical]


# --8<-- [start:spectra]
NETWORKS = {
    "linear, Gaussian": dict(g=IDENTITY, init="gaussian", gain=1.0, bias=0.0),
    "linear, orthogonal": dict(g=IDENTITY, init="orthogonal", gain=1.0,
                               bias=0.0),
    "ReLU, He": dict(g=RELU, init="he", gain=1.0, bias=0.0),
    "tanh, orthogonal, critical": dict(g=TANH, init="orthogonal",
                                       gain=sigma_w, bias=sigma_b),
}


def make_network(g, init, gain, bias, depth, width=WIDTH, seed=0):
    """Layers [(W_l, b_l)] and an input x. Critical networks start at the
    fixed point of the variance map, as the theory assumes."""
    rng = np.random.default_rng(seed)
    layers = [(init_weights(rng, width, width, init, gain=gain),
               bias * rng.normal(size=width)) for _ in range(depth)]
    x = g(rng.normal(scale=np.sqrt(q_star), size=width)) if bias else \
        rng.normal(size=width)
    return layers, x


def forward(g, layers, x):
    for W, b in layers:
        x = g(W @ x + b)
    return x


def input_output_jacobians(g, layers, x, depths):
    """{l: d a_l / d x} for l in depths: diag(g'(z_l)) W_l ... diag(g'(z_1)) W_1."""
    J, out, a = np.eye(len(x)), {}, x
    for l, (W, b) in enumerate(layers, start=1):
        z = W @ a + b
        a = g(z)
        J = (g.df(z)[:, None] * W) @ J
        if l in depths:
            out[l] = J
    return out


def jacobian_singular_values(g, init, gain, bias, depths=DEPTHS, seed=0):
    """Singular values of d a_l / d x at one input, for each depth l in
    ``depths``, from one network of depth max(depths)."""
    layers, x = make_network(g, init, gain, bias, max(depths), seed=seed)
    return {l: np.linalg.svd(J, compute_uv=False)
            for l, J in input_output_jacobians(g, layers, x, depths).items()}


spectra = {name: jacobian_singular_values(**kw) for name, kw in NETWORKS.items()}
print(f"{'network':<27} {'depth':>5} {'mean s^2':>9} {'median s':>9} "
      f"{'max s':>8} {'s ~ 0':>6}")
for name, by_depth in spectra.items():
    for depth, s in by_depth.items():
        zero = np.mean(s < 1e-13 * s.max())   # below what float64 resolves
        print(f"{name:<27} {depth:5d} {np.mean(s ** 2):9.2f} "
              f"{np.median(s):9.1e} {s.max():8.2f} {zero:6.0%}")
# --8<-- [end:spectra]


# --8<-- [start:spectra_plot]
fig, axes = subplots(1, 4, figsize=(11.5, 3.0), sharey=True)
bins = np.linspace(-14, 2, 65)
for ax, (name, by_depth) in zip(axes, spectra.items(), strict=True):
    for (depth, s), style in zip(by_depth.items(), ["-", "--", ":"],
                                 strict=True):
        logs = np.log10(np.maximum(s, 1e-14 * s.max()))  # 0 -> left edge
        ax.hist(logs, bins=bins, histtype="step", linestyle=style,
                linewidth=1.5, label=f"depth {depth}",
                weights=np.full(len(s), 1 / len(s)))
    ax.axvline(0, color="0.6", linewidth=0.8)
    ax.set_title(name)
    ax.set_xlabel(r"$\log_{10}$ singular value")
axes[0].set_ylabel("fraction of singular values")
axes[0].legend(loc="upper left")
show(
    fig,
    alt="Four histograms of the base-10 logarithm of the input-output "
    "Jacobian's singular values, at depths 8, 32 and 128. Linear Gaussian: "
    "the histogram spreads to very small values as depth grows. Linear "
    "orthogonal: a single spike at 0 (singular value 1) at every depth. "
    "ReLU with He: more than half of the mass piles up at the left edge "
    "(singular values that are 0) at every depth. Critical orthogonal tanh: "
    "concentrated near 0 at depths 8 and 32, wider at 128.",
    caption="Where the singular values of the input-output Jacobian lie "
    "(width 128). All four networks are initialised so that the expected "
    "mean squared singular value is 1; only the orthogonal ones keep the "
    "whole spectrum near 1. The left edge collects singular values below "
    "1e-14 of the largest, which float64 cannot tell from 0.",
)
# --8<-- [end:spectra_plot]
