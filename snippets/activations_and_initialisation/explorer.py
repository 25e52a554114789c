"""The interactive figure of docs/activations-and-initialisation.md: how the gradient
reaching each layer compares with the gradient at the top, for depths up to 100, five
activations, four initialisations, with and without shortcuts; five seeds each."""

# --8<-- [start:explorer]
import numpy as np

from snippets.bp.activations import IDENTITY, LEAKY_RELU, RELU, SIGMOID, TANH
from snippets.bp.init import init_weights
from snippets.figures import explorer

N, SEEDS, BATCH = 32, 5, 8
DEPTHS = list(range(10, 101, 10))
ACTIVATIONS = {"sigmoid": SIGMOID, "tanh": TANH, "ReLU": RELU,
               "LeakyReLU": LEAKY_RELU, "linear": IDENTITY}
INITS = {"Gaussian, variance 1/n": "gaussian", "Glorot": "glorot", "He": "he",
         "orthogonal": "orthogonal"}
SHORTCUTS = {"none": None, "identity, branch x 1": 1.0,
             "identity, branch x 0.5": 0.5}

# One stream per initialisation: the same weights for every activation and
# shortcut, so that a change of those controls changes nothing else.
streams = np.random.SeedSequence(2010).spawn(len(INITS) + 2)
W = np.stack([init_weights(np.random.default_rng(stream), N, N, scheme,
                           stack=(max(DEPTHS), SEEDS))
              for scheme, stream in zip(INITS.values(), streams,
                                        strict=False)],
             axis=1)                         # (layer, init, seed, N, N)
x = np.random.default_rng(streams[-2]).normal(size=(SEEDS, BATCH, N))
top = np.random.default_rng(streams[-1]).normal(size=(len(DEPTHS), BATCH, N))


def profiles(g, branch):
    """For every layer l <= D and every depth D in DEPTHS, relative to the top
    layer D: the back-propagated gradient ||dL/dz_l|| / ||dL/dz_D|| and the
    weight gradient ||dL/dW_l|| / ||dL/dW_D||, each (depth, init, seed, layer),
    NaN above D. Plain: every layer is a = g(W a). Residual (``branch``, a
    number): blocks a + branch W_b g(W_a a).
    The network of depth D is the first D layers of the 100-layer one, so one
    backward pass serves every depth: each depth's gradient enters at its own
    top layer, as a channel of its own."""
    L = max(DEPTHS)
    scale = np.ones(L) if branch is None else np.tile([1.0, branch], L // 2)
    a, slopes = [x], []                        # a_0..a_L: (init, seed, B, N)
    for l in range(L):
        z = a[-1] @ (scale[l] * W[l]).mT
        act = g if branch is None or l % 2 == 0 else IDENTITY
        slopes.append(act.df(z))
        out = act(z)
        if branch is not None and l % 2 == 1:
            out = out + a[-2]                  # the shortcut, around the block
        a.append(out)
    # (D, 1, 1, B, N)
    G = np.zeros((len(DEPTHS), *a[0].shape[-2:]))[:, None, None]
    G = np.broadcast_to(G, (len(DEPTHS), *a[-1].shape)).copy()
    norms = np.full((2, len(DEPTHS), *W.shape[1:3], L), np.nan)
    skip = None
    for l in range(L - 1, -1, -1):             # layer l + 1, from the top down
        for d, depth in enumerate(DEPTHS):
            if depth == l + 1:
                G[d] = top[d]                  # dL/da_D enters at the top
        if branch is not None and l % 2 == 1:
            skip = G.copy()                    # what the shortcut carries down
        delta = G * slopes[l]
        # ||dL/dW|| = ||delta^T a||_F, through the batch's Gram matrices
        # (B x B, not N x N): ||delta^T a||^2 = sum((delta delta^T) * (a a^T))
        gram = np.sum((delta @ delta.mT) * (a[l] @ a[l].mT), axis=(-2, -1))
        norms[0, ..., l] = np.linalg.norm(delta, axis=(-2, -1))
        norms[1, ..., l] = np.sqrt(np.maximum(gram, 0.0))
        G = delta @ (scale[l] * W[l])
        if branch is not None and l % 2 == 0:
            G = G + skip
    for d, depth in enumerate(DEPTHS):
        norms[:, d, ..., depth:] = np.nan
        norms[:, d] /= norms[:, d, ..., depth - 1:depth]
    return norms[0], norms[1]


LOW, HIGH = 1e-12, 1e6   # the axis; values beyond it are drawn at its edge
SERIES = ("back-propagated, dL/dz_l", "weights, dL/dW_l")
states = {}
for a_name, g in ACTIVATIONS.items():
    for s_name, branch in SHORTCUTS.items():
        both = [np.clip(r, LOW, HIGH) for r in profiles(g, branch)]
        for d, depth in enumerate(DEPTHS):
            for i, i_name in enumerate(INITS):
                states[(depth, a_name, i_name, s_name)] = [
                    {"name": name, "x": np.arange(1, depth + 1),
                     "y": np.median(r[d, i, :, :depth], axis=0),
                     "lo": r[d, i, :, :depth].min(axis=0),
                     "hi": r[d, i, :, :depth].max(axis=0)}
                    for name, r in zip(SERIES, both, strict=True)]
explorer(
    controls=[{"name": "depth", "label": "Depth", "values": DEPTHS,
               "format": "{} layers"},
              {"name": "activation", "label": "Activation",
               "values": list(ACTIVATIONS)},
              {"name": "init", "label": "Initialisation",
               "values": list(INITS)},
              {"name": "shortcut", "label": "Shortcuts",
               "values": list(SHORTCUTS)}],
    states=states, default=(50, "tanh", "Glorot", "none"),
    x={"label": "layer l", "scale": "linear", "domain": [1, 100]},
    y={"label": "norm, relative to the top layer", "scale": "log",
       "domain": [LOW, HIGH]},
    alt="Two curves against the layer of a 50-layer tanh network with Glorot "
    "initialisation: the back-propagated gradient and the gradient of each "
    "layer's weights, both relative to the top layer; both stay within a "
    "factor of ten of 1 down to the input.",
    caption="The gradient reaching each layer (dL/dz_l) and the gradient of "
    "its weights (dL/dW_l), relative to the top layer (lines: medians of five "
    "seeds, bands: their range; width 32; values beyond the axis drawn at its "
    "edge). Change the depth, the activation, the initialisation and the "
    "shortcuts: every curve was computed when the site was built.",
)
# --8<-- [end:explorer]
