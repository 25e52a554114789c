"""Solutions to the exercises of docs/products-of-jacobians.md (session
"exercises", these sections in order)."""

# --8<-- [start:jordan3]
import numpy as np

from snippets.bp.activations import TANH
from snippets.bp.mlp import build_mlp

J3 = np.eye(3) + np.eye(3, k=1)             # eigenvalue 1, three times
print("eigenvalues:", np.linalg.eigvals(J3))
jordan3 = {t: np.linalg.norm(np.linalg.matrix_power(J3, t), 2)
           for t in (10, 100, 1000)}
for t, norm in jordan3.items():
    print(f"t = {t:4d}: ‖J3^t‖ = {norm:9.1f}, ‖J3^t‖ / (t²/2) = "
          f"{norm / (t ** 2 / 2):.3f}")
# --8<-- [end:jordan3]


# --8<-- [start:shapes]
weight_ss, input_ss = np.random.SeedSequence(20).spawn(2)
net = build_mlp(np.random.default_rng(weight_ss), [784, 256, 64, 10], TANH,
                init="glorot", out_g=TANH)
fwd = net.forward(np.random.default_rng(input_ss).normal(size=(1, 784)))
Js = [TANH.df(fwd.z[l][0])[:, None] * net.layers[l - 1].W  # diag(g') W_l
      for l in (1, 2, 3)]
product = Js[2] @ Js[1] @ Js[0]
s = np.linalg.svd(product, compute_uv=False)
print("J_1, J_2, J_3:", [J.shape for J in Js], " product:", product.shape)
print(f"{len(s)} singular values, {np.sum(s > 1e-12 * s[0])} non-zero, "
      f"from {s[-1]:.2e} to {s[0]:.2e}")
# --8<-- [end:shapes]


# --8<-- [start:tanh_bound]
c = 2 ** (-1 / 10)
weight_ss, input_ss = np.random.SeedSequence(21).spawn(2)
G = np.random.default_rng(weight_ss).normal(size=(30, 32, 32))
Ws = c * G / np.linalg.norm(G, 2, axis=(1, 2))[:, None, None]
a = np.random.default_rng(input_ss).normal(size=32)
J_total = np.eye(32)
for W_l in Ws:
    z = W_l @ a
    a = TANH(z)
    J_total = (TANH.df(z)[:, None] * W_l) @ J_total
print(f"c = {c:.3f}; after 30 layers: bound c^30 = {c ** 30:.3f}, "
      f"‖J_30 ⋯ J_1‖ = {np.linalg.norm(J_total, 2):.1e}")
# --8<-- [end:tanh_bound]


# --8<-- [start:nonnormal]
s_grid = np.arange(0.2, 0.3, 0.001)         # one matrix M(s) per value of s
M_s = np.zeros((len(s_grid), 2, 2))
M_s[:, 0, 0], M_s[:, 0, 1], M_s[:, 1, 1] = 0.9, s_grid, 0.8
power, largest = np.eye(2), np.zeros(len(s_grid))
for _ in range(100):                        # max over t of ||M(s)^t||
    power = M_s @ power
    largest = np.maximum(largest, np.linalg.norm(power, 2, axis=(1, 2)))
first = s_grid[np.argmax(largest > 1)]
print(f"on a grid of step 0.001, the first s with a power above 1: "
      f"{first:.3f}")
print(f"where ‖M‖ = 1: s = {np.sqrt(1 + 0.72 ** 2 - 0.81 - 0.64):.4f}")
# --8<-- [end:nonnormal]
