"""Solutions to the exercises of docs/jacobian-spectra.md. The page runs these
sections in the chapter's session, after spectra.py; imported as a module (by
the tests), the names they use come from spectra.py first."""

from snippets.jacobian_spectra.spectra import (  # noqa: F401 (the session's)
    DEPTHS,
    IDENTITY,
    NETWORKS,
    RELU,
    SEEDS,
    TANH,
    WIDTH,
    draw,
    input_output_jacobians,
    np,
    sigma_b,
    sigma_w,
    spectra,
    spectra_of,
    spread,
    table,
    zero_fraction,
)

# --8<-- [start:one_layer]
W, b, x = draw(**NETWORKS["ReLU, He"], key=100, depth=1)
jacobians, on = input_output_jacobians(RELU, W, b, x, depths=(1,))
s = np.linalg.svd(jacobians[1], compute_uv=False)
units_off = np.round(100 * (1 - on[1])).astype(int)
zeros = np.round(100 * zero_fraction(s)).astype(int)
print("% of units off, per network:  ", units_off)
print("% of singular values that are 0:", zeros)
# --8<-- [end:one_layer]


# --8<-- [start:expectation]
def mean_s2(g, weight_variance, networks=10_000, width=8, depth=4, seed=0):
    """mean s^2 of d a_depth / d x for many random networks at once."""
    rng_W, rng_x = (np.random.default_rng(s) for s in
                    np.random.SeedSequence(seed).spawn(2))
    W = rng_W.normal(scale=np.sqrt(weight_variance / width),
                     size=(depth, networks, width, width))
    a = rng_x.normal(size=(networks, width))
    J = np.broadcast_to(np.eye(width), (networks, width, width))
    for W_l in W:
        z = (W_l @ a[..., None])[..., 0]
        a, J = g(z), (g.df(z)[..., None] * W_l) @ J
    return np.sum(J ** 2, axis=(-2, -1)) / width   # tr(J J^T) / n


rows = []
for name, g, variance in [("linear, Gaussian", IDENTITY, 1.0),
                          ("ReLU, He", RELU, 2.0)]:
    m = mean_s2(g, variance)
    error = m.std() / np.sqrt(m.size)              # of the average
    rows.append([name, f"{m.mean():.3f} ± {error:.3f}",
                 f"{np.median(m):.2f}", f"{np.mean(m < 1):.0%}"])
table(rows, header=["network", "average", "median", "share below 1"],
      caption="mean s² of 10 000 networks of width 8, depth 4")
# --8<-- [end:expectation]


# --8<-- [start:gaussian_tanh]
gaussian_tanh, _ = input_output_jacobians(TANH, *draw(
    TANH, "gaussian", gain=sigma_w, sd=sigma_b, key=101))
rows = []
for weights, by_depth in [
        ("orthogonal", spectra["tanh, orthogonal, critical"]),
        ("Gaussian", {l: np.linalg.svd(J, compute_uv=False)
                      for l, J in gaussian_tanh.items()})]:
    for depth in (32, 128):
        s = by_depth[depth]
        rows.append([weights, f"{depth}",
                     spread(np.median(s, axis=-1), ".1e"),
                     spread(100 * np.mean(s < 0.1, axis=-1), ".0f")])
table(rows, header=["weights", "depth", "median s", "% of s below 0.1"],
      caption=f"Critical tanh: median of {SEEDS} (range in brackets)")
# --8<-- [end:gaussian_tanh]


# --8<-- [start:he_biased]
he_biased = dict(g=RELU, init="he", constant=0.5)      # variance 2/n
he_biased_s, he_biased_on = spectra_of(102, **he_biased)
rows = [[f"{depth}", spread(100 * zero_fraction(he_biased_s[depth]), ".0f"),
         spread(np.mean(he_biased_s[depth] ** 2, axis=-1))]
        for depth in (8, 32)]
table(rows, header=["depth", "% of s = 0", "mean s²"],
      caption=f"He weights, biases +0.5: median of {SEEDS} (range)")
# --8<-- [end:he_biased]
