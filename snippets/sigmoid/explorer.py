"""The interactive figure of docs/sigmoid.md: how far into the sigmoid's flat tails the units
of a deep sigmoid network sit, layer by layer, as the weights' scale and the biases grow; and so
what each layer multiplies the gradient by, on average, before its weights are counted."""

# --8<-- [start:explorer]
import numpy as np

from snippets.bp.activations import SIGMOID
from snippets.figures import explorer

WIDTH, DEPTH, SEEDS, BATCH = 64, 20, 5, 32
GAINS = [0.5, 1, 2, 4, 8, 16]    # weights N(0, gain² / WIDTH)
BIASES = [0, 1, 2, 4]            # the same bias on every unit
w_ss, in_ss = np.random.SeedSequence(1998).spawn(2)
W1 = np.random.default_rng(w_ss).normal(
    size=(DEPTH, SEEDS, WIDTH, WIDTH)) / np.sqrt(WIDTH)   # gain 1
inputs = np.random.default_rng(in_ss).normal(size=(SEEDS, BATCH, WIDTH))


def mean_slope(gain, bias):
    """The mean of σ′(z_l) over the batch and the units, (DEPTH, SEEDS): one
    network per seed, the same weights W1 scaled by gain at every setting."""
    a, slopes = inputs, []
    for l in range(DEPTH):
        z = a @ (gain * W1[l]).mT + bias
        slopes.append(SIGMOID.df(z).mean(axis=(-2, -1)))
        a = SIGMOID(z)
    return np.array(slopes)


LOW = 5e-3                       # the axis; smaller values drawn at its edge
layer_numbers = np.arange(1, DEPTH + 1)
slope_states = {}
for gain in GAINS:
    for bias in BIASES:
        m = np.clip(mean_slope(gain, bias), LOW, None)
        slope_states[(gain, bias)] = [
            {"name": "mean σ′(z_l)", "x": layer_numbers,
             "y": np.median(m, axis=1), "lo": m.min(axis=1),
             "hi": m.max(axis=1)},
            {"name": "the largest, σ′(0) = 1/4", "x": layer_numbers,
             "y": np.full(DEPTH, 0.25)}]
explorer(
    controls=[{"name": "gain", "label": "Weight scale", "values": GAINS,
               "format": "gain {}"},
              {"name": "bias", "label": "Bias", "values": BIASES,
               "format": "bias {}"}],
    states=slope_states, default=(1, 0),
    x={"label": "layer l", "scale": "linear", "domain": [1, DEPTH]},
    y={"label": "mean σ′(z_l) over the units", "scale": "log",
       "domain": [LOW, 0.3]},
    alt="Against the layer of a 20-layer sigmoid network with weights of "
    "gain 1 and no bias: the mean of the sigmoid's derivative over the "
    "units, flat just below the largest possible value, 1/4.",
    caption="The mean of σ′(z_l) over a layer's units: what the layer "
    "multiplies a gradient by, on average, before its weights count (line: "
    "median of five networks of width 64, band: their range). Raise the "
    "weights' scale or the bias and the units move into the flat tails.",
)
# --8<-- [end:explorer]
