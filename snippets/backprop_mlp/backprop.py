"""Backpropagation through an MLP (docs/backprop-mlp.md runs these sections in order).

Each formula of the chapter is a function here; tests/test_backprop_mlp.py calls the same
functions with other sizes and seeds and compares them with finite differences.

Vectors are 1-d arrays, which NumPy treats as neither rows nor columns; where the
difference matters the code says which with [None, :] (a row) or [:, None] (a column).
"""

# --8<-- [start:setup]
import textwrap

import numpy as np

from snippets.bp.activations import RELU, SIGMOID, sigmoid, sigmoid_prime
from snippets.bp.gradcheck import (
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
from snippets.bp.mlp import MLP, build_mlp
from snippets.figures import show, subplots, table

# Independent streams: weights, biases and data never share one.
weights, biases, data = (np.random.default_rng(s)
                         for s in np.random.SeedSequence(0).spawn(3))
M, L1, L2, L3 = 5, 4, 3, 1     # note 000: input size M, widths L1, L2, L3


def sci(v, fmt=".0e"):
    """v in scientific notation without a padded exponent: 2e-6."""
    return f"{v:{fmt}}".replace("e-0", "e-").replace("e+0", "e+")


def diff_text(v):
    """A difference for a table: rounding noise as 1e-10, gaps as 0.15."""
    return sci(v) if v < 1e-3 else f"{v:.2f}"


def spread(values, fmt=".0e"):
    """median (min–max) of values over seeds, as text."""
    return (f"{sci(np.median(values), fmt)} ({sci(values.min(), fmt)}–"
            f"{sci(values.max(), fmt)})")
# --8<-- [end:setup]


# --8<-- [start:note000_shapes]
alpha2 = data.normal(size=L2)
W3_note = weights.normal(size=(L2, L3))    # note 000: shape(W3) = L2 x L3
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
    """∇_W1 L, ∇_W2 L, ∇_W3 L by the chain rule, written out; each has
    the shape of its W. Each δ_l = (∂L/∂z_l)ᵀ is a column, (L_l,)."""
    z1, a1, z2, a2, z3, a3 = forward_000(x, W1, W2, W3)
    delta3 = 2 * (a3 - y) * sigmoid_prime(z3)
    delta2 = (W3.T @ delta3) * sigmoid_prime(z2)
    delta1 = (W2.T @ delta2) * sigmoid_prime(z1)
    return np.outer(delta1, x), np.outer(delta2, a1), np.outer(delta3, a2)


x = data.normal(size=M)
y = data.uniform(size=L3)
W = {"W1": weights.normal(size=(L1, M)), "W2": weights.normal(size=(L2, L1)),
     "W3": W3_note.T}
analytic = dict(zip(W, grads_000(x, y, **W), strict=True))
for name in W:
    numeric = numerical_gradient(
        lambda V, name=name: loss_000(x, y, **{**W, name: V}), W[name])
    print(f"∇_{name} L: {analytic[name].shape}, max |analytic - "
          f"finite diff.| = {max_abs_diff(analytic[name], numeric):.0e}")
# --8<-- [end:three_layer]


# --8<-- [start:layer_jacobian]
z1, a1, z2, a2, z3, a3 = forward_000(x, **W)
J3 = numerical_jacobian(lambda a: sigmoid(W["W3"] @ a), a2)   # ∂α3/∂α2
J2 = numerical_jacobian(lambda a: sigmoid(W["W2"] @ a), a1)   # ∂α2/∂α1
print(f"∂α3/∂α2: {J3.shape} = (L3, L2); ∂α2/∂α1: {J2.shape} = (L2, L1)")
print("∂α3/∂α2 = diag(σ'(z3)) W3:", "max |diff| = "
      f"{max_abs_diff(J3, sigmoid_prime(z3)[:, None] * W['W3']):.0e}")
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
      f"{max_abs_diff(T, numerical_jacobian(alpha1_of, W1_note)):.0e}")
upstream = (W["W2"].T @ ((W["W3"].T @ (2 * (a3 - y) * sigmoid_prime(z3)))
                         * sigmoid_prime(z2)))             # ∂L/∂α1: [1, L1]
contracted = np.einsum("i,ijk->jk", upstream, T)           # [1,L1]·[L1,M,L1]
print("[1, L1] · [L1, M, L1] ->", contracted.shape,
      "; equals (∇_W1 L)ᵀ:", np.allclose(contracted, analytic["W1"].T))
print(f"entries: tensor {T.size}, the gradient it contracts to "
      f"{contracted.size}")
