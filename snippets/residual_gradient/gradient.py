"""The exact gradient of a residual block (docs/residual-gradient.md runs these
sections in order).

Every random draw comes from its own stream, ``streams(key, n)``: n generators
spawned from one SeedSequence per section, so that no seed serves two purposes
(weights and inputs, say).
"""

# --8<-- [start:setup]
from dataclasses import replace

import numpy as np

from snippets.bp.activations import RELU, SIGMOID
from snippets.bp.gradcheck import (
    max_abs_diff,
    numerical_gradient,
    numerical_jacobian,
)
from snippets.bp.losses import softmax, softmax_cross_entropy
from snippets.bp.mlp import MLP, Layer, build_residual_mlp
from snippets.figures import show, subplots, table
from snippets.residual_gradient.diagrams import block_diagram, paths_diagram


def streams(key, n):
    """n independent generators for the section with this key."""
    seqs = np.random.SeedSequence([2016, *np.atleast_1d(key)]).spawn(n)
    return [np.random.default_rng(s) for s in seqs]


def vec(v):
    """A short vector as text, three decimals."""
    return np.array2string(np.asarray(v), precision=3, suppress_small=True)


def gap(a, b):
    """max |a - b| as text: rounding-sized gaps as a power of ten."""
    worst = max_abs_diff(a, b)
    return f"{worst:.0e}" if worst < 1e-3 else f"{worst:.2f}"


def checks(rows, what, caption=""):
    """A table of ways to compute ``what``, each with its largest gap to
    finite differences: rows are (label, computed, finite differences)."""
    table([[label, gap(mine, fd)] for label, mine, fd in rows],
          header=[f"{what} computed as", "max gap to finite differences"],
          caption=caption)
# --8<-- [end:setup]


# --8<-- [start:block_diagram]
show(
    block_diagram(),
    alt="Diagram of a residual block. The input x feeds a branch F "
    "(two weight layers) and a shortcut; both meet at an addition whose "
    "result is the output y. Two backward arrows run from y to x: a blue "
    "one through the branch, labelled J_F transposed times g, and an "
    "orange one along the shortcut, labelled g. They add at x.",
    caption="A residual block y = x + F(x) and its two backward paths. "
    "The gradient g = ∇_y L arriving at the output goes back through "
    "the branch (blue, J_Fᵀ g) and along the shortcut (orange, g "
    "itself), and the two add at x. Nothing else reaches x.",
)
# --8<-- [end:block_diagram]


# --8<-- [start:note001_net]
d = 4                                      # every x_i has 4 entries
# Seed 5 of this key: a draw in which every layer has units on and off, so
# that each of the four paths below carries gradient (in many draws a whole
# layer is off and some paths carry nothing).
rng_W, rng_b, rng_x = streams([1, 5], 3)
W = [rng_W.normal(size=(d, d)) for _ in range(4)]
b = [rng_b.normal(scale=0.5, size=d) for _ in range(4)]
net001 = MLP([                        # a_0 = x1, a_1 = x2, ..., a_4 = x5
    Layer(W[0], b[0], RELU),          # x2 = ReLU(F1(x1))
    Layer(W[1], b[1], RELU, skip=0),  # x3 = ReLU(F2(x2) + x1)
    Layer(W[2], b[2], RELU),          # x4 = ReLU(F3(x3))
    Layer(W[3], b[3], RELU, skip=2),  # x5 = ReLU(F4(x4) + x3)
])
x1 = rng_x.normal(size=(1, d))
p = np.array([[0.0, 0.0, 1.0, 0.0]])
fwd = net001.forward(x1)
x = {i + 1: a[0] for i, a in enumerate(fwd.a)}        # x[1] .. x[5]
z = {l + 1: fwd.z[l][0] for l in range(1, 5)}         # z[2] .. z[5]
grads = net001.backward(fwd, softmax(fwd.a[-1]) - p)  # softmax CE on x5
dL = {i + 1: g[0] for i, g in enumerate(grads.a)}     # dL/dx1 .. dL/dx5
table([["x5", vec(x[5])], ["∇x5 L = softmax(x5) − p", vec(dL[5])]],
      header=["at the output", "value"], align="ll")
# --8<-- [end:note001_net]


# --8<-- [start:note001_skip]
def loss_from_x3(x3):
    """L as a function of x3 alone (x4 and x5 recomputed from it)."""
    x4 = RELU(W[2] @ x3 + b[2])
    x5 = RELU(W[3] @ x4 + b[3] + x3)
    return softmax_cross_entropy(x5, p[0])


