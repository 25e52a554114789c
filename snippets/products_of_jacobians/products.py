"""Products of Jacobians (docs/products-of-jacobians.md runs these sections in order)."""

# --8<-- [start:setup]
import numpy as np

from snippets.bp.activations import IDENTITY, RELU, SIGMOID, TANH
from snippets.bp.init import init_weights
from snippets.bp.mlp import MLP, Layer, build_mlp
from snippets.figures import show, sig, subplots, table

SEEDS = 5                     # independent draws behind every random claim
EULER_GAMMA = 0.5772156649015329


def norm2(M):
    """Spectral norm of M (..., m, n): its largest singular value."""
    return np.linalg.norm(M, 2, axis=(-2, -1))


def spectral_radius(M):
    """The largest |eigenvalue| of a square M (..., n, n)."""
    return np.max(np.abs(np.linalg.eigvals(M)), axis=-1)


def resolvable(s_min, s_max):
    """s_min, or NaN where float64 cannot tell it from 0: a product computed
    in float64 carries errors of about 1e-16 times its largest singular
    value."""
    return np.where(s_min > 1e-13 * s_max, s_min, np.nan)


def median_range(values):
    """'median (smallest to largest)' of values over seeds, to two
    significant digits (the spread over seeds allows no more)."""
    v = np.asarray(values)
    return f"{sig(np.median(v))} ({sig(v.min())} to {sig(v.max())})"


def spread(*arrays):
    """The largest factor by which one draw differs from the median of its
    array (of values over seeds)."""
    return max(max(v.max() / np.median(v), np.median(v) / v.min())
               for v in map(np.asarray, arrays))
# --8<-- [end:setup]


# --8<-- [start:power]
V = np.array([[1.0, 2.0], [0.5, 1.5]])
lam = np.array([0.9, 0.5])
W = V @ np.diag(lam) @ np.linalg.inv(V)   # eigenvalues 0.9 and 0.5
power_rows = []
for t in (1, 10, 50):
    Wt = np.linalg.matrix_power(W, t)
    assert np.allclose(Wt, V @ np.diag(lam ** t) @ np.linalg.inv(V))
    power_rows.append([t, norm2(Wt), 0.9 ** t, norm2(Wt) / 0.9 ** t])
table([[str(t), sig(n, 3), sig(r, 3), f"{q:.2f}"]
       for t, n, r, q in power_rows],
      header=["t", "‖W^t‖", "ρ(W)^t = 0.9^t", "ratio"],
      caption=f"Powers of one matrix; cond(V) = {np.linalg.cond(V):.2f}")
# --8<-- [end:power]


# --8<-- [start:one_below]
lam_keep = np.array([1.0, 0.5])
W_keep = V @ np.diag(lam_keep) @ np.linalg.inv(V)   # eigenvalues 1 and 0.5
keep_limit = V @ np.diag([1.0, 0.0]) @ np.linalg.inv(V)
keep_rows = []
for t in (1, 10, 50):
    keep_rows.append([str(t), sig(norm2(np.linalg.matrix_power(W_keep, t)), 3),
                      sig(0.5 ** t, 3)])
table(keep_rows, header=["t", "‖W^t‖", "0.5^t"],
      caption="Eigenvalues 1 and 0.5: W^t tends to V diag(1, 0) V⁻¹, of "
      f"norm {sig(norm2(keep_limit), 3)}")
# --8<-- [end:one_below]


# --8<-- [start:jordan]
J = np.array([[1.0, 1.0], [0.0, 1.0]])     # eigenvalue 1, twice
eigenvalues, P = np.linalg.eig(J)
print(f"eigenvalues {eigenvalues}; cond(P) = {np.linalg.cond(P):.0e}: "
      "the two eigenvectors are parallel")
jordan_t = (10, 100, 1000)
jordan_norms = [norm2(np.linalg.matrix_power(J, t)) for t in jordan_t]
print("‖J^t‖ for t = 10, 100, 1000:",
      ", ".join(f"{v:.1f}" for v in jordan_norms))
# --8<-- [end:jordan]