# --8<-- [end:tensor]


# --8<-- [start:graph]
FORWARD, BACKWARD = "#222222", "#d95f02"   # ink, and orange for gradients
fig, ax = subplots(figsize=(4.5, 5.5))
fig.subplots_adjust(left=0, right=1, bottom=0, top=1)  # data units: inches
ax.set_xlim(0, 4.5)
ax.set_ylim(0, 5.5)
ax.set_aspect("equal")
ax.axis("off")
cx, w, height = 1.9, 1.3, 0.66             # centre column, box size (in)
SIZE = 14                                  # points: subscripts legible


def put(x0, y0, text, colour, **where):
    ax.text(x0, y0, text, color=colour, fontsize=SIZE, va="center", **where)


def box(x0, y0, width, top, bottom=None, fill="#ffffff"):
    """A rounded box centred at (x0, y0): forward value on top, its
    gradient (orange) underneath."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x0 - width / 2, y0 - height / 2), width,
                                height,
                                boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor=fill, edgecolor=FORWARD, lw=1.2))
    if bottom is None:
        put(x0, y0, top, FORWARD, ha="center")
        return
    put(x0, y0 + 0.14, top, FORWARD, ha="center")
    put(x0, y0 - 0.15, bottom, BACKWARD, ha="center")


def arrow(start, end, colour):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(
        arrowstyle="-|>", color=colour, lw=1.5, shrinkA=0, shrinkB=0,
        mutation_scale=15))


levels = [0.45, 1.35, 2.25, 3.15, 4.05, 4.95]  # x, z1, a1, z2, a2, L
nodes = [("x = a₀", "(∂ℒ/∂x)ᵀ"), ("z₁", "δ₁"), ("a₁", "(∂ℒ/∂a₁)ᵀ"),
         ("z₂", "δ₂"), ("a₂", "(∂ℒ/∂a₂)ᵀ"), ("ℒ(a₂, y)", None)]
for y0, (top, bottom) in zip(levels, nodes, strict=True):
    box(cx, y0, w, top, bottom)
backward_ops = ["W₁ᵀ ·", "⊙ g′(z₁)", "W₂ᵀ ·", "⊙ g′(z₂)", "transpose"]
for lower, upper, op, fwd in zip(levels[:-1], levels[1:], backward_ops,
                                 [None, "g", None, "g", None], strict=True):
    gap = (lower + height / 2, upper - height / 2)
    arrow((cx + 0.25, gap[0]), (cx + 0.25, gap[1]), FORWARD)
    arrow((cx - 0.25, gap[1]), (cx - 0.25, gap[0]), BACKWARD)
    put(cx - 0.35, sum(gap) / 2, op, BACKWARD, ha="right")
    if fwd:
        put(cx + 0.35, sum(gap) / 2, fwd, FORWARD, ha="left")
for l, y0 in ((1, levels[1]), (2, levels[3])):  # the parameters of layer l
    sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    box(3.7, y0, 1.45, f"W{l}, b{l}".translate(sub),
        f"δ{l}a{l - 1}ᵀ, δ{l}".translate(sub), fill="#f2f2f2")
    arrow((2.975, y0 + 0.1), (cx + w / 2, y0 + 0.1), FORWARD)
    arrow((cx + w / 2, y0 - 0.1), (2.975, y0 - 0.1), BACKWARD)
put(2.85, 5.05, "forward: up", FORWARD)
put(2.85, 4.7, "backward: down", BACKWARD)
show(
    fig,
    alt="A computational graph drawn from bottom to top. Six boxes in a "
    "column: x = a0, z1, a1, z2, a2 and the loss L(a2, y), joined by dark "
    "arrows pointing up (the forward pass; the arrows from z to a are "
    "labelled g). Each box but the loss also holds, in orange, the "
    "gradient the backward pass computes for it: the transpose of dL/dx, "
    "delta1, the transpose of dL/da1, delta2, the transpose of dL/da2. "
    "Orange arrows point down beside the column, labelled from the top: "
    "transpose, times g'(z2) elementwise, times W2 transposed, times "
    "g'(z1) elementwise, times W1 transposed. Grey boxes for W1, b1 and "
    "W2, b2 sit to the right of z1 and z2, with a dark arrow into the z "
    "box and an orange arrow back; they hold the gradients delta_l a_(l-1) "
    "transposed and delta_l. A key reads: forward, up; backward, down.",
    caption="The computational graph of a two-layer MLP. Dark: the "
    "forward pass, computed upwards; the top line of each box is its "
    "value. Orange: the backward pass, computed downwards; the bottom "
    "line of each box is the gradient of ℒ with respect to that value, a "
    "column (δ_l for z_l), and each orange arrow is labelled with the "
    "operation that produces the next one. A weight gradient needs both "
    "passes: δ_l from the backward pass and a_(l−1) from the forward pass.",
)
# --8<-- [end:graph]


# --8<-- [start:loop]
def backward(net, fwd, grad_out):
    """The loop of the equation above for a plain MLP (no shortcuts), a
    batch stored as rows. grad_out: (batch, n_N), row i = (∂L/∂a_N)ᵀ of
    example i. Returns {l: ∇_{W_l} L} and {l: ∇_{b_l} L}, summed over the
    batch, each with the shape of its parameter."""
    grad_a, grad_W, grad_b = grad_out, {}, {}
    for l in range(len(net.layers), 0, -1):
        layer = net.layers[l - 1]
        delta = layer.g.df(fwd.z[l]) * grad_a    # rows: δ_l = g'(z_l) ⊙ ∇
        grad_W[l] = delta.T @ fwd.a[l - 1]        # Σ_i δ_l a_{l-1}ᵀ
        grad_b[l] = delta.sum(axis=0)             # Σ_i δ_l
        grad_a = delta @ layer.W                  # rows: W_lᵀ δ_l
    return grad_W, grad_b
# --8<-- [end:loop]


# --8<-- [start:check_library]
net = build_mlp(weights, [M, 6, 6, 6, 2], SIGMOID, init="gaussian")
for l, layer in enumerate(net.layers, start=1):  # nonzero biases: a fair test
    net = net.with_param(f"b{l}", biases.normal(scale=0.5, size=layer.b.shape))
X, Y = data.normal(size=(8, M)), data.normal(size=(8, 2))
print("activations:", ", ".join(layer.g.name for layer in net.layers))
fwd = net.forward(X)
grad_W, grad_b = backward(net, fwd, squared_error_grad(fwd.a[-1], Y))
diffs = {}
for l in grad_W:
    for name, grad in ((f"W{l}", grad_W[l]), (f"b{l}", grad_b[l])):
        numeric = numerical_gradient(
            lambda V, name=name: squared_error(
                net.with_param(name, V).forward(X).a[-1], Y), net.param(name))
        diffs[name] = max_abs_diff(grad, numeric)
print("max |backward - finite differences|, batch of 8:")
items = [f"{name:>3} {diffs[name]:.0e}" for name in sorted(diffs)]
for start in range(0, len(items), 4):
    print("   ".join(items[start:start + 4]))
library = net.backward(fwd, squared_error_grad(fwd.a[-1], Y))
same = max(max_abs_diff(grad_W[l], library.W[l]) for l in grad_W)
print(f"the library's net.backward: max |difference| {same:g}")
# --8<-- [end:check_library]


# --8<-- [start:note002]
def note002_gradient(width, seeds=5, entropy=1):
    """∇_W1 R for Z_l = W_l A_{l-1}, A_l = σ(Z_l), R = ½||A_3 - Y||², for
    `seeds` networks at once (axis 0): the correct alternating product,
    the note's separated products, and finite differences; each
    (seeds, width, width)."""
    w_seq, d_seq = np.random.SeedSequence(entropy).spawn(2)
    rng_w, rng_d = (np.random.default_rng(s) for s in (w_seq, d_seq))
    Ws = rng_w.normal(size=(3, seeds, width, width)) / np.sqrt(width)
    X, Y = rng_d.normal(size=(2, seeds, width, 1))    # columns

    def forward(W1):
        A, Zs = X, []
        for W in [W1, Ws[1], Ws[2]]:
            Zs.append(W @ A)
            A = sigmoid(Zs[-1])
        return Zs, A

    Zs, A3 = forward(Ws[0])
    D1, D2, D3 = (sigmoid_prime(Z).mT * np.eye(width) for Z in Zs)
    row = (A3 - Y).mT                                   # ∂R/∂A3: 1 x width
    correct = row @ D3 @ Ws[2] @ D2 @ Ws[1] @ D1        # alternating
    separated = row @ D3 @ D2 @ D1 @ Ws[2] @ Ws[1]      # all g', then all W
    numeric = numerical_gradient(                       # losses add up
        lambda W1: 0.5 * float(np.sum((forward(W1)[1] - Y) ** 2)), Ws[0])
    return correct.mT @ X.mT, separated.mT @ X.mT, numeric   # δ1 xᵀ


rows = []
for width in (1, 8):
    correct, separated, numeric = note002_gradient(width)
    gap = (np.abs(separated - correct).max(axis=(1, 2))
           / np.abs(correct).max(axis=(1, 2)))
    rows.append([str(width), diff_text(max_abs_diff(correct, numeric)),
                 spread(gap, ".1g")])
table(rows, header=["width", "alternating − FD", "separated: gap"],
      caption="The gradient of R by W₁ in five networks per width. "
      "Alternating − FD: the largest difference from finite differences. "
      "Gap: max|separated − alternating| / max|alternating|, median "
      "(min–max).")
# --8<-- [end:note002]


# --8<-- [start:note004]
def note004(x, y, W1, b1, W2, b2):
    """ŷ = W2 σ(W1 x + b1) + b2 + x, L = ½||ŷ - y||². Returns L, the correct
    ∇_W1 L, and note 004's expression read as a left-to-right product."""
    a1 = sigmoid(W1 @ x + b1)
    error = W2 @ a1 + b2 + x - y                        # ŷ - y
    correct = np.outer((W2.T @ error) * a1 * (1 - a1), x)
    literal = (error @ W2) @ (a1 * (1 - a1)) * x    # (ŷ-y) w2 a1(1-a1) x
    return 0.5 * float(error @ error), correct, literal


