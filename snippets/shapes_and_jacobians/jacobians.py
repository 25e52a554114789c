"""Notation, shapes and Jacobians (docs/shapes-and-jacobians.md runs these sections in order).

The network of source note 003, with its sizes (layer l - 1: p, layer l: n, layer l + 1: m):
x (q) -> z1 = W1 x + b1 (p) -> y1 = g(z1) -> z2 = W2 y1 + b2 (n) -> y2 = h(z2)
-> z3 = W3 y2 + b3 (m) -> y3 = h(z3) -> R(y3), a scalar.

Vectors are 1-d arrays, which NumPy treats as neither rows nor columns; where the
difference matters the code says which with [None, :] (a row) or [:, None] (a column).
"""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import SIGMOID, TANH
from snippets.bp.gradcheck import (
    max_abs_diff,
    numerical_gradient,
    numerical_jacobian,
)
from snippets.bp.layers import dense_jacobian_weights
from snippets.figures import show, subplots, table

q, p, n, m = 5, 4, 3, 2        # input size, then widths of layers 1, 2, 3
init, data, drawing = (np.random.default_rng(s)    # independent streams
                       for s in np.random.SeedSequence(3).spawn(3))
W1, b1 = init.normal(size=(p, q)), init.normal(size=p)
W2, b2 = init.normal(size=(n, p)), init.normal(size=n)
W3, b3 = init.normal(size=(m, n)), init.normal(size=m)
x, target = data.normal(size=q), data.normal(size=m)
g, h = SIGMOID, TANH           # the note's two activation functions


def forward(x, W1=W1, W2=W2, W3=W3):
    """z1, y1: (p,), z2, y2: (n,), z3, y3: (m,) for one example x: (q,)."""
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
    """The loss of the whole network, as a function of x or of one W."""
    return R_of_y3(forward(x, **weights)[-1])


def report(name, analytic, numeric):
    """Shapes of both, and their largest difference."""
    print(f"{name:<8} analytic {analytic.shape!s:<8} "
          f"finite differences {numeric.shape!s:<8} "
          f"max |diff| {max_abs_diff(analytic, numeric):.0e}")


def verdict(result, grad):
    """What a candidate for the weight gradient turns out to be, as a
    table cell: grad (m x n) itself, its transpose, zero, or neither."""
    if isinstance(result, str):            # NumPy refused the product
        return result
    shape = f"{result.shape[0]} × {result.shape[1]}"
    if result.shape == grad.shape and np.allclose(result, grad):
        return f"{shape} = ∇ ({max_abs_diff(result, grad):.0e})"
    if result.shape == grad.T.shape and np.allclose(result, grad.T):
        return f"{shape} = ∇ᵀ ({max_abs_diff(result, grad.T):.0e})"
    if not np.any(result):
        return f"{shape}: zero"
    if result.size == 1:
        return "1 × 1: a number"
    return f"{shape}: neither"


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
grad_y3 = y3 - target                     # ∇_y3 R, the column
by_matrix = grad_y3[None, :] @ J_h        # (1 x m)(m x m): ∂R/∂z3, a row
delta3 = h.df(z3) * grad_y3               # h'(z3) ⊙ ∇_y3 R = δ3, a column
report("dR/dz3", delta3,
       numerical_jacobian(lambda z: R_of_y3(h(z)), z3))
print("row times diagonal matrix == elementwise product:",
      np.allclose(by_matrix[0], delta3))
# --8<-- [end:activation]

# --8<-- [start:linear]
J_lin = numerical_jacobian(lambda y: W3 @ y + b3, y2)
report("dz3/dy2", W3, J_lin)              # rows: z3[i], columns: y2[j]
rows_y_columns_z = J_lin.T                # entry (i, j) = ∂z3[j]/∂y2[i]
print("rows indexed by y, columns by z:", rows_y_columns_z.shape,
      "; W3:", W3.shape)
print("it is W3.T:", np.allclose(rows_y_columns_z, W3.T))
# --8<-- [end:linear]

