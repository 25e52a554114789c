"""Solutions to the exercises of docs/activations-and-initialisation.md (session
"exercises", these sections in order)."""

# --8<-- [start:relu_lecun]
from functools import partial

import numpy as np

from snippets.bp.activations import (
    RELU,
    Activation,
    leaky_relu,
    leaky_relu_prime,
)
from snippets.bp.mlp import MLP, build_mlp


def delta_variances(g, widths, init="he", gain=1.0, batch=64, seed=0):
    """Var(δ_l) for l = 1..N (rows) of 5 networks (columns), as the mean of
    δ_l² over batch and units."""
    weight_ss, input_ss, grad_ss = np.random.SeedSequence(seed).spawn(3)
    nets = MLP.stack([build_mlp(np.random.default_rng(s), widths, g,
                                init=init, gain=gain, out_g=g)
                      for s in weight_ss.spawn(5)])
    x = np.random.default_rng(input_ss).normal(size=(5, batch, widths[0]))
    grad_out = np.random.default_rng(grad_ss).normal(size=(5, batch,
                                                           widths[-1]))
    grads = nets.backward(nets.forward(x), grad_out)
    return np.stack([np.mean(grads.delta[l] ** 2, axis=(1, 2))
                     for l in range(1, len(widths))])


var = delta_variances(RELU, [64] * 21, init="gaussian")
lecun_total = var[0] / var[-1]
print(f"predicted 2^-19 = {2.0 ** -19:.1e}; measured Var(δ_1) / Var(δ_20): "
      f"{np.median(lecun_total):.1e}")
print(f"(smallest to largest over 5 networks: {lecun_total.min():.1e} to "
      f"{lecun_total.max():.1e})")
# --8<-- [end:relu_lecun]


# --8<-- [start:fan_out]
# layer 2 narrows 128 -> 32; He by fan-in gives Var(W_2) = 2/128, gain 2
# makes it 2/32, He by fan-out
narrowing = {}
for name, gain in (("fan-in, 2/128", 1.0), ("fan-out, 2/32", 2.0)):
    var = delta_variances(RELU, [128, 128, 32], gain=gain)
    narrowing[name] = var[0] / var[1]
    print(f"Var(W_2) = {name}: Var(δ_1) / Var(δ_2) = "
          f"{np.median(narrowing[name]):.2f} (median of 5)")
# --8<-- [end:fan_out]


# --8<-- [start:leaky]
slope = 0.2
LEAKY_02 = Activation("leaky_relu_0.2", partial(leaky_relu, slope=slope),
                      partial(leaky_relu_prime, slope=slope))
var = delta_variances(LEAKY_02, [64] * 21)
leaky_total = var[0] / var[-1]
print(f"predicted (1 + {slope}²)^19 = {(1 + slope ** 2) ** 19:.2f}; measured: "
      f"{np.median(leaky_total):.2g} ({leaky_total.min():.2g} to "
      f"{leaky_total.max():.2g})")
# --8<-- [end:leaky]