# --8<-- [start:transient]
M = np.array([[0.9, 5.0], [0.0, 0.8]])     # eigenvalues 0.9 and 0.8
steps = np.arange(101)
M_norms = np.array([norm2(np.linalg.matrix_power(M, t)) for t in steps])
peak = int(np.argmax(M_norms))
above = int(steps[M_norms > 1].max())
print(f"eigenvalues {np.linalg.eigvals(M)}; cond(V) = "
      f"{np.linalg.cond(np.linalg.eig(M)[1]):.0f}")
print(f"‖M^t‖ rises to {M_norms[peak]:.1f} at t = {peak} and stays above 1 "
      f"up to t = {above}")
print(f"‖M^100‖ = {M_norms[100]:.1e}, against 0.9^100 = {0.9 ** 100:.1e}")
# --8<-- [end:transient]


# --8<-- [start:powers_plot]
J_norms = np.array([norm2(np.linalg.matrix_power(J, t)) for t in steps])
fig, ax = subplots(figsize=(3.7, 3.6))
ax.semilogy(steps, J_norms, color="C0", label="‖J^t‖, Jordan block")
ax.semilogy(steps, np.ones_like(steps), ":", color="C0",
            label="ρ(J)^t = 1")
ax.semilogy(steps, M_norms, color="C1", label="‖M^t‖, non-normal")
ax.semilogy(steps, 0.9 ** steps, ":", color="C1", label="ρ(M)^t = 0.9^t")
ax.set_xlabel("power t")
ax.set_ylabel("spectral norm")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
show(
    fig,
    alt="Log-scale plot of the spectral norm of powers t from 0 to 100 of two "
    "2 by 2 matrices. The Jordan block J with eigenvalue 1 grows steadily "
    "to 100 at t = 100, while its eigenvalue predicts 1 at every t. The "
    "non-normal matrix M with eigenvalues 0.9 and 0.8 rises to about "
    f"{M_norms[peak]:.0f} near t = {peak}, stays above 1 until t = {above}, "
    "and then falls parallel to 0.9 to the power t, about "
    f"{M_norms[100] / 0.9 ** 100:.0f} times above it.",
    caption="Powers of two matrices (solid) against what their eigenvalues "
    "predict (dotted, same colour). Blue: a Jordan block with eigenvalue 1 "
    "grows in proportion to t. Orange: a matrix with both eigenvalues "
    "inside the unit circle grows for the first steps and only later "
    "decays at the rate 0.9^t.",
)
# --8<-- [end:powers_plot]


# --8<-- [start:alternating]
A = np.array([[0.5, 1.0], [0.0, 0.5]])
B = np.array([[0.5, 0.0], [1.0, 0.5]])
print("eigenvalues of A:", np.linalg.eigvals(A),
      " of B:", np.linalg.eigvals(B))
BA_25 = np.linalg.matrix_power(B @ A, 25)     # BABA...BA, 50 factors
print(f"note 000's reading, 0.5^50 = {0.5 ** 50:.1e}")
print(f"‖(BA)^25‖ = {norm2(BA_25):.2e}; eigenvalues of BA: "
      f"{np.sort(np.abs(np.linalg.eigvals(B @ A))).round(4)}")
# --8<-- [end:alternating]


# --8<-- [start:widths]
weight_ss, input_ss, grad_ss = np.random.SeedSequence(5).spawn(3)
widths = [64, 16, 64, 16, 64]
net = build_mlp(np.random.default_rng(weight_ss), widths, TANH,
                init="glorot", out_g=TANH)
fwd = net.forward(np.random.default_rng(input_ss).normal(size=(1, 64)))
grads = net.backward(fwd, np.random.default_rng(grad_ss).normal(size=(1, 64)))
width_rows = []
for l in range(1, len(widths)):
    J_l = TANH.df(fwd.z[l][0])[:, None] * net.layers[l - 1].W  # n_l x n_{l-1}
    s = np.linalg.svd(J_l, compute_uv=False)
    # dL/da_{l-1} = dL/da_l J_l: the row picks up J_l, or the column J_l^T
    ratio = np.linalg.norm(grads.a[l - 1]) / np.linalg.norm(grads.a[l])
    width_rows.append((l, J_l.shape, s.min(), s.max(), ratio))
