"""Jacobian spectra and dynamical isometry (docs/jacobian-spectra.md runs these
sections in order; tests/test_jacobian_spectra.py checks what they show)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import IDENTITY, RELU, TANH
from snippets.figures import show, subplots, table

WIDTH, DEPTHS, SEEDS = 64, (8, 32, 128), 5
# Gauss-Hermite nodes and weights for E[f(z)], z ~ N(0, 1)
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(101)
WEIGHTS = WEIGHTS / np.sqrt(2 * np.pi)


def gaussian_mean(f, q):
    """E[f(h)] for h ~ N(0, q)."""
    return float(np.sum(WEIGHTS * f(np.sqrt(q) * NODES)))


def spread(values, fmt=".2g"):
    """'median (min–max)' of the seeds' values."""
    lo, mid, hi = np.min(values), np.median(values), np.max(values)
    return f"{mid:{fmt}} ({lo:{fmt}}–{hi:{fmt}})"
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


# --8<-- [start:networks]
NETWORKS = {   # activation, weights and gain; biases: constant + sd N(0, 1)
    "linear, Gaussian": dict(g=IDENTITY, init="gaussian"),
    "linear, orthogonal": dict(g=IDENTITY, init="orthogonal"),
    "ReLU, He": dict(g=RELU, init="he"),
    "tanh, orthogonal, critical": dict(g=TANH, init="orthogonal",
                                       gain=sigma_w, sd=sigma_b),
}


def draw_weights(rng, init, shape, gain=1.0):
    """Square weights (..., n, n), all at once: the same numbers from the
    same rng as snippets.bp.init.init_weights drawing them one by one."""
    if init == "orthogonal":
        Q, R = np.linalg.qr(rng.normal(size=shape))
        signs = np.sign(np.diagonal(R, axis1=-2, axis2=-1))  # Haar
        return gain * Q * signs[..., None, :]
    variance = {"gaussian": 1.0, "he": 2.0}[init]
    return rng.normal(0.0, gain * np.sqrt(variance / shape[-1]), size=shape)


def draw(g, init, gain=1.0, constant=0.0, sd=0.0, *, key, seeds=SEEDS,
         depth=DEPTHS[-1], width=WIDTH):
    """A stack of networks, one per seed: W (depth, seeds, n, n),
    b (depth, seeds, n) and an input x (seeds, n). Weights, biases and
    inputs come from independent streams of each (key, seed)."""
    W, b, x = [], [], []
    for seed in range(seeds):
        rng_W, rng_b, rng_x = (np.random.default_rng(s) for s in
                               np.random.SeedSequence([key, seed]).spawn(3))
        W.append(draw_weights(rng_W, init, (depth, width, width), gain))
        b.append(constant + sd * rng_b.normal(size=(depth, width)))
        # A critical network starts at its fixed point, as theory assumes
        x.append(g(rng_x.normal(scale=np.sqrt(q_star), size=width)) if sd
                 else rng_x.normal(size=width))
    return np.swapaxes(W, 0, 1), np.swapaxes(b, 0, 1), np.array(x)
# --8<-- [end:networks]


# --8<-- [start:jacobians]
def input_output_jacobians(g, W, b, x, depths=DEPTHS):
    """{l: J_l = d a_l / d x, (seeds, n, n)} for l in depths, for every
    network of the stack at once, by J_l = diag(g'(z_l)) W_l J_{l-1}; and
    {l: the smallest share of units with g'(z) != 0 in layers 1..l}."""
    J = np.broadcast_to(np.eye(x.shape[-1]), W.shape[1:]).copy()
    a, out, on, fewest_on = x, {}, {}, np.ones(len(x))
    for l, (W_l, b_l) in enumerate(zip(W, b, strict=True), start=1):
        z = (W_l @ a[..., None])[..., 0] + b_l
        a = g(z)
        J = (g.df(z)[..., None] * W_l) @ J
        fewest_on = np.minimum(fewest_on, np.mean(g.df(z) != 0, axis=-1))
        if l in depths:
            out[l], on[l] = J, fewest_on
    return out, on


def spectra_of(key, **network):
    """{depth: singular values, (seeds, n)}, {depth: fewest units on}."""
    jacobians, on = input_output_jacobians(network["g"],
                                           *draw(**network, key=key))
    return {l: np.linalg.svd(J, compute_uv=False)
            for l, J in jacobians.items()}, on


def is_zero(s):
    """Which singular values are below 1e-13 of their network's largest,
    which float64 cannot tell from 0 in a product like this."""
    return s < 1e-13 * s.max(axis=-1, keepdims=True)


def zero_fraction(s):
    """Per network: the share of singular values that are 0 (is_zero)."""
    return np.mean(is_zero(s), axis=-1)


results = {name: spectra_of(key, **kw)
           for key, (name, kw) in enumerate(NETWORKS.items())}
spectra = {name: s for name, (s, _) in results.items()}
# --8<-- [end:jacobians]


# --8<-- [start:spectra]
rows = []
for name, by_depth in spectra.items():
    for depth, s in by_depth.items():
        zeros = zero_fraction(s)
        median_s = np.median(np.median(s, axis=-1))
        rows.append([name, f"{depth}", spread(np.mean(s ** 2, axis=-1)),
                     "0" if np.median(zeros) > 0.5 else f"{median_s:.1e}",
                     spread(100 * zeros, ".0f")])
