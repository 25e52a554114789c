"""Backpropagation through an MLP (docs/backprop-mlp.md runs these sections in order).

Each formula of the chapter is a function here; tests/test_backprop_mlp.py calls the same
functions with other sizes and seeds and compares them with finite differences.
"""

# --8<-- [start:setup]
import textwrap

import numpy as np

from snippets.bp.activations import RELU, SIGMOID, sigmoid, sigmoid_prime
from snippets.bp.gradcheck import (
    check_network,
    max_abs_diff,
    numerical_gradient,
    numerical_jacobian,
)
from snippets.bp.losses import (
    log_output_cross_entropy,
    log_output_cross_entropy_grad,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
    squared_error,
    squared_error_grad,
)
from snippets.bp.mlp import build_mlp
from snippets.figures import show, subplots

rng = np.random.default_rng(0)
M, L1, L2, L3 = 5, 4, 3, 1     # note 000: input size M, widths L1, L2, L3
# --8<-- [end:setup]


# --8<-- [start:note000_shapes]
alpha2 = rng.normal(size=L2)
W3_note = rng.normal(size=(L2, L3))        # note 000: shape(W3) = L2 x L3
try:
    W3_note @ alpha2
except ValueError as error:
    print("W3 @ alpha2 raises ValueError:")
    print(textwrap.fill(str(error), 76, initial_indent="  ",
                        subsequent_indent="  "))
print("row convention, alpha2ᵀ W3:     ", (alpha2 @ W3_note).shape)
print("site's W3 = W3_noteᵀ, W3 alpha2:", (W3_note.T @ alpha2).shape)
# --8<-- [end:note000_shapes]


# --8<-- [start:three_layer]
def forward_000(x, W1, W2, W3):
    """Note 000's network, W_l of shape (L_l, L_{l-1}), no biases."""
    z1 = W1 @ x
    a1 = sigmoid(z1)
    z2 = W2 @ a1
    a2 = sigmoid(z2)
    z3 = W3 @ a2
    return z1, a1, z2, a2, z3, sigmoid(z3)


def loss_000(x, y, W1, W2, W3):
    """L = ||σ(W3 α2) - y||², the note's loss (no factor 1/2)."""
    return float(np.sum((forward_000(x, W1, W2, W3)[-1] - y) ** 2))


def grads_000(x, y, W1, W2, W3):
    """dL/dW1, dL/dW2, dL/dW3 by the chain rule, written out."""
    z1, a1, z2, a2, z3, a3 = forward_000(x, W1, W2, W3)
    delta3 = 2 * (a3 - y) * sigmoid_prime(z3)     # ∂L/∂z3   (L3)
    delta2 = (W3.T @ delta3) * sigmoid_prime(z2)  # ∂L/∂z2   (L2)
    delta1 = (W2.T @ delta2) * sigmoid_prime(z1)  # ∂L/∂z1   (L1)
    return np.outer(delta1, x), np.outer(delta2, a1), np.outer(delta3, a2)


x = rng.normal(size=M)
y = rng.uniform(size=L3)
W = {"W1": rng.normal(size=(L1, M)), "W2": rng.normal(size=(L2, L1)),
     "W3": W3_note.T}
analytic = dict(zip(W, grads_000(x, y, **W), strict=True))
for name in W:
    numeric = numerical_gradient(
        lambda V, name=name: loss_000(x, y, **{**W, name: V}), W[name])
    print(f"dL/d{name}: {analytic[name].shape}, "
          f"max |analytic - finite diff.| = {max_abs_diff(analytic[name], numeric):.1e}")
# --8<-- [end:three_layer]


# --8<-- [start:layer_jacobian]
z1, a1, z2, a2, z3, a3 = forward_000(x, **W)
J3 = numerical_jacobian(lambda a: sigmoid(W["W3"] @ a), a2)   # ∂α3/∂α2
J2 = numerical_jacobian(lambda a: sigmoid(W["W2"] @ a), a1)   # ∂α2/∂α1
print(f"∂α3/∂α2: {J3.shape} = (L3, L2); ∂α2/∂α1: {J2.shape} = (L2, L1)")
print("∂α3/∂α2 = diag(σ'(z3)) W3:",
      f"max |diff| = {max_abs_diff(J3, sigmoid_prime(z3)[:, None] * W['W3']):.1e}")
# --8<-- [end:layer_jacobian]