delta5 = dL[5] * RELU.df(z[5])        # dL/d(F4(x4) + x3): masked by ReLU
through_x4 = W[2].T @ ((W[3].T @ delta5) * RELU.df(z[4]))
exact = through_x4 + delta5           # the shortcut's term is delta5
note = through_x4 + 1                 # note 001: "... + 1"
numeric = numerical_gradient(loss_from_x3, x[3])
checks([("through x4 + δ5 = " + vec(exact), exact, numeric),
        ("through x4 + 1 (note 001)", note, numeric)], "∇x3 L")
# --8<-- [end:note001_skip]


# --8<-- [start:note001_x2]
def loss_from_x2(x2):
    """L as a function of x2, with x1 held fixed."""
    x3 = RELU(W[1] @ x2 + b[1] + x[1])
    return loss_from_x3(x3)


delta3 = exact * RELU.df(z[3])              # dL/d(F2(x2) + x1)
exact_x2 = W[1].T @ delta3                  # uses all of dL/dx3
note_x2 = W[1].T @ (through_x4 * RELU.df(z[3]))   # the x4 path only
numeric = numerical_gradient(loss_from_x2, x[2])
checks([("with all of ∇x3 L", exact_x2, numeric),
        ("the x4 path only (note 001)", note_x2, numeric),
        ("the library's back-propagation", dL[2], numeric)], "∇x2 L")
# --8<-- [end:note001_x2]


# --8<-- [start:note001_simple]
def block(x1_):
    """y = F(x2) + x1 with x2 = ReLU(F1(x1)): x2 depends on x1."""
    return W[1] @ RELU(W[0] @ x1_ + b[0]) + b[1] + x1_


J = numerical_jacobian(block, x[1])
J_F = W[1] @ (RELU.df(z[2])[:, None] * W[0])    # dF(x2)/dx1, not 0
checks([("0 + I (note 001)", np.eye(d), J),
        ("J_F + I", J_F + np.eye(d), J)], "dy/dx1")
# --8<-- [end:note001_simple]


# --8<-- [start:paths_diagram]
show(
    paths_diagram(),
    alt="Four rows, one per path from x5 back to x1 in note 001's "
    "network. Row (a) crosses F4, F3, F2 and F1; row (b) crosses F4 and "
    "F3, then the shortcut from x3 to x1; row (c) takes the shortcut from "
    "x5 to x3, then F2 and F1; row (d) takes both shortcuts. Rows (a) and "
    "(b) are marked as the note's two terms, rows (c) and (d) as dropped.",
    caption="Note 001's network unrolled into its four paths from x5 back "
    "to x1: at each of the two shortcuts a path either crosses the branch "
    "(solid blue) or takes the shortcut (dashed orange arc). The note's "
    "formula keeps paths (a) and (b), both through x4, and drops (c) and "
    "(d), the two that use the shortcut from x3 to x5.",
)
# --8<-- [end:paths_diagram]


# --8<-- [start:paths]
def back(v, i, route):
    """Carry the gradient v at x_{i+1} back through its ReLU, then through
    F_i's weights to x_i (route "F") or along F_i's shortcut (route
    "skip", to x_{i-1}: only F_2 and F_4 have one)."""
    v = RELU.df(z[i + 1]) * v
    return W[i - 1].T @ v if route == "F" else v


PATHS = {                      # each path: the hops it makes, from x5 down
    "(a) x5 x4 x3 x2 x1": [(4, "F"), (3, "F"), (2, "F"), (1, "F")],
    "(b) x5 x4 x3 x1": [(4, "F"), (3, "F"), (2, "skip")],
    "(c) x5 x3 x2 x1": [(4, "skip"), (2, "F"), (1, "F")],
    "(d) x5 x3 x1": [(4, "skip"), (2, "skip")],
}
path_term = {}
for name, hops in PATHS.items():
    v = dL[5]
    for i, route in hops:
        v = back(v, i, route)
    path_term[name] = v
four_paths = sum(path_term.values())
note_terms = path_term["(a) x5 x4 x3 x2 x1"] + path_term["(b) x5 x4 x3 x1"]
note_final = path_term["(a) x5 x4 x3 x2 x1"] + 1
numeric_x1 = numerical_gradient(
    lambda v: softmax_cross_entropy(net001.forward(v[None, :]).a[-1][0],
                                    p[0]), x[1])