# --8<-- [start:backward_one]
dR_dy2 = delta3[None, :] @ W3             # (1 x m)(m x n) = (1 x n)
report("dR/dy2", dR_dy2[0],
       numerical_jacobian(lambda y: R_of_y3(h(W3 @ y + b3)), y2))
# --8<-- [end:backward_one]

# --8<-- [start:weights]
grad_W3 = np.outer(delta3, y2)            # δ3 y2ᵀ: m x n, the shape of W3
fd_W3 = numerical_gradient(lambda W: R(x, W3=W), W3)
report("∇_W3 R", grad_W3, fd_W3)
T3 = dense_jacobian_weights(y2, m)        # ∂z3/∂W3: T3[i, j, k]
contracted = np.einsum("i,ijk->jk", delta3, T3)   # sum over i
print(f"∂z3/∂W3 is {T3.shape}; ∂R/∂z3 contracted with it over i is "
      f"{contracted.shape},\nequal to δ3 y2ᵀ: "
      f"{np.allclose(contracted, grad_W3)}")
print("numerator layout, y2 ∂R/∂z3:", np.outer(y2, delta3).shape,
      "; its transpose is δ3 y2ᵀ:",
      np.allclose(np.outer(y2, delta3).T, grad_W3))
# --8<-- [end:weights]

# --8<-- [start:w3_lines]
delta2 = (delta3 @ W3) * h.df(z2)         # δ2 = diag(h'(z2)) W3ᵀ δ3: (n,)
row = {"z₂": delta2[None, :], "z₃": delta3[None, :]}   # ∂R/∂z: rows
dz_dW3 = {                                # ∂z/∂W3 by finite differences
    "z₂": numerical_jacobian(lambda W: forward(x, W3=W)[2], W3),
    "z₃": numerical_jacobian(lambda W: forward(x, W3=W)[4], W3),
}
col_y2 = y2[:, None]                      # y2: a column, n x 1


def line_1(z):                            # y2 · ∂R/∂z
    return col_y2 @ row[z]


def line_2(z):                            # ∂R/∂z · ∂z/∂W3, over z's index
    return np.einsum("i,ijk->jk", row[z][0], dz_dW3[z])


def line_3(z):                            # ∂R/∂z · y2
    try:
        return row[z] @ col_y2
    except ValueError:
        return "undefined, m ≠ n"


lines = {"y₂ · ∂R/∂z": line_1, "chain rule": line_2, "∂R/∂z · y₂": line_3}
table([[name, verdict(line("z₂"), fd_W3), verdict(line("z₃"), fd_W3)]
       for name, line in lines.items()],
      header=["line", "with z₂ (as written)", "with z₃"],
      caption=f"Note 003's three lines (the chain rule: ∂R/∂z · ∂z/∂W₃) "
      f"against the gradient ∇ of R̂ by W₃, from finite differences "
      f"({m} × {n}). In brackets: the largest "
      f"difference. The largest entry of ∂z₂/∂W₃ by finite differences is "
      f"{np.abs(dz_dW3['z₂']).max():g}.", align="lll")
# --8<-- [end:w3_lines]

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
note_line = [dR_dy2, h.jacobian(z2), W2, g.jacobian(z1), W1]
note_product = np.linalg.multi_dot(note_line)
print(" ".join(f"{J.shape}" for J in note_line), "=", note_product.shape)
print("∂R/∂y1 would be", (1, p), "; the product matches ∂R/∂x:")
report("dR/dx", note_product[0], numerical_jacobian(R, x))
# --8<-- [end:shifted]

# --8<-- [start:w2]
grad_W2 = np.outer(delta2, y1)            # δ2 y1ᵀ: n x p
fd_W2 = numerical_gradient(lambda W: R(x, W2=W), W2)
report("∇_W2 R", grad_W2, fd_W2)
col_y1 = y1[:, None]                      # y1: a column, p x 1
as_written = col_y1 @ row["z₂"] @ W2 @ g.jacobian(z1)
dR_dz1 = numerical_jacobian(              # ∂R/∂z1, the row it reaches
    lambda z: R_of_y3(h(W3 @ h(W2 @ g(z) + b2) + b3)), z1)
