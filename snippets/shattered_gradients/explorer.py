"""The interactive figure of docs/shattered-gradients.md: the gradient of a plain and of a
residual network's output with respect to its input, across the input sweep, at every depth of
a finer grid than the page's, with the correlation of neighbouring points. The page runs the
section below in the session of shattered.py, after it; imported on its own (by the tests),
the module takes the page's names from there."""

from snippets.shattered_gradients.shattered import (
    KINDS,
    MLP,
    SEEDS,
    autocorrelation,
    gradients,
    input_gradient,
    make,
    x,
)

# isort: split
# --8<-- [start:explorer]
import numpy as np

from snippets.figures import explorer

EX_DEPTHS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
sweeps = {}
for kind in KINDS:
    for depth in EX_DEPTHS:
        g = gradients.get((kind, depth))        # the page's, where it has them
        if g is None:
            g = input_gradient(MLP.stack([make(kind, depth, seed)
                                          for seed in range(SEEDS)]))
        sweeps[kind, depth] = g                 # (seeds, points)

sweep_states = {}
for (kind, depth), g in sweeps.items():
    c = autocorrelation(g)
    median_net = np.argsort(c)[SEEDS // 2]      # the median-correlation one
    shown = g[median_net]
    sweep_states[(depth, kind)] = [
        {"name": f"dy/dx, standardised (neighbours' correlation "
                 f"{c[median_net]:.2f})", "x": x[:, 0],
         "y": np.clip((shown - shown.mean()) / shown.std(), -4.5, 4.5)}]
explorer(
    controls=[{"name": "depth", "label": "Depth", "values": EX_DEPTHS,
               "format": "{} layers or blocks"},
              {"name": "network", "label": "Network", "values": list(KINDS)}],
    states=sweep_states, default=(64, "plain"),
    x={"label": "input x", "scale": "linear", "domain": [-2, 2]},
    y={"label": "dy/dx (standardised)", "scale": "linear",
       "domain": [-4.5, 4.5]},
    alt="The derivative of a 64-layer plain ReLU network's output with "
    "respect to its input, standardised, across inputs from -2 to 2: it "
    "jumps erratically from one input to the next.",
    caption="The gradient of the output with respect to the input across the "
    "sweep, for the network of median neighbour correlation among five (width "
    "32, random biases), standardised; the legend gives the correlation. Move "
    "the depth for each kind of network: the plain network's gradient turns "
    "to noise, the residual network's stays a wandering curve.",
)
# --8<-- [end:explorer]