in_note = ["yes", "yes, set to 1", "no", "no"]
table([[name[:3], np.array2string(v, precision=2, suppress_small=True), yes]
       for (name, v), yes in zip(path_term.items(), in_note, strict=True)],
      header=["path", "its term in ∇x1 L", "in note 001"], align="lll")
# --8<-- [end:paths]


# --8<-- [start:paths_check]
checks([("the sum of the four paths", four_paths, numeric_x1),
        ("(a) + (b), the note's two terms", note_terms, numeric_x1),
        ("(a) + 1, the note's result", note_final, numeric_x1)], "∇x1 L")
# --8<-- [end:paths_check]


# --8<-- [start:own_weights]
def weight_grads(cut=()):
    """dL/dW_1 .. dL/dW_4 (dict by layer) and dL/dx1, back-propagated with
    the shortcuts named in ``cut`` ("x1->x3", "x3->x5") left out of the
    backward pass (the forward pass is unchanged)."""
    grad = {}
    delta = RELU.df(z[5]) * dL[5]                   # delta_5
    grad[4] = np.outer(delta, x[4])                 # delta_5 x4^T
    delta4 = RELU.df(z[4]) * (W[3].T @ delta)
    grad[3] = np.outer(delta4, x[3])
    g3 = W[2].T @ delta4
    if "x3->x5" not in cut:
        g3 = g3 + delta                             # x3 also feeds x5
    delta = RELU.df(z[3]) * g3                      # delta_3
    grad[2] = np.outer(delta, x[2])                 # delta_3 x2^T
    delta2 = RELU.df(z[2]) * (W[1].T @ delta)
    grad[1] = np.outer(delta2, x[1])
    g1 = W[0].T @ delta2
    if "x1->x3" not in cut:
        g1 = g1 + delta                             # x1 also feeds x3
    return grad, g1


full, full_x1 = weight_grads()
cuts = {c: weight_grads(cut=(c,)) for c in ("x3->x5", "x1->x3")}


def change(c, l):
    """|change| / |gradient| when shortcut c is cut (l = 0: dL/dx1)."""
    new, old = (cuts[c][1], full_x1) if l == 0 else (cuts[c][0][l], full[l])
    return np.linalg.norm(new - old) / np.linalg.norm(old)


def cell(v):
    return "0" if v == 0 else f"{v:.2f}"    # 0 here is exactly zero


owner = {4: "x3→x5", 3: "none", 2: "x1→x3", 1: "none"}
rows = [[f"W{l}", owner[l]] + [cell(change(c, l)) for c in cuts]
        for l in (4, 3, 2, 1)]
rows.append(["∇x1 L", ""] + [cell(change(c, 0)) for c in cuts])
table(rows, header=["gradient of", "its own shortcut", "cut x3→x5",
                    "cut x1→x3"], align="llrr")
# --8<-- [end:own_weights]


# --8<-- [start:note004]
k = 3                                  # hidden width; x and y_hat in R^d
rng_W, rng_x, rng_y = streams(4, 3)
W1, b1 = rng_W.normal(size=(k, d)), rng_W.normal(size=k)
W2, b2 = rng_W.normal(size=(d, k)), rng_W.normal(size=d)
x0, y0 = rng_x.normal(size=d), rng_y.normal(size=d)


def y_hat(x_):
    return W2 @ SIGMOID(W1 @ x_ + b1) + b2 + x_


def loss004(x_):
    return 0.5 * float(np.sum((y_hat(x_) - y0) ** 2))


J_H = W2 @ (SIGMOID.df(W1 @ x0 + b1)[:, None] * W1)   # dH/dx
error = y_hat(x0) - y0
with_I = J_H.T @ error + error                         # (J_H + I)^T e
with_ones = J_H.T @ error + np.ones((d, d)) @ error    # (J_H + 11^T)^T e
numeric = numerical_gradient(loss004, x0)
checks([("J_Hᵀ e + I e", with_I, numeric),
        ("J_Hᵀ e + 11ᵀ e (ones)", with_ones, numeric)], "∇x L",
       caption=f"error e = ŷ − y = {vec(error)}")
# The note's next line, (ŷ−y) w2 a1(1−a1) w1 + (ŷ−y), taken as products
# from left to right: without diag(a1(1−a1)) between w2 and w1, (ŷ−y) w2
# a1(1−a1) is one number, and the line is that number times W1, plus e.
s1 = SIGMOID.df(W1 @ x0 + b1)                     # a1(1 − a1), one per unit
as_written = (error @ W2) @ s1 * W1 + error
with_diag = W1.T @ ((W2.T @ error) * s1) + error  # J_Hᵀ e + e, J_H's diag
table([["as written, as products", f"{as_written.shape}", "no gradient"],
       ["with diag(a1(1−a1))", f"{with_diag.shape}", gap(with_diag, numeric)]],
      header=["(ŷ−y) w2 a1(1−a1) w1 + (ŷ−y)", "shape",
              "max gap to finite differences"],
      caption=f"note 004's line for ∇x L; x has shape {x0.shape}")
