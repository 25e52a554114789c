"""The exact gradient of a residual block (docs/residual-gradient.md runs these sections
in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import RELU, SIGMOID
from snippets.bp.gradcheck import max_abs_diff, numerical_gradient, numerical_jacobian
from snippets.bp.losses import softmax, softmax_cross_entropy
from snippets.bp.mlp import MLP, Layer, build_residual_mlp

rng = np.random.default_rng(5)
# --8<-- [end:setup]


# --8<-- [start:note001_net]
d = 4                                       # every x_i has 4 entries
W = [rng.normal(size=(d, d)) for _ in range(4)]
b = [rng.normal(scale=0.5, size=d) for _ in range(4)]
net001 = MLP([                             # a_0 = x1, a_1 = x2, ..., a_4 = x5
    Layer(W[0], b[0], RELU),                # x2 = ReLU(F1(x1))
    Layer(W[1], b[1], RELU, skip=0),        # x3 = ReLU(F2(x2) + x1)
    Layer(W[2], b[2], RELU),                # x4 = ReLU(F3(x3))
    Layer(W[3], b[3], RELU, skip=2),        # x5 = ReLU(F4(x4) + x3)
])
x1 = rng.normal(size=(1, d))
p = np.array([[0.0, 0.0, 1.0, 0.0]])
fwd = net001.forward(x1)
x = {i + 1: a[0] for i, a in enumerate(fwd.a)}       # x[1] .. x[5]
z = {i + 1: zi[0] for i, zi in enumerate(fwd.z[1:], start=1)}  # z[2]..z[5]
grads = net001.backward(fwd, softmax(fwd.a[-1]) - p)  # softmax CE on x5
dL = {i + 1: g[0] for i, g in enumerate(grads.a)}     # dL/dx1 .. dL/dx5
print("x5 =", x[5].round(3))
print("dL/dx5 = softmax(x5) - p =", dL[5].round(3))
# --8<-- [end:note001_net]


# --8<-- [start:note001_skip]
def loss_from_x3(x3):
    """L as a function of x3 alone (x4 and x5 recomputed from it)."""
    x4 = RELU(W[2] @ x3 + b[2])
    x5 = RELU(W[3] @ x4 + b[3] + x3)
    return softmax_cross_entropy(x5, p[0])


delta5 = dL[5] * RELU.df(z[5])             # dL/d(F4(x4) + x3): masked by the ReLU
through_x4 = W[2].T @ ((W[3].T @ delta5) * RELU.df(z[4]))
exact = through_x4 + delta5                # the shortcut's term is delta5
note = through_x4 + 1                      # note 001: "... + 1"
numeric = numerical_gradient(loss_from_x3, x[3])
print("shortcut term delta5:   ", delta5.round(3))
print(f"exact   dL/dx3 vs finite differences: {max_abs_diff(exact, numeric):.0e}")
print(f"note's  dL/dx3 vs finite differences: {max_abs_diff(note, numeric):.2f}")
# --8<-- [end:note001_skip]


# --8<-- [start:note001_x2]
def loss_from_x2(x2):
    """L as a function of x2, with x1 held fixed."""
    x3 = RELU(W[1] @ x2 + b[1] + x[1])
    return loss_from_x3(x3)


delta3 = exact * RELU.df(z[3])             # dL/d(F2(x2) + x1)
exact_x2 = W[1].T @ delta3                 # uses all of dL/dx3
note_x2 = W[1].T @ (through_x4 * RELU.df(z[3]))   # path through x4 only
numeric = numerical_gradient(loss_from_x2, x[2])
print(f"exact  dL/dx2 vs finite differences: {max_abs_diff(exact_x2, numeric):.0e}")
print(f"note's dL/dx2 vs finite differences: {max_abs_diff(note_x2, numeric):.2f}")
print("library backprop, dL/dx2:", np.allclose(dL[2], exact_x2))
# --8<-- [end:note001_x2]


# --8<-- [start:note001_simple]
def block(x1_):
    """y = F(x2) + x1 with x2 = ReLU(F1(x1)): x2 depends on x1."""
    return W[1] @ RELU(W[0] @ x1_ + b[0]) + b[1] + x1_


J = numerical_jacobian(block, x[1])
J_F = W[1] @ (RELU.df(z[2])[:, None] * W[0])   # dF(x2)/dx1, not 0
print(f"dy/dx1 - I: max |.| = {np.abs(J - np.eye(d)).max():.2f} "
      f"(the note says 0); dy/dx1 - (J_F + I): {max_abs_diff(J, J_F + np.eye(d)):.0e}")
# --8<-- [end:note001_simple]


# --8<-- [start:note004]
k = 3                                      # hidden width; x and y_hat in R^d
W1, b1 = rng.normal(size=(k, d)), rng.normal(size=k)
W2, b2 = rng.normal(size=(d, k)), rng.normal(size=d)
x0, y0 = rng.normal(size=d), rng.normal(size=d)


def y_hat(x_):
    return W2 @ SIGMOID(W1 @ x_ + b1) + b2 + x_


J_H = W2 @ (SIGMOID.df(W1 @ x0 + b1)[:, None] * W1)   # dH/dx
J = numerical_jacobian(y_hat, x0)
print(f"dy_hat/dx vs dH/dx + I:       {max_abs_diff(J, J_H + np.eye(d)):.0e}")
print(f"dy_hat/dx vs dH/dx + ones:    {max_abs_diff(J, J_H + np.ones((d, d))):.2f}")
error = y_hat(x0) - y0
numeric = numerical_gradient(lambda x_: 0.5 * float(np.sum((y_hat(x_) - y0) ** 2)), x0)
print(f"dL/dx = J_Hᵀ(ŷ-y) + (ŷ-y) vs finite differences: "
      f"{max_abs_diff(J_H.T @ error + error, numeric):.0e}")
# --8<-- [end:note004]


# --8<-- [start:eq5]
blocks, width = 20, 16
stack = build_residual_mlp(np.random.default_rng(6), width, blocks,
                           branch_scale=1 / np.sqrt(blocks))
x_in = np.random.default_rng(7).normal(size=(1, width))
target = np.random.default_rng(8).normal(size=(1, width))
fwd_s = stack.forward(x_in)
grads_s = stack.backward(fwd_s, fwd_s.a[-1] - target)   # E = ½||x_L - y||²
dE_dxL = grads_s.a[-1][0]
print(f"{'block l':>7} {'|direct|':>9} {'|through F|':>12} {'|sum - backprop|':>17}")
for l in (0, 5, 10, 15):
    start = 2 * l                            # x_l is activation a_{2l}
    tail = stack.tail(start)                 # the network from x_l to x_L

    def sum_of_branches(x_l, tail=tail):
        return tail.forward(x_l[None, :]).a[-1][0] - x_l  # x_L - x_l = sum F

    J_sum = numerical_jacobian(sum_of_branches, fwd_s.a[start][0])
    direct, through = dE_dxL, dE_dxL @ J_sum              # eq. 5's two terms
    gap = max_abs_diff(direct + through, grads_s.a[start][0])
    print(f"{l:7d} {np.linalg.norm(direct):9.3f} {np.linalg.norm(through):12.3f} "
          f"{gap:17.0e}")
# --8<-- [end:eq5]


# --8<-- [start:note002]
def note002(W1, W2, W3, X, Y):
    """A1 = g(Z1), A2 = g(Z2), A3 = g(Z3 + Z1): a skip from Z^(1) to Z^(3).
    Returns R and dR/dW1 split into its long and its short path."""
    g = SIGMOID
    Z1 = W1 @ X
    Z2 = W2 @ g(Z1)
    Z3 = W3 @ g(Z2)
    A3 = g(Z3 + Z1)
    u = (A3 - Y) * g.df(Z3 + Z1)                    # dR/d(Z3 + Z1)
    long = np.outer(g.df(Z1) * (W2.T @ ((W3.T @ u) * g.df(Z2))), X)
    short = np.outer(u, X)                          # Z1 reaches the sum directly
    return 0.5 * float(np.sum((A3 - Y) ** 2)), long, short


n2 = 5
V1, V2, V3 = (rng.normal(size=(n2, n2)) for _ in range(3))
X2, Y2 = rng.normal(size=n2), rng.uniform(size=n2)
print(f"{'scale of W2':>11} {'|long|':>8} {'|short|':>8} {'|long+short - FD|':>18}")
for scale in (1.0, 0.1, 0.001):
    R, long, short = note002(V1, scale * V2, V3, X2, Y2)
    numeric = numerical_gradient(
        lambda M, s=scale: note002(M, s * V2, V3, X2, Y2)[0], V1)
    print(f"{scale:11g} {np.linalg.norm(long):8.1e} {np.linalg.norm(short):8.1e} "
          f"{max_abs_diff(long + short, numeric):18.0e}")
# --8<-- [end:note002]


# --8<-- [start:note000]
def jacobians_000(n_mid, seed=9):
    """a_{N-2} (4) -> a_{N-1} (n_mid) -> a_N (4), sigmoid layers: returns the
    Jacobians J_{N-1}, J_N and d(a_N + a_{N-2})/d a_{N-2} by finite differences."""
    r = np.random.default_rng(seed)
    A, B = r.normal(size=(n_mid, 4)), r.normal(size=(4, n_mid))
    a = r.normal(size=4)
    J_mid = SIGMOID.df(A @ a)[:, None] * A
    J_top = SIGMOID.df(B @ SIGMOID(A @ a))[:, None] * B
    total = numerical_jacobian(lambda v: SIGMOID(B @ SIGMOID(A @ v)) + v, a)
    return J_mid, J_top, total


for n_mid in (6, 4):
    J_mid, J_top, total = jacobians_000(n_mid)
    print(f"width of a_(N-1) = {n_mid}: d(a_N + a_(N-2))/da_(N-2) vs "
          f"J_N J_(N-1) + I: {max_abs_diff(total, J_top @ J_mid + np.eye(4)):.0e}; "
          f"J_(N-1) is {J_mid.shape[0]}x{J_mid.shape[1]}")
    if J_mid.shape[0] == J_mid.shape[1]:
        note = (J_top + np.linalg.inv(J_mid)) @ J_mid   # reading da_(N-2)/da_(N-1)
        print(f"  as an inverse Jacobian, the note's formula: "
              f"{max_abs_diff(note, total):.0e} from the truth")
# --8<-- [end:note000]
