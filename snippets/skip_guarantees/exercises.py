"""Solutions to the exercises of docs/skip-guarantees.md. The page runs these
sections in its session, after guarantees.py's sections, whose names they
use; the imports below make the module run on its own, for the tests."""

import numpy as np

from snippets.skip_guarantees.guarantees import (
    SEEDS,
    init_weights,
    input_gradient_ratio,
    ratios,
    residual_stack,
    spread,
    streams,
    width,
)

# --8<-- [start:ex_product]
A = np.eye(2) + np.array([[0.0, 4.0], [0.0, 0.0]])
B = np.eye(2) + np.array([[0.0, 0.0], [-4.0, 0.0]])
print("eigenvalues of A:", np.linalg.eigvals(A), "and of B:",
      np.linalg.eigvals(B))
print("eigenvalues of AB:", np.linalg.eigvals(A @ B).round(4))
# --8<-- [end:ex_product]


# --8<-- [start:ex_lecun]
L_ex, rng_W = 32, streams(5, 1)[0]
W_a2, W_b2 = (np.stack([[init_weights(rng_W, width, width, "gaussian")
                         for _ in range(L_ex)] for _ in range(SEEDS)])
              for _ in range(2))                 # variance 1/n: LeCun
ratio_ex = input_gradient_ratio(residual_stack(W_a2, W_b2, L_ex,
                                               "identity"))
print(f"over {L_ex} blocks: {spread(ratio_ex, '.3g')}; "
      f"1.5^16 = {1.5 ** 16:.0f}")
print(f"per block: {spread(ratio_ex ** (1 / L_ex), '.3f')}; "
      f"√1.5 = {np.sqrt(1.5):.3f}")
# --8<-- [end:ex_lecun]


# --8<-- [start:ex_limit]
print(f"(1 + 2/64)^32 = {(1 + 2 / 64) ** 32:.2f}, e = {np.e:.2f}")
print(f"measured at L = 64: {spread(ratios['scaled'][-1], '.2f')}")
# --8<-- [end:ex_limit]
