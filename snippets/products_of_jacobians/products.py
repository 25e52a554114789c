"""Products of Jacobians (docs/products-of-jacobians.md runs these sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import IDENTITY, RELU, SIGMOID, TANH
from snippets.bp.init import init_weights
from snippets.bp.mlp import build_mlp
from snippets.figures import show, subplots

EULER_GAMMA = 0.5772156649015329


def norm2(M):
    """Spectral norm: the largest singular value."""
    return np.linalg.norm(M, 2)


def spectral_radius(M):
    """The largest |eigenvalue|."""
    return np.max(np.abs(np.linalg.eigvals(M)))


def resolvable(s_min, s_max):
    """s_min, or NaN where float64 cannot tell it from 0: a product computed
    in float64 carries errors of about 1e-16 times its largest singular value."""
    return s_min if s_min > 1e-13 * s_max else np.nan
# --8<-- [end:setup]


# --8<-- [start:power]
V = np.array([[1.0, 2.0], [0.5, 1.5]])
lam = np.array([0.9, 0.5])
W = V @ np.diag(lam) @ np.linalg.inv(V)   # eigenvalues 0.9 and 0.5
print(f"{'t':>3} {'||W^t||':>10} {'0.9^t':>10} {'ratio':>6}")
for t in (1, 10, 50):
    Wt = np.linalg.matrix_power(W, t)
    assert np.allclose(Wt, V @ np.diag(lam ** t) @ np.linalg.inv(V))
    print(f"{t:3d} {norm2(Wt):10.2e} {0.9 ** t:10.2e} "
          f"{norm2(Wt) / 0.9 ** t:6.2f}")
print(f"the ratio stays below cond(V) = {np.linalg.cond(V):.2f}")
# --8<-- [end:power]


# --8<-- [start:transient]
N = np.array([[0.9, 5.0], [0.0, 0.9]])    # both eigenvalues 0.9
norms = [norm2(np.linalg.matrix_power(N, t)) for t in range(1, 101)]
peak = int(np.argmax(norms)) + 1
print(f"eigenvalues {np.linalg.eigvals(N)}, yet ||N^t|| peaks at "
      f"{max(norms):.1f} for t = {peak}; ||N^100|| = {norms[-1]:.1e}")
# --8<-- [end:transient]


# --8<-- [start:alternating]
A = np.array([[0.5, 1.0], [0.0, 0.5]])
B = np.array([[0.5, 0.0], [1.0, 0.5]])
print("eigenvalues of A:", np.linalg.eigvals(A),
      " of B:", np.linalg.eigvals(B))
BA_25 = np.linalg.matrix_power(B @ A, 25)     # BABA...BA, 50 factors
print(f"note 000's reading, 0.5^50 = {0.5 ** 50:.1e}")
print(f"||(BA)^25|| = {norm2(BA_25):.2e}; eigenvalues of BA: "
      f"{np.sort(np.abs(np.linalg.eigvals(B @ A))).round(4)}")
# --8<-- [end:alternating]


# --8<-- [start:entries]
W_half = np.full((10, 10), 0.5)           # every entry "slightly below 1"
print(f"entries 0.5: spectral radius {spectral_radius(W_half):.1f}, "
      f"||W^10|| = {norm2(np.linalg.matrix_power(W_half, 10)):.2e}")
rng = np.random.default_rng(0)
Qs = [init_weights(rng, 10, 10, "orthogonal") for _ in range(100)]
Q_product = np.linalg.multi_dot(Qs)
s_orth = np.linalg.svd(Q_product, compute_uv=False)
print(f"100 random orthogonal factors: singular values in "
      f"[{s_orth.min():.12f}, {s_orth.max():.12f}]; the factors' entries "
      f"reach "
      f"{max(np.abs(Q).max() for Q in Qs):.2f}")
# --8<-- [end:entries]


# --8<-- [start:bound]
rng = np.random.default_rng(2)
n, depth = 32, 50
Ws = []
for _ in range(depth):
    G = rng.normal(size=(n, n))
    Ws.append(2.0 * G / norm2(G))        # every ||W_l||_2 = 2
a = rng.normal(size=n)
J_total = np.eye(n)
product_of_norms = 1.0
rows = []
for l, W_l in enumerate(Ws, start=1):
    z = W_l @ a
    a = SIGMOID(z)
    J_l = SIGMOID.df(z)[:, None] * W_l   # diag(σ'(z_l)) W_l
    J_total = J_l @ J_total
    product_of_norms *= norm2(J_l)
    rows.append((l, norm2(J_total), product_of_norms, 0.5 ** l))
print(f"{'l':>3} {'||J_l...J_1||':>14} {'prod ||J_i||':>13} "
      f"{'(1/4 * 2)^l':>12}")
for l, total, prod, bound in rows:
    if l in (1, 10, 25, 50):
        print(f"{l:3d} {total:14.2e} {prod:13.2e} {bound:12.2e}")
# --8<-- [end:bound]


# --8<-- [start:lyapunov]
def lyapunov_gaussian(n):
    """Top Lyapunov exponent of n x n matrices with N(0, 1) entries,
    ½(ln 2 + ψ(n/2)) (Newman 1986); only n = 4 is needed here."""
    assert n == 4
    return 0.5 * (np.log(2) + (1 - EULER_GAMMA))   # ψ(2) = 1 - γ


rng = np.random.default_rng(1)
chains, n_factors = 400, 100
v = rng.normal(size=(chains, 4))
v /= np.linalg.norm(v, axis=1, keepdims=True)
log_growth = np.zeros(chains)
for _ in range(n_factors):                 # 400 products at once
    v = np.einsum("cij,cj->ci", rng.normal(size=(chains, 4, 4)), v)
    length = np.linalg.norm(v, axis=1)
    log_growth += np.log(length)
    v /= length[:, None]
print(f"growth per factor: measured {log_growth.mean() / n_factors:.4f}, "
      f"predicted {lyapunov_gaussian(4):.4f}")
print(f"100 factors: |M v| ~ 10^{log_growth.mean() / np.log(10):.1f} "
      f"(predicted 10^{n_factors * lyapunov_gaussian(4) / np.log(10):.1f})")
M_d2l = rng.normal(size=(4, 4))
for _ in range(100):                     # d2l.ai's example, one draw
    M_d2l = M_d2l @ rng.normal(size=(4, 4))
print(f"d2l.ai's product of 100 matrices: largest entry {np.abs(M_d2l).max():.1e}")
# --8<-- [end:lyapunov]


# --8<-- [start:norms]
def backprop_profile(g, init, gain=1.0, depth=50, width=64, batch=16, seed=3):
    """||dL/da_l|| for l = 0..depth, divided by its value at the output."""
    rng = np.random.default_rng(seed)
    net = build_mlp(rng, [width] * (depth + 1), g, init=init, gain=gain,
                    out_g=g)
    fwd = net.forward(rng.normal(size=(batch, width)))
    grads = net.backward(fwd, rng.normal(size=(batch, width)))
    norms = np.array([np.linalg.norm(grad) for grad in grads.a])
    return norms / norms[-1]


profiles = {
    "linear, gain 0.9": backprop_profile(IDENTITY, "gaussian", 0.9),
    "linear, gain 1.0": backprop_profile(IDENTITY, "gaussian", 1.0),
    "linear, gain 1.1": backprop_profile(IDENTITY, "gaussian", 1.1),
    "sigmoid, N(0, 1/n)": backprop_profile(SIGMOID, "gaussian"),
    "tanh, Glorot": backprop_profile(TANH, "glorot"),
    "ReLU, He": backprop_profile(RELU, "he"),
}
for name, profile in profiles.items():
    print(f"{name:<19} ||dL/dx|| / ||dL/da_50|| = {profile[0]:.1e}")
# --8<-- [end:norms]


# --8<-- [start:norms_plot]
fig, axes = subplots(1, 2, figsize=(9, 3.4), sharey=True)
for i, (name, profile) in enumerate(profiles.items()):
    ax = axes[0] if name.startswith("linear") else axes[1]
    ax.semilogy(range(51), profile, label=name,
                linestyle=["-", "--", ":"][i % 3])
for ax, title in zip(axes, ["linear layers", "nonlinear layers"],
                     strict=True):
    ax.set_title(title)
    ax.set_xlabel("layer l (0 = input)")
    ax.legend()
axes[0].set_ylabel(r"$\|\partial\mathcal{L}/\partial a_l\|$, relative")
show(
    fig,
    alt="Two log-scale line plots of relative gradient norm against layer "
    "index from 0 to 50. Left, linear networks: gain 0.9 falls steadily, "
    "gain 1.0 stays near 1, gain 1.1 rises steadily toward the input. Right: "
    "the sigmoid network falls by many orders of magnitude, tanh with Glorot "
    "and ReLU with He stay within about one order of magnitude.",
    caption="Gradient norm at each layer of 50-layer networks of width 64, "
    "relative to the output. Straight lines on a log scale are geometric "
    "decay or growth: a fixed factor per layer.",
)
# --8<-- [end:norms_plot]


# --8<-- [start:spectrum]
rng = np.random.default_rng(4)
n, depth = 16, 50
random_factors = [rng.normal(size=(n, n)) / np.sqrt(n) for _ in range(depth)]
W_rep = random_factors[0]
curves = {key: [] for key in ("radii", "rho", "smax", "smin",
                              "rep_rho", "rep_smax", "rep_smin")}
P, R, radii = np.eye(n), np.eye(n), 1.0
for t in range(1, depth + 1):
    P, R = random_factors[t - 1] @ P, W_rep @ R
    radii *= spectral_radius(random_factors[t - 1])
    s, s_rep = (np.linalg.svd(M, compute_uv=False) for M in (P, R))
    values = (radii, spectral_radius(P), s[0], resolvable(s[-1], s[0]),
              spectral_radius(R), s_rep[0], resolvable(s_rep[-1], s_rep[0]))
    for key, value in zip(curves, values, strict=True):
        curves[key].append(value)
lost = next(t for t, s_min in enumerate(curves["smin"], 1) if np.isnan(s_min))
print(f"depth {depth}, different factors: product of their spectral radii "
      f"{curves['radii'][-1]:.1e}; largest |eigenvalue| of the product "
      f"{curves['rho'][-1]:.1e}; largest singular value "
      f"{curves['smax'][-1]:.1e}")
print(f"the smallest singular value falls below 1e-13 of the largest "
      f"(float64 cannot follow it) after {lost} factors")
print(f"depth {depth}, one factor repeated: rho(W)^{depth} = "
      f"{spectral_radius(W_rep) ** depth:.1e}, largest singular value "
      f"{curves['rep_smax'][-1]:.1e}")
# --8<-- [end:spectrum]


# --8<-- [start:spectrum_plot]
t = np.arange(1, depth + 1)
fig, axes = subplots(1, 2, figsize=(9, 3.4), sharey=True)
axes[0].semilogy(t, curves["rep_rho"], label=r"$\rho(W)^t$ = $\rho(W^t)$")
axes[0].semilogy(t, curves["rep_smax"], "--", label=r"$\sigma_{\max}(W^t)$")
axes[0].semilogy(t, curves["rep_smin"], ":", label=r"$\sigma_{\min}(W^t)$")
axes[1].semilogy(t, curves["radii"], label=r"$\prod_i \rho(W_i)$")
axes[1].semilogy(t, curves["rho"], label=r"$\rho(W_t \cdots W_1)$")
axes[1].semilogy(t, curves["smax"], "--", label=r"$\sigma_{\max}$ of product")
axes[1].semilogy(t, curves["smin"], ":", label=r"$\sigma_{\min}$ of product")
for ax, title in zip(axes, ["one matrix W, repeated",
                            "different matrices W_1, ..., W_t"], strict=True):
    ax.set_title(title)
    ax.set_xlabel("number of factors t")
    ax.legend()
show(
    fig,
    alt="Two log-scale plots against the number of factors, 1 to 50, for "
    "16 by 16 Gaussian matrices. Left, one matrix repeated: its spectral "
    "radius to the power t and the largest singular value run parallel. "
    "Right, different matrices: the product of their spectral radii, the "
    "spectral radius of the product and its largest and smallest singular "
    "values all follow different slopes, the smallest singular value "
    "falling fastest until float64 can no longer resolve it.",
    caption="Eigenvalues predict a power of one matrix (left: the largest "
    "singular value keeps the slope of ρ(W)^t), not a product of different "
    "ones (right): the factors' eigenvalues say little about the "
    "product's, and its singular values spread apart at different "
    "exponential rates.",
)
# --8<-- [end:spectrum_plot]
