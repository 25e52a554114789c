"""Solutions to the exercises of docs/shattered-gradients.md. The page runs these
sections in the chapter's session, after shattered.py; imported as a module (by
the tests), the names they use come from shattered.py first."""

from snippets.shattered_gradients.shattered import (
    MLP,
    SEEDS,
    autocorrelation,
    build_mlp,
    correlation,
    count_pieces,
    input_gradient,
    linear_pieces,
    make,
    nets,
    np,
    spread,
    table,
)


# --8<-- [start:tent]
def tent_network(depth):
    """Width 2: each layer computes T(u) = 2u - 4 relu(u - 1/2), the tent
    map of [0, 1] onto itself (relu(u + 1) is always on: it passes u)."""
    net = build_mlp(np.random.default_rng(0), [1] + [2] * depth + [1])
    first, *middle, last = net.layers
    first.W[...], first.b[...] = [[1.0], [1.0]], [1.0, -0.5]
    for layer in middle:  # pre-activations T + 1, T - 1/2; T = 2h0-4h1-2
        layer.W[...] = [[2.0, -4.0], [2.0, -4.0]]
        layer.b[...] = [-1.0, -2.5]
    last.W[...], last.b[...] = [[2.0, -4.0]], [-2.0]          # y = T
    return net


def random_narrow(depth, seed):
    """Width 2, He weights, biases of standard deviation 0.5."""
    rng_W, rng_b = (np.random.default_rng(s) for s in
                    np.random.SeedSequence([seed, depth]).spawn(2))
    net = build_mlp(rng_W, [1] + [2] * depth + [1])
    for layer in net.layers:
        layer.b[...] = rng_b.normal(scale=0.5, size=layer.b.shape)
    return net


rows = []
for depth in (2, 4, 8, 12):
    tent, = count_pieces(linear_pieces(MLP.stack([tent_network(depth)]),
                                       0.0, 1.0)[0])
    narrow = MLP.stack([random_narrow(depth, s) for s in range(SEEDS)])
    random = count_pieces(linear_pieces(narrow, 0.0, 1.0)[0])
    rows.append([f"{depth}", f"{tent}", f"{2 ** depth}",
                 spread(random, ".0f")])
table(rows,
      header=["depth", "tent-map network", "2^depth", "random networks"],
      caption="Linear pieces on [0, 1], width 2")
# --8<-- [end:tent]


# --8<-- [start:no_biases]
def without_biases(kind, depth, seed):
    net = make(kind, depth, seed)
    for layer in net.layers:
        layer.b[...] = 0.0
    return net


for depth in (4, 16):
    flat = MLP.stack([without_biases("plain", depth, seed)
                      for seed in range(SEEDS)])
    counts = count_pieces(linear_pieces(flat)[0])
    print(f"depth {depth}, zero biases: pieces on [-2, 2] per network:",
          counts)
# --8<-- [end:no_biases]


# --8<-- [start:finer]
fine = np.linspace(-2, 2, 1024)[:, None]
rho = {256: correlation["plain"][-1],
       1024: autocorrelation(input_gradient(nets["plain", 64], fine))}
for points, values in rho.items():
    print(f"{points:4d} points: correlation of neighbours {spread(values)}")
# --8<-- [end:finer]