as_annotated = col_y1 @ (row["z₃"] @ W3 @ h.jacobian(z2))
print("as written:", as_written.shape, "= y1 ∂R/∂z1:",
      np.allclose(as_written, np.outer(y1, dR_dz1)))
print("with the note's shapes:", as_annotated.shape,
      "= (∇_W2 R)ᵀ:", np.allclose(as_annotated, fd_W2.T))
# --8<-- [end:w2]

# --8<-- [start:heatmap]
a = drawing.normal(size=5)                # a layer's input, n_in = 5
jacobians = {                             # one layer with n_out = 4
    "diag": h.jacobian(drawing.normal(size=4)),
    "W": drawing.normal(size=(4, 5)),
    "vecW": dense_jacobian_weights(a, 4).reshape(4, 20),
}
titles = {"diag": "∂y/∂z = diag(h′(z))", "W": "∂z/∂a = W",
          "vecW": "∂z/∂W: aᵀ in block i of row i"}
sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")   # y1 -> y₁
sizes = {"diag": (2.6, 2.7), "W": (3.0, 2.7), "vecW": (3.5, 2.4)}
ticks = {"diag": ("z", "y"), "W": ("a", "z"), "vecW": (None, "z")}
panels = []
for key, J in jacobians.items():
    fig, ax = subplots(figsize=sizes[key])
    limit = np.abs(J).max()
    ax.imshow(J, cmap="RdBu_r", vmin=-limit, vmax=limit,
              aspect="auto" if key == "vecW" else "equal")
    ax.set_title(titles[key])
    ax.grid(False)
    column, row_name = ticks[key]
    ax.set_yticks(range(J.shape[0]),
                  [f"{row_name}{i + 1}".translate(sub)
                   for i in range(J.shape[0])])
    if column is None:                    # blocks of 5: one per row of W
        ax.set_xticks([2 + 5 * i for i in range(4)],
                      [f"row {i + 1}" for i in range(4)])
        ax.set_xlabel("entries of W, row by row")
        for edge in (4.5, 9.5, 14.5):
            ax.axvline(edge, color="#888888", linewidth=1)
    else:
        ax.set_xticks(range(J.shape[1]),
                      [f"{column}{j + 1}".translate(sub)
                       for j in range(J.shape[1])])
    ax.tick_params(length=0)
    panels.append(fig)
show(
    panels,
    alt=["A 4 by 4 heat map, white except for the four cells of its "
         "diagonal, which are shades of red (positive).",
         "A 4 by 5 heat map with every cell coloured, red and blue.",
         "A 4 by 20 heat map divided by grey lines into four blocks of 5 "
         "columns. Row i is white except in block i, where it holds the "
         "same 5 colours in every row: the blocks step down the diagonal."],
    caption="Three Jacobians of one layer with 5 inputs and 4 outputs "
    "(red positive, blue negative, white zero). The activation's Jacobian "
    "is diagonal; the linear map's is W itself, dense; the derivative of z "
    "by the 20 entries of W has one block per row of W: output z_i sees "
    "only row i of W, and the input a fills that block.",
)
# --8<-- [end:heatmap]

# --8<-- [start:memory]
def size(n_bytes):
    """n_bytes in the largest binary unit that leaves at least 1."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    k = min(int(np.log2(n_bytes) // 10), len(units) - 1)
    return f"{n_bytes / 1024 ** k:,.0f} {units[k]}"


batch, d = 64, 4096                       # y = x W: x is 64 x d, W is d x d
outputs = batch * d
jacobian = {"∂y/∂x": outputs * batch * d, "∂y/∂W": outputs * d * d}
needed = {"∂y/∂x": batch * d, "∂y/∂W": d * d}   # δ Wᵀ and xᵀ δ
table([[name, f"{jacobian[name]:.1e}", size(4 * jacobian[name]),
        size(4 * needed[name])] for name in jacobian],
      header=["Jacobian", "entries", "float32", "backprop keeps"],
      caption="One layer y = xW with a batch of 64 and d = 4096.")
# --8<-- [end:memory]