# --8<-- [end:note004]


# --8<-- [start:eq5]
blocks, width = 20, 16
rng_W, rng_x, rng_y = streams(5, 3)
stack = build_residual_mlp(rng_W, width, blocks,
                           branch_scale=1 / np.sqrt(blocks))
x_in = rng_x.normal(size=(1, width))
target = rng_y.normal(size=(1, width))
fwd_s = stack.forward(x_in)
grads_s = stack.backward(fwd_s, fwd_s.a[-1] - target)   # E = ½|x_L - y|²
dE_dxL = grads_s.a[-1][0]
eq5 = {}
for l in (0, 5, 10, 15):
    start = 2 * l                      # x_l is activation a_{2l}
    tail = stack.tail(start)           # the network from x_l to x_L

    def sum_of_branches(x_l, tail=tail):
        return tail.forward(x_l[None, :]).a[-1][0] - x_l   # sum of F_i

    J_sum = numerical_jacobian(sum_of_branches, fwd_s.a[start][0])
    direct, through = dE_dxL, dE_dxL @ J_sum       # eq. 5's two terms
    eq5[l] = (direct, through, grads_s.a[start][0])
table([[f"{l}", f"{np.linalg.norm(dr):.3f}", f"{np.linalg.norm(th):.3f}",
        f"{max_abs_diff(dr + th, bp):.0e}"]
       for l, (dr, th, bp) in eq5.items()],
      header=["block l", "|direct|", "|through the F_i|",
              "|sum - backprop|"])
# --8<-- [end:eq5]


# --8<-- [start:relu_after]
def masks_on_shortcut(blocks, width=64, batch=64, seeds=5):
    """Stacks of ``blocks`` original ResNet blocks x_{l+1} = ReLU(x_l +
    F(x_l)), one per seed, run as one computation: the masks
    ReLU'(x_l + F(x_l)), shape (seeds, blocks, batch, width)."""
    nets = []
    for rng in streams(6, seeds):
        layers = build_residual_mlp(rng, width, blocks).layers
        # the layers with a shortcut end in the addition: a ReLU after it
        nets.append(MLP([replace(layer, g=RELU) if layer.skip is not None
                         else layer for layer in layers]))
    x_0 = RELU(streams(7, 1)[0].normal(size=(batch, width)))
    fwd = MLP.stack(nets).forward(x_0)
    return np.stack([RELU.df(z_l) for z_l in fwd.z[2::2]], axis=1)


L_max = 50
mask = masks_on_shortcut(L_max)
# The shortcut path through blocks 1..L is the product of their masks:
# a unit's gradient gets through only if it was on in every block.
open_share = np.cumprod(mask, axis=1).mean(axis=(2, 3))   # (seeds, L)
med = np.median(open_share, axis=0)
table([[f"{L}", f"{med[L - 1]:.2f}", f"{open_share[:, L - 1].min():.2f}"
        f" to {open_share[:, L - 1].max():.2f}"] for L in (1, 10, 50)],
      header=["blocks L", "share of units open", "range over 5 seeds"])
# --8<-- [end:relu_after]


# --8<-- [start:relu_after_plot]
fig, ax = subplots(figsize=(4.2, 2.9))
depth = np.arange(1, L_max + 1)
ax.plot(depth, np.ones(L_max), color="#1f77b4")
ax.text(L_max, 0.95, "pre-activation: no ReLU after +", ha="right",
        va="top", color="#1f77b4")
ax.fill_between(depth, open_share.min(axis=0), open_share.max(axis=0),
                color="#ff7f0e", alpha=0.25, linewidth=0)
ax.plot(depth, med, color="#ff7f0e")
ax.text(L_max, med[-1] + 0.05, "original: ReLU after +", ha="right",
        va="bottom", color="#ff7f0e")