table(rows,
      header=["network", "depth", "mean s²", "median s", "% of s = 0"],
      caption=f"Median of {SEEDS} networks per kind (range in brackets)")
# --8<-- [end:spectra]


# --8<-- [start:spectra_plot]
# Bins a third of a decade wide, centred on powers of 10 (1 is a centre);
# the singular values counted as 0 in the table are drawn at 1e-15 (as 0).
BINS = np.arange(-15, 1.6, 1 / 3) - 1 / 6   # up to s = 10^1.33
panels = []
for name, by_depth in spectra.items():
    fig, ax = subplots()
    for (depth, s), style in zip(by_depth.items(), ["-", "--", ":"],
                                 strict=True):
        logs = np.where(is_zero(s), -15, np.log10(np.maximum(s, 1e-14)))
        ax.hist(logs.ravel(), bins=BINS, histtype="step", linestyle=style,
                linewidth=2, label=f"depth {depth}",
                weights=np.full(s.size, 1 / s.size))
    ax.set_xticks([-15, -10, -5, 0], ["0", "1e−10", "1e−5", "1"])
    ax.set_xlim(BINS[0] - 0.5, BINS[-1] + 0.5)   # every bin, off the frame
    ax.set_ylim(0, 1.05)
    ax.set_title(name)
    ax.set_xlabel("singular value s (log scale)")
    ax.set_ylabel("fraction of all s")
    ax.legend(loc="upper center")
    panels.append(fig)
show(
    panels,
    alt=[
        "Histogram of the singular values of deep linear networks with "
        "Gaussian weights, on a log scale from 0 to 10: at depth 8 most "
        "lie between 1e-3 and 4, with a thin tail down to 1e-12; at depth "
        "32 they spread evenly over twelve decades and about a fifth are "
        "0; at depth 128 most of them are 0.",
        "Histogram for linear networks with orthogonal weights: every "
        "singular value is exactly 1, at depths 8, 32 and 128.",
        "Histogram for ReLU networks with He initialisation: about 60 "
        "percent of the singular values are 0 at depths 8 and 32 and "
        "about 80 percent at depth 128; the others spread over many "
        "decades below 1.",
        "Histogram for critical tanh networks with orthogonal weights: at "
        "depths 8 and 32 almost all singular values lie within a factor "
        "of 3 of 1; the peak widens with depth, and at depth 128 most lie "
        "between 0.1 and 4, and one in 64 between 1e-6 and 1e-5.",
    ],
    caption="Where the singular values of the input-output Jacobian lie, "
    f"pooled over {SEEDS} networks of each kind (width {WIDTH}), at depths "
    "8 (solid), 32 (dashed) and 128 (dotted). All four kinds are "
    "initialised so that the mean squared singular value is 1 on average; "
    "only the orthogonal ones keep the spectrum near 1. The bar at 0 "
    "collects the singular values counted as 0 in the table (below 1e-13 "
    "of the largest).",
)
# --8<-- [end:spectra_plot]


# --8<-- [start:relu_rank]
biased = dict(g=RELU, init="gaussian", constant=0.5)   # variance 1/n
biased_s, biased_on = spectra_of(len(NETWORKS), **biased)
rows = []
for label, (by_depth, on) in [("0", results["ReLU, He"]),
                              ("+0.5", (biased_s, biased_on))]:
    for depth in (8, 32):
        rows.append([label, f"{depth}",
                     spread(100 * (1 - on[depth]), ".0f"),
                     spread(100 * zero_fraction(by_depth[depth]), ".0f"),
                     spread(np.mean(by_depth[depth] ** 2, axis=-1))])
table(rows, header=["biases", "depth", "% of units off, emptiest layer",
                    "% of s = 0", "mean s²"],
      caption=f"ReLU networks: median of {SEEDS} (range in brackets)")
# --8<-- [end:relu_rank]


# --8<-- [start:length_direction]
def variance_map(q):
    """The next tanh layer's pre-activation variance, in wide networks."""
    return sigma_w ** 2 * gaussian_mean(lambda h: np.tanh(h) ** 2, q) \
        + sigma_b ** 2


slope = (variance_map(q_star + 1e-6) - variance_map(q_star - 1e-6)) / 2e-6
W, b, x = draw(**NETWORKS["tanh, orthogonal, critical"], key=3)
smallest, along_x = {}, {}
for depth, J in input_output_jacobians(TANH, W, b, x)[0].items():
    _, s, Vt = np.linalg.svd(J)
    smallest[depth] = s[:, -1]     # and Vt[:, -1]: the direction it crushes
    along_x[depth] = np.abs(np.sum(Vt[:, -1] * x, axis=-1)) \
        / np.linalg.norm(x, axis=-1)
rate = (smallest[128] / smallest[32]) ** (1 / 96)
for depth in DEPTHS:
    print(f"depth {depth:3d}: smallest s {spread(smallest[depth])}, "
          f"|cos(its direction, x)| {spread(along_x[depth])}")
print(f"per layer, from depth 32 to 128: x {spread(rate, '.3f')}; "
      f"slope of the variance map at q*: {slope:.3f}")
# --8<-- [end:length_direction]