d, k = 3, 4                       # x and ŷ in R^d, hidden width k
p4 = dict(W1=weights.normal(size=(k, d)), b1=biases.normal(size=k),
          W2=weights.normal(size=(d, k)), b2=biases.normal(size=d))
x4, y4 = data.normal(size=d), data.normal(size=d)
_, correct, literal = note004(x4, y4, **p4)
numeric = numerical_gradient(
    lambda V: note004(x4, y4, **{**p4, "W1": V})[0], p4["W1"])
print("finite differences:", numeric.shape, "; W1:", p4["W1"].shape)
print("[(W2ᵀ(ŷ-y)) ⊙ a1 ⊙ (1-a1)] xᵀ:", correct.shape,
      f"max |diff| {max_abs_diff(correct, numeric):.0e}")
print("(ŷ-y) w2 a1(1-a1) x, as products:", literal.shape)
# --8<-- [end:note004]


# --8<-- [start:note001]
x5 = data.uniform(0.1, 2.0, size=4)      # like ReLU outputs: positive
p = np.array([0.0, 1.0, 0.0, 0.0])       # one-hot target
losses = {
    "as written": (lambda v: log_output_cross_entropy(v, p),
                   log_output_cross_entropy_grad(x5, p), "−p / x₅"),
    "softmax": (lambda v: softmax_cross_entropy(v, p),
                softmax_cross_entropy_grad(x5, p), "softmax(x₅) − p"),
}
rows = []
for name, (loss, correct, formula) in losses.items():
    numeric = numerical_gradient(loss, x5)
    rows.append([name, formula, diff_text(max_abs_diff(correct, numeric)),
                 diff_text(max_abs_diff(x5 - p, numeric))])