# --8<-- [start:tensor]
W1_note = W["W1"].T                    # the note's W1: M x L1, α1 = σ(xᵀ W1)


def alpha1_of(W1n):
    return sigmoid(x @ W1n)


def tensor_000(x, W1n):
    """∂α1/∂W1 in the note's convention: T[i, j, k] = σ'(z_i) x_j [k = i]."""
    s = sigmoid_prime(x @ W1n)
    return s[:, None, None] * x[None, :, None] * np.eye(len(s))[:, None, :]


T = tensor_000(x, W1_note)
print("∂α1/∂W1:", T.shape, "= [L1, M, L1]; max |analytic - finite diff.| =",
      f"{max_abs_diff(T, numerical_jacobian(alpha1_of, W1_note)):.1e}")
upstream = (W["W2"].T @ ((W["W3"].T @ (2 * (a3 - y) * sigmoid_prime(z3)))
                         * sigmoid_prime(z2)))             # ∂L/∂α1: [1, L1]
contracted = np.einsum("i,ijk->jk", upstream, T)           # [1,L1]·[L1,M,L1]
print("[1, L1] · [L1, M, L1] ->", contracted.shape,
      "; equals (dL/dW1)ᵀ:", np.allclose(contracted, analytic["W1"].T))
print(f"entries: tensor {T.size}, the gradient it contracts to {contracted.size}")
# --8<-- [end:tensor]


# --8<-- [start:check_library]
net = build_mlp(rng, [M, 6, 6, 6, 2], SIGMOID, init="gaussian")
for l, layer in enumerate(net.layers, start=1):   # nonzero biases, for a fair test
    net = net.with_param(f"b{l}", rng.normal(scale=0.5, size=layer.b.shape))
X, Y = rng.normal(size=(8, M)), rng.normal(size=(8, 2))
diffs = check_network(net, X, lambda y_hat: squared_error(y_hat, Y),
                      lambda y_hat: squared_error_grad(y_hat, Y))
print("max |backprop - finite differences|, batch of 8:")
items = [f"{name:>3} {diff:.0e}" for name, diff in diffs.items()]
for start in range(0, len(items), 5):
    print("   ".join(items[start:start + 5]))
# --8<-- [end:check_library]


# --8<-- [start:note002]
def note002_gradient(width, seed):
    """dR/dW1 for Z_l = W_l A_{l-1}, A_l = σ(Z_l), R = ½||A_3 - Y||²:
    (correct, the note's separated products, finite differences)."""
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=width), rng.normal(size=width)
    Ws = [rng.normal(size=(width, width)) / np.sqrt(width) for _ in range(3)]

    def forward(W1):
        A, Zs = X, []
        for W in [W1, *Ws[1:]]:
            Zs.append(W @ A)
            A = sigmoid(Zs[-1])
        return Zs, A

    Zs, A3 = forward(Ws[0])
    D1, D2, D3 = (np.diag(sigmoid_prime(Z)) for Z in Zs)
    row = (A3 - Y)[None, :]                         # dR/dA3, 1 x width
    correct = row @ D3 @ Ws[2] @ D2 @ Ws[1] @ D1    # alternating
    separated = row @ D3 @ D2 @ D1 @ Ws[2] @ Ws[1]  # all g', then all W
    numeric = numerical_gradient(
        lambda W1: 0.5 * float(np.sum((forward(W1)[1] - Y) ** 2)), Ws[0])
    return np.outer(correct, X), np.outer(separated, X), numeric


for width in (1, 8):
    correct, separated, numeric = note002_gradient(width, seed=1)
    relative = max_abs_diff(separated, correct) / np.max(np.abs(correct))
    print(f"width {width}: correct vs finite diff. "
          f"{max_abs_diff(correct, numeric):.0e}; separated vs correct, "
          f"relative {relative:.1e}")
# --8<-- [end:note002]


# --8<-- [start:note004]
def note004(x, y, W1, b1, W2, b2):
    """ŷ = W2 σ(W1 x + b1) + b2 + x, L = ½||ŷ - y||². Returns L, the correct
    dL/dW1, and note 004's expression read as a left-to-right product."""
    a1 = sigmoid(W1 @ x + b1)
    error = W2 @ a1 + b2 + x - y                        # ŷ - y
    correct = np.outer((W2.T @ error) * a1 * (1 - a1), x)
    literal = (error @ W2) @ (a1 * (1 - a1)) * x        # (ŷ-y) w2 a1(1-a1) x
    return 0.5 * float(error @ error), correct, literal


