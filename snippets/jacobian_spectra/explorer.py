"""The interactive figure of docs/jacobian-spectra.md: the singular values of the
input-output Jacobian, at depths from 1 to 64, for five networks, five seeds each."""

# --8<-- [start:explorer]
import numpy as np

from snippets.bp.activations import IDENTITY, RELU, TANH
from snippets.bp.init import init_weights
from snippets.figures import explorer

EX_WIDTH, EX_SEEDS = 32, 5
EX_DEPTHS = [1, 2, 4, 8, 16, 32, 64]


def critical_tanh(q_star=0.05, nodes=61):
    """(sigma_w, sigma_b) at which a tanh network keeps pre-activation
    variance q* and chi = sigma_w^2 E[tanh'(h)^2] = 1, h ~ N(0, q*)."""
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    h, w = np.sqrt(q_star) * t, w / np.sqrt(2 * np.pi)
    sigma_w = 1 / np.sqrt(np.sum(w * TANH.df(h) ** 2))
    sigma_b2 = q_star - sigma_w ** 2 * np.sum(w * np.tanh(h) ** 2)
    return sigma_w, np.sqrt(sigma_b2)


SIGMA_W, SIGMA_B = critical_tanh()
# activation, initialisation, gain, biases (random std, constant)
EX_NETWORKS = {
    "linear, Gaussian 1/n": (IDENTITY, "gaussian", 1.0, (0.0, 0.0)),
    "linear, orthogonal": (IDENTITY, "orthogonal", 1.0, (0.0, 0.0)),
    "ReLU, He": (RELU, "he", 1.0, (0.0, 0.0)),
    "ReLU, Gaussian 1/n, biases +0.5": (RELU, "gaussian", 1.0, (0.0, 0.5)),
    "tanh, orthogonal, critical": (TANH, "orthogonal", SIGMA_W,
                                   (SIGMA_B, 0.0)),
}


def ex_spectra(g, init, gain, biases, name):
    """Sorted singular values of d a_l / d x, (len(EX_DEPTHS), EX_SEEDS,
    EX_WIDTH), for one network of depth 64 per seed, all seeds at once."""
    key = np.random.SeedSequence([64, list(EX_NETWORKS).index(name)])
    out = np.empty((len(EX_DEPTHS), EX_SEEDS, EX_WIDTH))
    streams = [s.spawn(3) for s in key.spawn(EX_SEEDS)]
    W = np.stack([init_weights(np.random.default_rng(w), EX_WIDTH, EX_WIDTH,
                               init, gain=gain, stack=(max(EX_DEPTHS),))
                  for w, _, _ in streams], axis=1)      # (depth, seeds, n, n)
    std, constant = biases
    b = constant + std * np.stack([np.random.default_rng(s).normal(
        size=(max(EX_DEPTHS), EX_WIDTH)) for _, s, _ in streams], axis=1)
    a = np.stack([np.random.default_rng(x).normal(size=EX_WIDTH)
                  for _, _, x in streams])              # (seeds, n)
    if std:     # start at the fixed point of the variance map, as theory does
        a = g(np.sqrt(0.05) * a)
    J = np.broadcast_to(np.eye(EX_WIDTH), (EX_SEEDS, EX_WIDTH, EX_WIDTH))
    for l in range(max(EX_DEPTHS)):
        z = np.einsum("sij,sj->si", W[l], a) + b[l]
        a = g(z)
        J = (g.df(z)[:, :, None] * W[l]) @ J              # diag(g'(z)) W J
        if l + 1 in EX_DEPTHS:
            out[EX_DEPTHS.index(l + 1)] = np.linalg.svd(J, compute_uv=False)
    return out


singular = {name: ex_spectra(*spec, name)
            for name, spec in EX_NETWORKS.items()}
rank = (np.arange(EX_WIDTH) + 0.5) / EX_WIDTH
floor = 1e-6   # singular values below it are drawn at the floor (a log axis)
states = {}
for name, s in singular.items():
    for d, depth in enumerate(EX_DEPTHS):
        v = np.maximum(s[d], floor)
        states[(depth, name)] = [{"name": "median of 5 seeds", "x": rank,
                                  "y": np.median(v, axis=0),
                                  "lo": v.min(axis=0), "hi": v.max(axis=0)}]
explorer(
    controls=[{"name": "depth", "label": "Depth", "values": EX_DEPTHS,
               "format": "{} layers"},
              {"name": "network", "label": "Network",
               "values": list(EX_NETWORKS)}],
    states=states, default=(32, "tanh, orthogonal, critical"),
    x={"label": "rank (fraction of singular values)", "scale": "linear",
       "domain": [0, 1]},
    y={"label": "singular value", "scale": "log", "domain": [floor, 1e3]},
    alt="The singular values of the input-output Jacobian of a 32-layer "
    "critical tanh network with orthogonal weights, sorted from largest to "
    "smallest: all of them lie within a factor of a few of 1.",
    caption="The whole spectrum of the input-output Jacobian of networks of "
    "width 32, sorted (line: median of five seeds, band: their range; values "
    "below 1e-6 drawn at "
    "1e-6). Move the depth and the network: dynamical isometry is a flat "
    "line at 1.",
)
# --8<-- [end:explorer]