try:
    np.linalg.eigvals(J_l)
except np.linalg.LinAlgError as error:
    print(f"eigenvalues of J_{l}: {error}")
# --8<-- [end:widths]


# --8<-- [start:widths_table]
table([[str(l), f"{m} × {n}", f"{lo:.2f}", f"{hi:.2f}", f"{r:.2f}"]
       for l, (m, n), lo, hi, r in width_rows],
      header=["l", "J_l", "σ_min", "σ_max", "ratio"],
      caption="A tanh network of widths 64, 16, 64, 16, 64, one input; "
      "ratio = ‖∂L/∂a_(l−1)‖ / ‖∂L/∂a_l‖")
# --8<-- [end:widths_table]


# --8<-- [start:entries]
W_half = np.full((10, 10), 0.5)           # every entry "slightly below 1"
print(f"entries 0.5: spectral radius {spectral_radius(W_half):.1f}, "
      f"‖W^10‖ = {norm2(np.linalg.matrix_power(W_half, 10)):.2e}")
rng = np.random.default_rng(0)
Qs = [init_weights(rng, 10, 10, "orthogonal") for _ in range(100)]
s_orth = np.linalg.svd(np.linalg.multi_dot(Qs), compute_uv=False)
print(f"product of 100 orthogonal factors: singular values from "
      f"{s_orth.min():.12f}")
print(f"to {s_orth.max():.12f}; the factors' largest entry: "
      f"{max(np.abs(Q).max() for Q in Qs):.2f}")
# --8<-- [end:entries]


# --8<-- [start:gain_without_g]
n, gain = 32, 1.1
w_ss, x_ss, c_ss = np.random.SeedSequence(7).spawn(3)
# every singular value of every W_l is exactly 1.1: "slightly larger than 1"
Ws = gain * init_weights(np.random.default_rng(w_ss), n, n, "orthogonal",
                         stack=(SEEDS, 50))
x = np.random.default_rng(x_ss).normal(size=(SEEDS, n))
c = np.random.default_rng(c_ss).normal(size=(SEEDS, n))  # L = c · a_D


def gradient_gain(g, depth):
    """‖∂L/∂x‖ / ‖∂L/∂a_D‖ for L = c · a_D after `depth` layers, per seed."""
    a, zs = x, []
    for l in range(depth):
        zs.append(np.einsum("sij,sj->si", Ws[:, l], a))
        a = g(zs[-1])
    v = c
    for l in reversed(range(depth)):  # v <- W_l^T diag(g'(z_l)) v
        v = np.einsum("sij,si->sj", Ws[:, l], g.df(zs[l]) * v)
    return np.linalg.norm(v, axis=-1) / np.linalg.norm(c, axis=-1)


gains = {g.name: [gradient_gain(g, D) for D in (10, 50)]
         for g in (IDENTITY, TANH, RELU, SIGMOID)}
table([[name, *map(median_range, v)] for name, v in gains.items()],
      header=["activation", "depth 10", "depth 50"],
      caption=f"‖∂L/∂x‖ / ‖∂L/∂a_D‖ when every singular value of every "
      f"W_l is {gain}; the note's ∏ W predicts {sig(gain ** 10)} and "
      f"{sig(gain ** 50)}. Medians (smallest to largest) over {SEEDS} "
      f"networks of width {n}")
# --8<-- [end:gain_without_g]


# --8<-- [start:zero_product]
C = np.array([[1.0, 0.0], [1.0, 0.0]])    # copies unit 1 into both units
S = np.array([[1.0, -1.0], [0.0, 0.0]])   # unit 1 minus unit 2, so S C = 0
bias = np.array([0.0, -10.0])             # keeps unit 2 switched off
inputs = np.random.default_rng(9).uniform(0.5, 2.0, size=(SEEDS, 2))


def copy_subtract(depth):
    """ReLU layers W_1 = C, W_2 = S, W_3 = C, ...: every product of weights
    of two or more layers contains S C and is zero."""
    return MLP([Layer(C if l % 2 == 0 else S, bias, RELU)
                for l in range(depth)])


