"""The exercises of docs/residual-ensembles.md. The page runs these sections in the session
of ensembles.py, after it; imported on its own (by the tests), the module takes the page's
names from there."""

import numpy as np

from snippets.residual_ensembles.ensembles import (
    PURPOSES,
    blocks,
    effective_lengths,
    gradient_by_length,
    n,
    residual,
    without_block,
    x,
)

# --8<-- [start:longest]
for c in (1.35, 10.0, 50.0, 60.0):
    total = gradient_by_length(c ** np.arange(n + 1))
    print(f"c = {c:5.2f}: the gradient peaks at length {total.argmax():2d}; "
          f"the path through all {n} blocks carries {total[n]:.1e} of it")
# --8<-- [end:longest]


# --8<-- [start:veit]
c = 11 / (n - 11)                     # n c / (1 + c) = 11
lo, hi = effective_lengths(gradient_by_length(c ** np.arange(n + 1)))
print(f"c = {c:.3f}: 90% of the gradient from lengths {lo} to {hi}")
# --8<-- [end:veit]


# --8<-- [start:several]
def delete_blocks(net, chosen, size=2):
    """``net`` without the blocks in ``chosen``, the last first, so that the
    indices of the blocks still to delete do not move."""
    for i in sorted(chosen, reverse=True):
        net = without_block(net, i, size)
    return net


pick = np.random.default_rng(
    np.random.SeedSequence(2016, spawn_key=(len(PURPOSES),)))  # its own stream
y = residual.forward(x).a[-1]
several = {}
for m in (1, 2, 5, 10):
    change = []
    for _ in range(4):                      # four random sets of m blocks
        net = delete_blocks(residual, pick.choice(blocks, m, replace=False))
        change.append(np.linalg.norm(net.forward(x).a[-1] - y, axis=(-2, -1))
                      / np.linalg.norm(y, axis=(-2, -1)))
    several[m] = np.array(change)           # (sets, SEEDS)
    print(f"{m:2d} of {blocks} blocks deleted: output changes by "
          f"{np.median(several[m]):.0%} (median over sets and seeds)")
# --8<-- [end:several]
