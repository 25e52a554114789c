"""Solutions to the exercises of docs/residual-gradient.md (the page runs
these sections in its session, after gradient.py's sections)."""

# --8<-- [start:ex_setup]
from itertools import product

import numpy as np

from snippets.bp.activations import RELU
from snippets.bp.gradcheck import max_abs_diff, numerical_jacobian
from snippets.bp.mlp import build_mlp

# --8<-- [end:ex_setup]


def streams(key, n):
    """n independent generators for the section with this key (as on the
    page)."""
    seqs = np.random.SeedSequence([2016, *np.atleast_1d(key)]).spawn(n)
    return [np.random.default_rng(s) for s in seqs]


# --8<-- [start:ex_cancel]
n = 5
W_a, W_b = np.eye(n), -np.eye(n)          # a branch that learned F(x) = -x


def cancel_block(x_):
    return x_ + W_b @ RELU(W_a @ x_)


rng_x, rng_g = streams(20, 2)
x_pos = np.abs(rng_x.normal(size=n)) + 0.5      # every unit of W_a x on
g_up = rng_g.normal(size=n)                     # any upstream gradient
J_block = numerical_jacobian(cancel_block, x_pos)
print(f"|g| = {np.linalg.norm(g_up):.2f};  "
      f"|(I + J_F)^T g| = {np.linalg.norm(J_block.T @ g_up):.0e}")
# --8<-- [end:ex_cancel]


# --8<-- [start:ex_paths]
K, width = 3, 4                      # 3 blocks of two layers: 2K layers
rng_W, rng_x = streams(21, 2)
net = build_mlp(rng_W, [width] * (2 * K + 1), RELU, out_g=RELU,
                skip_every=2)        # layer 2k has a shortcut from a_(2k-2)
fwd_K = net.forward(rng_x.normal(size=(1, width)))
g_out = np.ones((1, width))          # dL/da_N for L = sum of the outputs
bp = net.backward(fwd_K, g_out).a[0][0]


def path_term(choice):
    """The term of dL/dx of one path: choice[k] is "F" (through block k's
    two layers) or "skip" (its shortcut), for the blocks from the top."""
    v = g_out[0]
    for k, route in zip(range(K, 0, -1), choice, strict=True):
        v = RELU.df(fwd_K.z[2 * k][0]) * v          # the ReLU after the +
        if route == "F":                            # back through F
            v = net.layers[2 * k - 1].W.T @ v           # W_(2k)^T
            v = RELU.df(fwd_K.z[2 * k - 1][0]) * v
            v = net.layers[2 * k - 2].W.T @ v           # W_(2k-1)^T
    return v


terms = {c: path_term(c) for c in product(("F", "skip"), repeat=K)}
print(f"{len(terms)} paths for {K} blocks; sum - back-propagation: "
      f"{max_abs_diff(sum(terms.values()), bp):.0e}")
# --8<-- [end:ex_paths]


# --8<-- [start:ex_ones]
d4 = 4
M = np.ones((d4, d4)) - np.eye(d4)        # (ones reading) - (true Jacobian)
print("eigenvalues of 11^T - I:", np.linalg.eigvalsh(M).round(6))
# --8<-- [end:ex_ones]