zero_rows = []
for D in (2, 10, 50):
    net = copy_subtract(D)
    W_product = np.linalg.multi_dot([layer.W for layer in net.layers[::-1]])
    fwd = net.forward(inputs)
    grads = net.backward(fwd, np.ones_like(fwd.a[-1]))   # L = sum of a_D
    grad_x = grads.a[0]                   # (SEEDS, 2): ∂L/∂x for each input
    distinct = [f"({u:g}, {v:g})" for u, v in np.unique(grad_x, axis=0)]
    zero_rows.append([f"{D}", f"{np.abs(W_product).max():g}",
                      " ".join(distinct), f"{np.linalg.norm(grads.W[1]):.2f}"])
table(zero_rows, header=["depth D", "max |W_D ⋯ W_1|", "∂L/∂x, every input",
                         "‖∂L/∂W_1‖"],
      caption=f"A ReLU network whose product of weights is exactly zero, "
      f"{SEEDS} inputs, L the sum of the outputs (over all inputs for "
      f"∂L/∂W_1)")
# --8<-- [end:zero_product]


# --8<-- [start:bound]
n, depth = 32, 50
weight_ss, input_ss = np.random.SeedSequence(2).spawn(2)
G = np.random.default_rng(weight_ss).normal(size=(SEEDS, depth, n, n))
Ws = 2.0 * G / norm2(G)[..., None, None]     # every ‖W_l‖_2 = 2
a = np.random.default_rng(input_ss).normal(size=(SEEDS, n))
J_total = np.broadcast_to(np.eye(n), (SEEDS, n, n))
product_of_norms = np.ones(SEEDS)
totals, products = [], []
for l in range(depth):
    z = np.einsum("sij,sj->si", Ws[:, l], a)
    a = SIGMOID(z)
    J_l = SIGMOID.df(z)[..., None] * Ws[:, l]  # diag(σ'(z_l)) W_l
    J_total = J_l @ J_total
    product_of_norms = product_of_norms * norm2(J_l)
    totals.append(norm2(J_total))
    products.append(product_of_norms)
# --8<-- [end:bound]


# --8<-- [start:bound_table]
shown = (1, 10, 25, 50)
table([[str(l), sig(np.median(totals[l - 1])),
        sig(np.median(products[l - 1])), sig(0.5 ** l)] for l in shown],
      header=["l", "‖J_l ⋯ J_1‖", "∏ ‖J_i‖", "(¼ · 2)^l"],
      caption=f"Sigmoid layers with ‖W_l‖ = 2, width {n}: medians over "
      f"{SEEDS} networks, each within a factor "
      f"{spread(*[x[l - 1] for l in shown for x in (totals, products)]):.1f}"
      " of them")
# --8<-- [end:bound_table]


# --8<-- [start:lyapunov]
def lyapunov_gaussian(n):
    """Top Lyapunov exponent of n x n matrices with N(0, 1) entries,
    ½(ln 2 + ψ(n/2)) (Newman 1986); only n = 4 is needed here."""
    assert n == 4
    return 0.5 * (np.log(2) + (1 - EULER_GAMMA))   # ψ(2) = 1 - γ


chains, n_factors = 400, 100
factor_ss, start_ss, d2l_ss = np.random.SeedSequence(1).spawn(3)
factors = np.random.default_rng(factor_ss).normal(
    size=(n_factors, chains, 4, 4))
v = np.random.default_rng(start_ss).normal(size=(chains, 4))
v /= np.linalg.norm(v, axis=1, keepdims=True)
log_growth = np.zeros(chains)
for M_t in factors:                        # 400 products at once
    v = np.einsum("cij,cj->ci", M_t, v)
    length = np.linalg.norm(v, axis=1)
    log_growth += np.log(length)
    v /= length[:, None]
print(f"growth per factor: measured {log_growth.mean() / n_factors:.4f}, "
      f"predicted {lyapunov_gaussian(4):.4f}")
print(f"100 factors: |M v| ~ 10^{log_growth.mean() / np.log(10):.1f} "
      f"(predicted 10^{n_factors * lyapunov_gaussian(4) / np.log(10):.1f})")
