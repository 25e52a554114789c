"""The interactive figure of docs/residual-ensembles.md: for a residual network of 10 to 54
blocks, how many paths have each length, and how much of the gradient each length carries
(the per-path gradients measured on the page, five seeds). The page runs the section below in
the session of ensembles.py, after it; imported on its own (by the tests), the module takes
the page's names from there."""

from snippets.residual_ensembles.ensembles import n, paths

# isort: split
# --8<-- [start:explorer]
from math import comb

import numpy as np

from snippets.figures import explorer

BLOCKS = list(range(10, n + 1, 2))
length_states = {}
# magnitude: (seeds, lengths 0..54), the gradient one path of each length
# carries
for name, magnitude in paths.items():
    for blocks in BLOCKS:
        k = np.arange(blocks + 1)
        number = np.array([comb(blocks, int(j)) for j in k], dtype=float)
        # Blocks are alike, so a path through k of these blocks carries the
        # gradient a path through k of the 54 measured blocks does.
        carried = number * magnitude[:, :blocks + 1]
        carried /= carried.sum(axis=-1, keepdims=True)
        length_states[(blocks, name)] = [
            {"name": "share of the paths", "x": k,
             "y": number / 2.0 ** blocks},
            {"name": "share of the gradient", "x": k,
             "y": np.median(carried, axis=0), "lo": carried.min(axis=0),
             "hi": carried.max(axis=0)}]
explorer(
    controls=[{"name": "blocks", "label": "Blocks", "values": BLOCKS,
               "format": "{} blocks"},
              {"name": "branches", "label": "Branches",
               "values": list(paths)}],
    states=length_states, default=(54, "He-initialised"),
    x={"label": "path length k (blocks whose branch it enters)",
       "scale": "linear", "domain": [0, n]},
    y={"label": "share", "scale": "linear", "domain": [0, 0.3]},
    alt="For 54 blocks with He-initialised branches: the share of paths of "
    "each length, a binomial centred on 27, and the share of the gradient, "
    "a similar bump shifted to about 31.",
    caption="How many paths have each length, and how much of the gradient "
    "each length carries (line: median of five networks, band: their range). "
    "Change the number of blocks and the branches' scale: the gradient's "
    "bump follows n c/(1+c).",
)
# --8<-- [end:explorer]
