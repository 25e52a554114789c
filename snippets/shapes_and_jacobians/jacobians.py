"""Notation, shapes and Jacobians (docs/shapes-and-jacobians.md runs these sections in order).

The network of source note 003, with its sizes (layer l - 1: p, layer l: n, layer l + 1: m):
x (q) -> z1 = W1 x + b1 (p) -> y1 = g(z1) -> z2 = W2 y1 + b2 (n) -> y2 = h(z2)
-> z3 = W3 y2 + b3 (m) -> y3 = h(z3) -> R(y3), a scalar.
"""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import SIGMOID, TANH
from snippets.bp.gradcheck import max_abs_diff, numerical_jacobian
from snippets.bp.layers import dense_jacobian_weights
from snippets.figures import figure, show

q, p, n, m = 5, 4, 3, 2        # input size, then widths of layers 1, 2, 3
rng = np.random.default_rng(3)
x = rng.normal(size=q)
W1, b1 = rng.normal(size=(p, q)), rng.normal(size=p)
W2, b2 = rng.normal(size=(n, p)), rng.normal(size=n)
W3, b3 = rng.normal(size=(m, n)), rng.normal(size=m)
target = rng.normal(size=m)
g, h = SIGMOID, TANH           # the note's two activation functions


def forward(x, W1=W1, W2=W2, W3=W3):
    """z1, y1, z2, y2, z3, y3 for one example (column vectors as 1-d arrays)."""
    z1 = W1 @ x + b1
    y1 = g(z1)
    z2 = W2 @ y1 + b2
    y2 = h(z2)
    z3 = W3 @ y2 + b3
    return z1, y1, z2, y2, z3, h(z3)


def R_of_y3(y3):
    """The loss, R^m -> R: half the squared distance to a target."""
    return 0.5 * float(np.sum((y3 - target) ** 2))


def R(x, **weights):
    return R_of_y3(forward(x, **weights)[-1])


def report(name, analytic, numeric):
    """Shapes of both, and their largest difference."""
    print(f"{name:<8} analytic {analytic.shape!s:<8} "
          f"finite differences {numeric.shape!s:<8} "
          f"max |diff| {max_abs_diff(analytic, numeric):.1e}")


z1, y1, z2, y2, z3, y3 = forward(x)
# --8<-- [end:setup]

# --8<-- [start:layout]
dR_dy3 = numerical_jacobian(R_of_y3, y3)  # one number per entry of y3
print("as a row, numerator layout:", dR_dy3.reshape(1, m).shape,
      dR_dy3.round(4))
print("as a column, the gradient: ", dR_dy3.reshape(m, 1).shape)
print("analytic, y3 - target:     ", (y3 - target).round(4))
# --8<-- [end:layout]

# --8<-- [start:activation]
J_h = h.jacobian(z3)                      # diag(h'(z3)), m x m
report("dy3/dz3", J_h, numerical_jacobian(h, z3))
grad_y3 = y3 - target
by_matrix = grad_y3 @ J_h                 # (1 x m)(m x m)
by_elementwise = h.df(z3) * grad_y3       # h'(z3) ⊙ ∇R
report("dR/dz3", by_elementwise,
       numerical_jacobian(lambda z: R_of_y3(h(z)), z3))
print("row times diagonal matrix == elementwise product:",
      np.allclose(by_matrix, by_elementwise))
# --8<-- [end:activation]

# --8<-- [start:linear]
J_lin = numerical_jacobian(lambda y: W3 @ y + b3, y2)
report("dz3/dy2", W3, J_lin)              # rows: z3[i], columns: y2[j]
rows_y_columns_z = J_lin.T                # the note's arrangement
print("rows indexed by y, columns by z:", rows_y_columns_z.shape,
      "; W3:", W3.shape)
print("it is W3.T:", np.allclose(rows_y_columns_z, W3.T))
# --8<-- [end:linear]

# --8<-- [start:backward_one]
delta3 = by_elementwise                   # ∂R/∂z3
dR_dy2 = delta3 @ W3                      # (1 x m)(m x n) = (1 x n)
report("dR/dy2", dR_dy2,
       numerical_jacobian(lambda y: R_of_y3(h(W3 @ y + b3)), y2))
# --8<-- [end:backward_one]

# --8<-- [start:weights]
grad_W3 = np.outer(delta3, y2)            # δ3 y2ᵀ: m x n, the shape of W3
report("dR/dW3", grad_W3, numerical_jacobian(lambda W: R(x, W3=W), W3))
T = dense_jacobian_weights(y2, m)         # ∂z3/∂W3, a 3-tensor
contracted = np.einsum("i,ijk->jk", delta3, T)
print(f"∂z3/∂W3 is {T.shape}; δ3 contracted with it is "
      f"{contracted.shape}, equal to δ3 y2ᵀ: {np.allclose(contracted, grad_W3)}")