d2l = np.random.default_rng(d2l_ss).normal(size=(101, SEEDS, 4, 4))
M_d2l = d2l[0]
for M_t in d2l[1:]:                        # d2l.ai's example, 5 draws
    M_d2l = M_d2l @ M_t
largest = np.abs(M_d2l).max(axis=(1, 2))
print(f"d2l.ai's example (a matrix times 100 more), largest entry:\n"
      f"{median_range(largest)}, median (smallest to largest) of 5 draws")
# --8<-- [end:lyapunov]


# --8<-- [start:norms]
def backprop_profile(g, init, gain=1.0, depth=50, width=64, batch=16,
                     seed=3):
    """||dL/da_l|| for l = 0..depth, divided by its value at the output:
    an array (SEEDS, depth + 1), one row per network."""
    weight_ss, input_ss, grad_ss = np.random.SeedSequence(seed).spawn(3)
    nets = MLP.stack([
        build_mlp(np.random.default_rng(s), [width] * (depth + 1), g,
                  init=init, gain=gain, out_g=g)
        for s in weight_ss.spawn(SEEDS)])
    x = np.random.default_rng(input_ss).normal(size=(SEEDS, batch, width))
    grad_out = np.random.default_rng(grad_ss).normal(size=x.shape)
    grads = nets.backward(nets.forward(x), grad_out)
    norms = np.stack([np.linalg.norm(grad, axis=(1, 2)) for grad in grads.a],
                     axis=1)
    return norms / norms[:, -1:]


profiles = {
    "linear, gain 0.9": backprop_profile(IDENTITY, "gaussian", 0.9),
    "linear, gain 1.0": backprop_profile(IDENTITY, "gaussian", 1.0),
    "linear, gain 1.1": backprop_profile(IDENTITY, "gaussian", 1.1),
    "sigmoid, N(0, 1/n)": backprop_profile(SIGMOID, "gaussian"),
    "tanh, Glorot": backprop_profile(TANH, "glorot"),
    "ReLU, He": backprop_profile(RELU, "he"),
}
table([[name, sig(np.median(p[:, 0])), f"{sig(p[:, 0].min())} to "
        f"{sig(p[:, 0].max())}"] for name, p in profiles.items()],
      header=["network", "median", "range"],
      caption=f"‖∂L/∂x‖ / ‖∂L/∂a_50‖ for 50 layers of width 64, over "
      f"{SEEDS} networks")
# --8<-- [end:norms]


# --8<-- [start:norms_plot]
layers = np.arange(51)


def profile_panel(names, title, styles):
    """One panel, on its own scale: median over the networks and range."""
    fig, ax = subplots(figsize=(3.6, 3.3))
    for name, style in zip(names, styles, strict=True):
        p = profiles[name]
        line, = ax.semilogy(layers, np.median(p, axis=0), style,
                            label=name.removeprefix("linear, "))
        ax.fill_between(layers, p.min(axis=0), p.max(axis=0), alpha=0.2,
                        color=line.get_color(), linewidth=0)
    ax.set_title(title)
    ax.set_xlabel("layer l (0 = input)")
    ax.set_ylabel("‖∂L/∂a_l‖, relative")
    if len(names) > 1:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22),
                  ncol=len(names) // 2 + len(names) % 2)
    return fig


linear = [name for name in profiles if name.startswith("linear")]
fig_lin = profile_panel(linear, "linear layers", ["-", "--", ":"])
fig_crit = profile_panel(["tanh, Glorot", "ReLU, He"], "tanh and ReLU",
                         ["-", "--"])
fig_crit.axes[0].set_yticks([0.05, 0.1, 0.2, 0.5, 1])
fig_sig = profile_panel(["sigmoid, N(0, 1/n)"], "sigmoid, N(0, 1/n)", ["-"])
show(
    [fig_lin, fig_crit, fig_sig],
    alt=["Log-scale plot of relative gradient norm against layer 0 to 50 "
         "for three linear networks: gain 1.1 rises steadily toward the "
         "input to about 100, gain 1.0 stays near 1, gain 0.9 falls "
         "steadily to about 0.004.",
         "Log-scale plot of relative gradient norm against layer 0 to 50: "
         "tanh with Glorot and ReLU with He initialisation drift down "
         "slowly, to about 0.1 and 0.3 at the input.",
         "Log-scale plot of relative gradient norm against layer 0 to 50 "
         "for a sigmoid network: a straight line falling by more than 30 "
         "orders of magnitude toward the input."],
    caption="Gradient norm at each layer of 50-layer networks of width 64, "
    "relative to the output: median over 5 networks (line) and their range "
    "(band). Each panel has its own scale. A straight line on a log scale "
    "is a fixed factor per layer.",
)
# --8<-- [end:norms_plot]


