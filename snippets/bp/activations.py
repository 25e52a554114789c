"""Activation functions with their derivatives, evaluated elementwise.

Inputs are arrays of any shape (a batch of pre-activations ``z: (batch, n)``, a grid of points
``x: (k,)``, a scalar); outputs have the input's shape. Integer input is computed in float64.
"""

from __future__ import annotations

import numpy as np


def _float(z) -> np.ndarray:
    z = np.asarray(z)
    return z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)


# --8<-- [start:sigmoid]
def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), without overflow for any finite ``z``.

    The textbook formula overflows in ``exp(-z)`` for z < -709. Both of its forms,
    1 / (1 + e^-z) and e^z / (1 + e^z), are exact; each is safe on one side of zero, so
    each side uses its own, through e = exp(-|z|), which lies in (0, 1].

    z: any shape -> same shape.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    >>> float(sigmoid(-40.0))  # still a correct, tiny number, not 0
    4.248354255291589e-18
    """
    z = _float(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
# --8<-- [end:sigmoid]


# --8<-- [start:sigmoid_prime]
def sigmoid_prime(z):
    """The derivative sigma'(z) = sigma(z) * sigma(-z) = sigma(z) * (1 - sigma(z)).

    Computed as e / (1 + e)^2 with e = exp(-|z|), which equals sigma(z) * sigma(-z) and
    keeps full relative precision in the tails, where 1 - sigma(z) cancels to 0.

    z: any shape -> same shape.

    >>> sigmoid_prime(np.array([0.0, 40.0, -1000.0]))
    array([2.50000000e-01, 4.24835426e-18, 0.00000000e+00])
    """
    z = _float(z)
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2
# --8<-- [end:sigmoid_prime]