ax.set_ylim(0, 1.1)
ax.set_xlabel("blocks L")
ax.set_ylabel("share of units open")
show(
    fig,
    alt="Line plot against the number of blocks, 1 to 50. The share of "
    "units whose shortcut gradient passes every block is 1 at all depths "
    "for pre-activation blocks. For original blocks, with a ReLU after the "
    f"addition, it starts near {med[0]:.2f} and falls to about "
    f"{med[-1]:.2f} after 50 blocks, with a narrow band for the spread "
    "over five seeds.",
    caption="The identity path of a stack of blocks, at initialisation "
    "(width 64, He-initialised branches, five seeds: median line, band "
    "from lowest to highest). Without an activation after the addition "
    "every unit passes the gradient along the shortcuts; with a ReLU after "
    "it, a unit passes it only if it was on in every block.",
)
# --8<-- [end:relu_after_plot]


# --8<-- [start:note002]
def note002(W1, W2, W3, X, Y, g=SIGMOID, b3=0.0):
    """A1 = g(Z1), A2 = g(Z2), A3 = g(Z3 + Z1): a skip from Z^(1) to
    Z^(3), with an optional bias b3 in Z3. Returns R = ½|A3 - Y|², dR/dA3
    and dR/dW1 split into its long and its short path."""
    Z1 = W1 @ X
    Z2 = W2 @ g(Z1)
    Z3 = W3 @ g(Z2) + b3
    A3 = g(Z3 + Z1)
    u = (A3 - Y) * g.df(Z3 + Z1)                   # dR/d(Z3 + Z1)
    long = np.outer(g.df(Z1) * (W2.T @ ((W3.T @ u) * g.df(Z2))), X)
    short = np.outer(u, X)                         # Z1 reaches the sum
    return 0.5 * float(np.sum((A3 - Y) ** 2)), A3 - Y, long, short


n2 = 5
rng_W, rng_x, rng_y = streams(8, 3)
V1, V2, V3 = (rng_W.normal(size=(n2, n2)) for _ in range(3))
X2, Y2 = rng_x.normal(size=n2), rng_y.uniform(0.5, 1.0, size=n2)
CASES = [("sigmoid", 1.0, SIGMOID, 0.0), ("sigmoid, W2 × 0.1", 0.1,
                                          SIGMOID, 0.0),
         ("sigmoid, W2 × 0.001", 0.001, SIGMOID, 0.0),
         ("ReLU, b3 = −10", 1.0, RELU, -10.0)]
rows, note002_runs = [], []
for label, scale, g, b3 in CASES:
    def R_of(M, scale=scale, g=g, b3=b3):
        return note002(M, scale * V2, V3, X2, Y2, g, b3)[0]

    _, dR_dA3, long, short = note002(V1, scale * V2, V3, X2, Y2, g, b3)
    fd_gap = max_abs_diff(long + short, numerical_gradient(R_of, V1))
    note002_runs.append((dR_dA3, long, short, fd_gap))
    rows.append([label, *(f"{np.linalg.norm(v):.2g}"
                          for v in (dR_dA3, long, short)), f"{fd_gap:.0e}"])
table(rows, header=["g after the sum", "|∇A3 R|", "|long|", "|short|",
                    "FD gap"])
# --8<-- [end:note002]


# --8<-- [start:note000]
def jacobians_000(n_mid, seed=9):
    """a_{N-2} (4) -> a_{N-1} (n_mid) -> a_N (4), sigmoid layers: the
    Jacobians J_{N-1}, J_N and, by finite differences,
    d(a_N + a_{N-2})/d a_{N-2}."""
    rng_W, rng_a = streams([9, seed, n_mid], 2)
    A, B = rng_W.normal(size=(n_mid, 4)), rng_W.normal(size=(4, n_mid))
    a = rng_a.normal(size=4)
    J_mid = SIGMOID.df(A @ a)[:, None] * A
    J_top = SIGMOID.df(B @ SIGMOID(A @ a))[:, None] * B
    total = numerical_jacobian(lambda v: SIGMOID(B @ SIGMOID(A @ v)) + v, a)
    return J_mid, J_top, total


rows = []
for n_mid in (6, 4):
    J_mid, J_top, total = jacobians_000(n_mid)
    shape = "×".join(map(str, J_mid.shape))
    rows.append((f"J_N J_(N-1) + I ({shape})",
                 J_top @ J_mid + np.eye(4), total))
# the note's step, with da_(N-2)/da_(N-1) read as an inverse (4×4 only)
rows.append(("the note's step, J_(N-1)⁻¹ (4×4)",
             (J_top + np.linalg.inv(J_mid)) @ J_mid, total))
checks(rows, "d(a_N + a_(N-2))/da_(N-2)")
# --8<-- [end:note000]