d, k = 3, 4                       # x and ŷ in R^d, hidden width k
p4 = dict(W1=rng.normal(size=(k, d)), b1=rng.normal(size=k),
          W2=rng.normal(size=(d, k)), b2=rng.normal(size=d))
x4, y4 = rng.normal(size=d), rng.normal(size=d)
_, correct, literal = note004(x4, y4, **p4)
numeric = numerical_gradient(
    lambda V: note004(x4, y4, **{**p4, "W1": V})[0], p4["W1"])
print("finite differences:", numeric.shape, "; W1:", p4["W1"].shape)
print("[(W2ᵀ(ŷ-y)) ⊙ a1 ⊙ (1-a1)] xᵀ:", correct.shape,
      f"max |diff| {max_abs_diff(correct, numeric):.0e}")
print("(ŷ-y) w2 a1(1-a1) x, as products:", literal.shape)
# --8<-- [end:note004]


# --8<-- [start:note001]
x5 = rng.uniform(0.1, 2.0, size=4)       # ReLU outputs: positive, not normalised
p = np.array([0.0, 1.0, 0.0, 0.0])       # one-hot target
rows = {
    "-Σ p log x5 (as written)": (
        lambda v: log_output_cross_entropy(v, p),
        log_output_cross_entropy_grad(x5, p)),
    "-Σ p log softmax(x5)": (
        lambda v: softmax_cross_entropy(v, p),
        softmax_cross_entropy_grad(x5, p)),
}
print(f"{'loss':<26} {'|x5 - p - FD|':>14} {'|correct - FD|':>15}  correct")
for name, (loss, correct) in rows.items():
    numeric = numerical_gradient(loss, x5)
    print(f"{name:<26} {max_abs_diff(x5 - p, numeric):14.1e} "
          f"{max_abs_diff(correct, numeric):15.0e}  "
          f"{'-p / x5' if 'as written' in name else 'softmax(x5) - p'}")
print("x5 =", x5.round(3), "; softmax(x5) =", softmax(x5).round(3))
# --8<-- [end:note001]


# --8<-- [start:norms]
def layer_gradient_norms(g, init, depth=10, width=32, batch=64, seed=0):
    """||dL/dW_l|| (Frobenius) for l = 1..depth of a fresh network."""
    rng = np.random.default_rng(seed)
    net = build_mlp(rng, [width] * (depth + 1), g, init=init)
    X, Y = rng.normal(size=(batch, width)), rng.normal(size=(batch, width))
    fwd = net.forward(X)
    grads = net.backward(fwd, squared_error_grad(fwd.a[-1], Y))
    return np.array([np.linalg.norm(grads.W[l]) for l in range(1, depth + 1)])


norms = {"sigmoid, N(0, 1/n)": layer_gradient_norms(SIGMOID, "gaussian"),
         "ReLU, He": layer_gradient_norms(RELU, "he")}
for label, values in norms.items():
    print(f"{label:<19} layer 1: {values[0]:.1e}   layer 10: {values[-1]:.1e}"
          f"   ratio {values[0] / values[-1]:.1e}")
# --8<-- [end:norms]

# --8<-- [start:norms_plot]
fig, ax = subplots(figsize=(6.4, 3.4))
for (label, values), marker in zip(norms.items(), "os", strict=True):
    ax.semilogy(range(1, 11), values, marker=marker, label=label)
ax.set_xlabel("layer l (1 = nearest the input)")
ax.set_ylabel(r"$\|\partial \mathcal{L} / \partial W_l\|$")
ax.set_xticks(range(1, 11))
ax.legend()
show(
    fig,
    alt="Line plot on a log scale of the gradient norm of each of 10 layers. "
    "For the sigmoid network it falls steadily from the last layer to the "
    "first, by several orders of magnitude; for the ReLU network with He "
    "initialisation it stays within one order of magnitude.",
    caption="Gradient norm per layer of two fresh 10-layer networks, one "
    "batch. Through sigmoid layers the gradient shrinks by a roughly constant "
    "factor per layer on its way to the input; ReLU layers with He "
    "initialisation keep it level. The next chapters explain both.",
)
# --8<-- [end:norms_plot]
