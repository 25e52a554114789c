"""The exercises of docs/degradation.md. The page runs these sections in the session of
training.py, after it; imported on its own (by the tests), the module takes the page's names
from there."""

import numpy as np

from snippets.bp.losses import squared_error_grad
from snippets.bp.optim import SGD
from snippets.degradation.training import (
    DEPTHS,
    PLAIN,
    ROOT,
    ZERO,
    X,
    Y,
    he_spread,
    network,
)

# --8<-- [start:zero_start]
net = network(ZERO, 20, np.random.default_rng(
    np.random.SeedSequence(ROOT.entropy, spawn_key=(2,))))  # its own stream
opt = SGD(net, lr=0.003, momentum=0.9)
first_steps = []
for step in range(2):
    fwd = net.forward(X[:16])
    grads = net.backward(fwd, squared_error_grad(fwd.a[-1], Y[:16]))
    norm = [np.linalg.norm(W) for W in grads.W[1:]]  # layer 1 is the input's
    first_steps.append(norm)
    print(f"step {step + 1}: largest |grad W_a| {max(norm[1:-1:2]):.2g}, "
          f"smallest |grad W_b| {min(norm[2:-1:2]):.2g}")
    opt.step(grads)
# --8<-- [end:zero_start]


# --8<-- [start:growth]
blocks = [(depth - 2) // 2 for depth in DEPTHS]      # 1, 9 and 27 blocks
spread = [np.median(he_spread[depth]) for depth in DEPTHS]
per_block = np.exp(np.polyfit(blocks, np.log(spread), 1)[0])
print(f"output spread at the start: {', '.join(f'{s:.1f}' for s in spread)}")
print(f"growth per block: {per_block:.2f}, against sqrt(3) = {3 ** 0.5:.2f}")
# --8<-- [end:growth]


# --8<-- [start:parameters]
rng = np.random.default_rng(0)          # the values do not matter, only shapes
for depth in DEPTHS:
    count = {kind: sum(layer.W.size + layer.b.size
                       for layer in network(kind, depth, rng).layers)
             for kind in (PLAIN, ZERO)}
    print(f"{depth} layers: plain {count[PLAIN]}, residual {count[ZERO]}")
# --8<-- [end:parameters]