table(rows, header=["loss", "gradient", "error", "x₅ − p error"],
      caption="Two losses: as written, −Σ p log x₅; softmax, −Σ p log "
      "softmax(x₅). Each one's gradient, and the largest difference "
      "between finite differences and that gradient (error) or x₅ − p.")
# --8<-- [end:note001]


# --8<-- [start:softmax_jacobian]
z = x5                                    # now read as logits
s = softmax(z)
J_s = np.diag(s) - np.outer(s, s)         # ∂s/∂z, k x k
print("z =", z.round(3), "; s = softmax(z) =", s.round(3))
print(f"∂s/∂z: {J_s.shape}; max |(diag(s) - s sᵀ) - finite diff.| = "
      f"{max_abs_diff(J_s, numerical_jacobian(softmax, z)):.0e}")
print("rows of ∂s/∂z sum to:", J_s.sum(axis=1).round(15) + 0)
dL_ds = -p / s                            # ∂L/∂s, a row: -p_k / s_k
print("∂L/∂s · ∂s/∂z =", (dL_ds @ J_s).round(4))
print("s - p         =", (s - p).round(4))
# --8<-- [end:softmax_jacobian]


# --8<-- [start:softmax_targets]
targets = {"one-hot": p, "soft, Σp = 1": np.array([0.1, 0.6, 0.3, 0.0]),
           "Σp = 1.5": np.array([0.0, 1.0, 0.5, 0.0]),
           "Σp = 0.5": np.array([0.0, 0.5, 0.0, 0.0])}
