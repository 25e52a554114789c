"""Exercises of docs/backprop-mlp.md: each section computes one answer.

The page runs these sections in the chapter's session, after backprop.py, so they use its
names (fresh_stack, layer_gradient_norms, ratios, N). The import below, outside every section,
gives the same names to the tests and to anyone running this file on its own.
"""

import numpy as np

from snippets.backprop_mlp.backprop import (
    SIGMOID,
    N,
    fresh_stack,
    layer_gradient_norms,
    numerical_gradient,
    numerical_jacobian,
    ratios,
    sci,
    sigmoid,
    softmax,
    spread,
    table,
)

# --8<-- [start:ex_depth]
factor = np.median(ratios["sigmoid, N(0, 1/n)"] ** (1 / (N - 1)))
rows, measured = [], {}
for depth in (5, 20):
    norms_N = layer_gradient_norms(fresh_stack(SIGMOID, "gaussian", depth))
    measured[depth] = ratio = norms_N[:, 0] / norms_N[:, -1]
    rows.append([str(depth), sci(factor ** (depth - 1)), spread(ratio),
                 f"{np.median(ratio ** (1 / (depth - 1))):.2f}"])
table(rows, header=["N", "predicted", "measured", "per layer"],
      caption=f"Layer 1 / layer N, the ratio of gradient norms: predicted "
      f"as {factor:.2f}^(N−1) from the 10-layer networks, measured in five "
      f"fresh sigmoid networks of N layers, median (min–max), and the "
      f"measured factor per layer (median).")
# --8<-- [end:ex_depth]

# --8<-- [start:ex_binary]
z, y = -6.0, 1.0                          # confident, and wrong


def cross_entropy(z):
    return -(y * np.log(sigmoid(z)) + (1 - y) * np.log(1 - sigmoid(z)))


def squared(z):
    return 0.5 * (sigmoid(z) - y) ** 2


s = sigmoid(z)
formulas = {"cross-entropy": (cross_entropy, s - y),
            "squared error": (squared, (s - y) * s * (1 - s))}
for name, (loss, formula) in formulas.items():
    fd = numerical_gradient(lambda v, loss=loss: float(loss(v[0])),
                            np.array([z]))[0]
    print(f"{name:<14} dL/dz = {formula:+.5f}   finite diff. {fd:+.5f}")
# --8<-- [end:ex_binary]

# --8<-- [start:ex_rank]
for k in (2, 3, 5):
    zk = np.linspace(-1.0, 1.0, k)        # any logits
    sk = softmax(zk)
    J = np.diag(sk) - np.outer(sk, sk)
    fd = numerical_jacobian(softmax, zk)
    print(f"k = {k}: rank {np.linalg.matrix_rank(J)}, "
          f"max |J 1| = {np.abs(J @ np.ones(k)).max():.0e}, "
          f"max |J - finite diff.| = {np.abs(J - fd).max():.0e}")
# --8<-- [end:ex_rank]
