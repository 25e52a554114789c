"""Exercises of docs/shapes-and-jacobians.md: each section computes one answer.

Each section stands alone (its own imports and random streams), so the page can run them
in their own session and the tests can call them.
"""

# --8<-- [start:ex_batch]
import numpy as np

from snippets.bp.gradcheck import numerical_jacobian
from snippets.bp.layers import dense, dense_backward

rng_W, rng_a, rng_g = (np.random.default_rng(s)
                       for s in np.random.SeedSequence(11).spawn(3))
W, b = rng_W.normal(size=(5, 3)), np.zeros(5)   # n_out = 5, n_in = 3
a = rng_a.normal(size=(7, 3))                  # a batch of 7, as rows
z = dense(W, b, a)                             # a @ W.T + b
delta = rng_g.normal(size=z.shape)             # some upstream δ, as rows
grad_W, grad_b, grad_a = dense_backward(W, a, delta)
for name, value in [("z", z), ("delta", delta), ("grad_W", grad_W),
                    ("grad_b", grad_b), ("grad_a", grad_a)]:
    print(f"{name:<7}{value.shape}")
# --8<-- [end:ex_batch]

# --8<-- [start:ex_block]
J = numerical_jacobian(lambda v: dense(W, b, v), a)   # ∂z/∂a, whole batch
print("∂z/∂a for the batch:", J.shape)
nonzero = np.count_nonzero(np.abs(J) > 1e-12) / J.size
print(f"share of entries that are not zero: {nonzero:.3f}"
      f" = 1/{1 / nonzero:.0f}")
blocks_are_W = all(np.allclose(J[i, :, i, :], W, atol=1e-9) for i in range(7))
print("every diagonal block J[i, :, i, :] is W:", blocks_are_W)
# --8<-- [end:ex_block]

# --8<-- [start:ex_trace]
rng_W, rng_y, rng_d = (np.random.default_rng(s)
                       for s in np.random.SeedSequence(12).spawn(3))
m, n = 2, 3
W3, y2, target = (rng_W.normal(size=(m, n)), rng_y.normal(size=n),
                  rng_y.normal(size=m))


def R(W):
    """½ ||tanh(W y2) - target||², a scalar function of W (m x n)."""
    return 0.5 * float(np.sum((np.tanh(W @ y2) - target) ** 2))


z3 = W3 @ y2
delta3 = (np.tanh(z3) - target) * (1 - np.tanh(z3) ** 2)  # (∂R/∂z3)ᵀ
grad = np.outer(delta3, y2)              # ∇_W R: m x n
D = np.outer(y2, delta3)                 # numerator layout: n x m
step = 1e-6 * rng_d.normal(size=(m, n))  # a small change ΔW
change = R(W3 + step) - R(W3)
print(f"R(W + ΔW) - R(W)       {change:.6e}")
print(f"trace(D ΔW), D: {D.shape}  {np.trace(D @ step):.6e}")
print(f"sum of ∇ ⊙ ΔW, ∇: {grad.shape} {np.sum(grad * step):.6e}")
# --8<-- [end:ex_trace]