rows = []
for name, target in targets.items():
    numeric = numerical_gradient(
        lambda v, target=target: softmax_cross_entropy(v, target), z)
    candidates = (s - target, target.sum() * s - target)
    rows.append([name, *(diff_text(max_abs_diff(c, numeric))
                         for c in candidates),
                 diff_text(abs(numeric.sum()))])
table(rows, header=["target p", "s − p", "(Σp) s − p", "sum"],
      caption="The gradient of −Σ p log softmax(z) by finite differences: "
      "its largest difference from s − p and from (Σp) s − p, and the sum "
      "of its entries.")
# --8<-- [end:softmax_targets]


# --8<-- [start:norms]
def fresh_stack(g, init, depth=10, width=32, seeds=5, entropy=0):
    """`seeds` networks of `depth` layers of width `width`, stacked:
    layers 1..depth-1 use g, the last is linear (build_mlp's default)."""
    return MLP.stack([
        build_mlp(np.random.default_rng(s), [width] * (depth + 1), g,
                  init=init)
        for s in np.random.SeedSequence(entropy).spawn(seeds)])


def layer_gradient_norms(net, batch=64, entropy=100):
    """||∇_{W_l} L|| (Frobenius) for l = 1..N of each network of a stack,
    on a batch of its own: (seeds, N)."""
    (seeds,), width = net.stack_shape, net.widths[0]
    X, Y = np.random.default_rng(entropy).normal(
        size=(2, seeds, batch, width))
    fwd = net.forward(X)
    grads = net.backward(fwd, squared_error_grad(fwd.a[-1], Y))
    return np.stack([np.linalg.norm(grads.W[l], axis=(-2, -1))
                     for l in range(1, len(net.layers) + 1)], axis=1)


nets = {"sigmoid, N(0, 1/n)": fresh_stack(SIGMOID, "gaussian"),
        "ReLU, He": fresh_stack(RELU, "he")}
norms = {label: layer_gradient_norms(net) for label, net in nets.items()}
kinds = [layer.g.name for layer in nets["sigmoid, N(0, 1/n)"].layers]
N = len(kinds)
print(f"{N} layers: {kinds.count('sigmoid')} sigmoid, then {kinds[-1]}")
print(f"between the loss and W_1: {kinds.count('sigmoid')} factors "
      f"diag(σ'), {N - 1} weight matrices (W_2 ... W_{N})")
# --8<-- [end:norms]

# --8<-- [start:norms_table]


ratios = {label: v[:, 0] / v[:, -1] for label, v in norms.items()}
table([[label.split(",")[0], spread(r, ".1g"),
        spread(r ** (1 / (N - 1)), ".2f")] for label, r in ratios.items()],
      header=["network", "layer 1 / layer 10", "per layer"],
      caption="The norm of the gradient for W₁ over that for W₁₀, and its "
      "9th root, the factor per layer: median (min–max) over five seeds.")
# --8<-- [end:norms_table]

# --8<-- [start:norms_plot]
fig, ax = subplots(figsize=(4.4, 3.1))
layers = np.arange(1, N + 1)
where = {"sigmoid, N(0, 1/n)": (4.6, 1e-4), "ReLU, He": (1, 2.0)}
for (label, values), marker in zip(norms.items(), "os", strict=True):
    line, = ax.semilogy(layers, np.median(values, axis=0), marker=marker)
    ax.fill_between(layers, values.min(axis=0), values.max(axis=0),
                    color=line.get_color(), alpha=0.25, linewidth=0)
    ax.text(*where[label], label, color=line.get_color(), va="center")
ax.set_xlabel("layer l (1 = nearest the input)")
ax.set_ylabel("‖∂ℒ/∂Wₗ‖")
ax.set_xticks(layers)
show(
    fig,
    alt="Line plot on a log scale of the gradient norm of each of 10 "
    "layers, the median of five networks with a shaded band from the "
    "smallest to the largest, each line labelled in its colour. For the "
    "sigmoid networks (circles) the median falls steadily from the last "
    "layer to the first, from about 10 to about 1e-5, in a narrow band; "
    "for the ReLU networks with He initialisation (squares) it stays "
    "between about 10 and 50, in a band that reaches up to about 400.",
    caption="Gradient norm per layer of fresh 10-layer networks (9 hidden "
    "layers and a linear output), one batch each: the median of five seeds "
    "(markers) and the range (band). Through sigmoid layers the gradient "
    "shrinks by a nearly constant factor per layer on its way to the "
    "input; ReLU layers with He initialisation keep it level.",
)
# --8<-- [end:norms_plot]
