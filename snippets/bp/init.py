"""Weight initialisation: W has shape (n_out, n_in), as in z = W a + b.

All randomness comes from the ``rng`` passed in (``np.random.default_rng(seed)``).
"""

from __future__ import annotations

import numpy as np

SCHEMES = ("gaussian", "standard", "glorot", "he", "orthogonal")


def init_weights(rng: np.random.Generator, n_out: int, n_in: int, scheme: str = "he", *,
                 gain: float = 1.0, dtype=np.float64, stack: tuple = ()) -> np.ndarray:
    """Draw W: (n_out, n_in) from one of the classic schemes, scaled by ``gain``; with
    ``stack``, a whole stack of independent matrices in one call, (*stack, n_out, n_in).

    * ``gaussian``: N(0, gain^2 / n_in); with gain 1, the "variance 1/n" (LeCun) scale.
    * ``standard``: U[-gain/sqrt(n_in), gain/sqrt(n_in)], the "standard" initialisation of
      Glorot & Bengio (2010), variance gain^2 / (3 n_in).
    * ``glorot``: U[-a, a] with a = gain sqrt(6 / (n_in + n_out)), their "normalized" one.
    * ``he``: N(0, 2 gain^2 / n_in), He et al. (2015) for ReLU.
    * ``orthogonal``: gain times a matrix with orthonormal rows or columns (Saxe et al. 2014).

    >>> W = init_weights(np.random.default_rng(0), 3, 5, "orthogonal")
    >>> W.shape, np.allclose(W @ W.T, np.eye(3))
    ((3, 5), True)
    >>> init_weights(np.random.default_rng(0), 3, 5, "orthogonal", stack=(10,)).shape
    (10, 3, 5)
    """
    size = (*stack, n_out, n_in)
    if scheme == "gaussian":
        W = rng.normal(0.0, gain / np.sqrt(n_in), size=size)
    elif scheme == "standard":
        limit = gain / np.sqrt(n_in)
        W = rng.uniform(-limit, limit, size=size)
    elif scheme == "glorot":
        limit = gain * np.sqrt(6.0 / (n_in + n_out))
        W = rng.uniform(-limit, limit, size=size)
    elif scheme == "he":
        W = rng.normal(0.0, gain * np.sqrt(2.0 / n_in), size=size)
    elif scheme == "orthogonal":
        A = rng.normal(size=(*stack, max(n_out, n_in), min(n_out, n_in)))
        Q, R = np.linalg.qr(A)
        # makes the distribution uniform (Haar), not QR-biased
        Q *= np.sign(np.diagonal(R, axis1=-2, axis2=-1))[..., None, :]
        W = gain * (Q if n_out >= n_in else np.swapaxes(Q, -1, -2))
    else:
        raise ValueError(f"unknown initialisation {scheme!r}; choose one of {SCHEMES}")
    return W.astype(dtype, copy=False)