note = np.outer(y2, delta3)               # the note's "y2 · ∂R/∂z"
print("the note's product:", note.shape, "; W3:", W3.shape)
try:
    W3 - 0.1 * note
except ValueError as error:
    print("W3 - 0.1 * note ->", error)
# --8<-- [end:weights]

# --8<-- [start:chain]
factors = {
    "∂R/∂y3": grad_y3[None, :], "∂y3/∂z3": h.jacobian(z3), "∂z3/∂y2": W3,
    "∂y2/∂z2": h.jacobian(z2), "∂z2/∂y1": W2,
}
product = np.linalg.multi_dot(list(factors.values()))
print(" ".join(f"{J.shape}" for J in factors.values()), "=", product.shape)
report("dR/dy1", product[0], numerical_jacobian(
    lambda y: R_of_y3(h(W3 @ h(W2 @ y + b2) + b3)), y1))
# --8<-- [end:chain]

# --8<-- [start:shifted]
note_line = [dR_dy2[None, :], h.jacobian(z2), W2, g.jacobian(z1), W1]
note_product = np.linalg.multi_dot(note_line)
print(" ".join(f"{J.shape}" for J in note_line), "=", note_product.shape)
print("∂R/∂y1 would be", (1, p), "; the product matches ∂R/∂x:")
report("dR/dx", note_product[0], numerical_jacobian(R, x))
# --8<-- [end:shifted]

# --8<-- [start:w2]
delta2 = (delta3 @ W3) * h.df(z2)         # δ2 = diag(h'(z2)) W3ᵀ δ3
grad_W2 = np.outer(delta2, y1)            # δ2 y1ᵀ: n x p
report("dR/dW2", grad_W2, numerical_jacobian(lambda W: R(x, W2=W), W2))
as_written = y1[:, None] @ delta2[None, :] @ W2 @ g.jacobian(z1)
as_annotated = y1[:, None] @ (delta3 @ W3 @ h.jacobian(z2))[None, :]
print("as written:", as_written.shape,
      "; with the note's shapes:", as_annotated.shape,
      "; needed:", grad_W2.shape)
print("the annotated product is the transpose:",
      np.allclose(as_annotated, grad_W2.T))
# --8<-- [end:w2]

# --8<-- [start:heatmap]
a = rng.normal(size=8)
panels = {
    "∂y/∂z = diag(h'(z))\n(6 × 6)": h.jacobian(rng.normal(size=6)),
    "∂z/∂a = W\n(6 × 8)": rng.normal(size=(6, 8)),
    "∂z/∂vec(W): row i holds aᵀ in block i\n(6 × 48)":
        dense_jacobian_weights(a, 6).reshape(6, 48),
}
fig = figure(figsize=(7.2, 4.4), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[1.25, 1])
axes = [*top.subplots(1, 2, width_ratios=[6, 8]), bottom.subplots()]
for ax, (title, J) in zip(axes, panels.items(), strict=True):
    limit = np.abs(J).max()
    ax.imshow(J, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
show(
    fig,
    alt="Three heat maps in red and blue on white. A 6 by 6 matrix that is "
    "zero except on its diagonal; a dense 6 by 8 matrix; a 6 by 48 matrix "
    "that is zero except for one block of 8 entries per row, the blocks "
    "stepping down the diagonal, each block the same vector.",
    caption="Three Jacobians of one layer (white is 0). An elementwise "
    "activation gives a diagonal; the linear map gives W itself; the weights "
    "give a sparse 6 × 48 matrix whose row i repeats the input a in block i. "
    "Contracting it with δ gives δ aᵀ: weight gradients are outer products.",
)
# --8<-- [end:heatmap]

# --8<-- [start:memory]
def size(n_bytes):
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    k = min(int(np.log2(n_bytes) // 10), len(units) - 1)
    return f"{n_bytes / 1024 ** k:,.0f} {units[k]}"


batch, d = 64, 4096                       # y = x W, x: 64 x 4096, W: 4096 x 4096
outputs = batch * d
jacobian = {"∂y/∂x": outputs * batch * d, "∂y/∂W": outputs * d * d}
needed = {"∂y/∂x": batch * d, "∂y/∂W": d * d}   # g Wᵀ and xᵀ g
for name in jacobian:
    print(f"{name}: Jacobian {jacobian[name]:.2e} numbers = "
          f"{size(4 * jacobian[name]):>8} in float32; "
          f"backprop keeps {size(4 * needed[name]):>7}")
# --8<-- [end:memory]