# --8<-- [start:spectrum]
n, depth = 16, 50
random_factors = np.random.default_rng(4).normal(
    size=(depth, SEEDS, n, n)) / np.sqrt(n)
W_rep = random_factors[0]                  # one matrix per draw, repeated
keys = ("radii", "rho", "smax", "smin", "rep_rho", "rep_smax", "rep_smin")
curves = {key: [] for key in keys}         # each entry: one value per draw
P = R = np.broadcast_to(np.eye(n), (SEEDS, n, n))
radii = np.ones(SEEDS)
for W_t in random_factors:
    P, R = W_t @ P, W_rep @ R
    radii = radii * spectral_radius(W_t)
    s, s_rep = (np.linalg.svd(X, compute_uv=False) for X in (P, R))
    values = (radii, spectral_radius(P), s[:, 0],
              resolvable(s[:, -1], s[:, 0]), spectral_radius(R),
              s_rep[:, 0], resolvable(s_rep[:, -1], s_rep[:, 0]))
    for key, value in zip(keys, values, strict=True):
        curves[key].append(value)
curves = {key: np.array(value) for key, value in curves.items()}  # (t, draw)
lost = np.argmax(np.isnan(curves["smin"]), axis=0) + 1


rep_lost = np.argmax(np.isnan(curves["rep_smin"]), axis=0) + 1
assert np.isnan(curves["smin"][-1]).all() and np.isnan(
    curves["rep_smin"][-1]).all()           # every draw loses σ_min
rows = {"∏ ρ(W_i)": ("rep_rho", "radii"), "ρ(product)": ("rep_rho", "rho"),
        "σ_max(product)": ("rep_smax", "smax")}
table([[label, sig(np.median(curves[rep][-1])),
        sig(np.median(curves[diff][-1]))]
       for label, (rep, diff) in rows.items()]
      + [["σ_min lost after", f"{np.median(rep_lost):.0f}",
          f"{np.median(lost):.0f}"]],
      header=["50 factors", "one W", "different W_t"],
      caption=f"16 × 16 Gaussian factors, medians over {SEEDS} draws; σ_min "
      "is lost where it falls below 1e-13 σ_max")
# --8<-- [end:spectrum]


# --8<-- [start:spectrum_plot]
t = np.arange(1, depth + 1)
fig, ax = subplots(figsize=(3.7, 3.4))
for key, style, label in [("radii", "-", "∏ ρ(W_i), note 000's λ^t"),
                          ("rho", "-.", "ρ(W_t ⋯ W_1)"),
                          ("smax", "--", "σ_max(W_t ⋯ W_1)")]:
    ax.semilogy(t, np.median(curves[key], axis=1), style, label=label)
ax.set_xlabel("number of factors t")
ax.set_ylabel("spectral radius or norm")
ax.set_yticks([0.2, 0.5, 1, 2, 5, 10, 20])
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
show(
    fig,
    alt="Log-scale plot against the number of factors, 1 to 50, for "
    "products of different 16 by 16 Gaussian matrices: the product of "
    "their spectral radii rises steadily to about "
    f"{np.median(curves['radii'][-1]):.0f}, the largest singular value of "
    "the product stays near 1, and its spectral radius drifts down to "
    f"about {np.median(curves['rho'][-1]):.1f}.",
    caption="Products of different random matrices: the product of the "
    "factors' spectral radii (solid), the spectral radius of the product "
    "(dash-dot) and its norm (dashed) follow three different slopes. "
    "Median over 5 draws.",
)
# --8<-- [end:spectrum_plot]
