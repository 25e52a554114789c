"""Activation functions: value, derivative and Jacobian, elementwise and batched.

Inputs are arrays of any shape: a batch of pre-activations ``z: (batch, n)``, a single vector
``z: (n,)``, a grid of points, a scalar. Values and derivatives have the input's shape and
floating dtype (integers are computed in float64). An elementwise function has a diagonal
Jacobian, ``diag(g'(z))``; :meth:`Activation.jacobian` builds it, ``(n, n)`` for one vector
and ``(batch, n, n)`` for a batch, for teaching and for tests: back-propagation itself only
ever multiplies by ``g'(z)`` elementwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _float(z) -> np.ndarray:
    z = np.asarray(z)
    return z if z.dtype.kind == "f" else z.astype(np.float64)  # kind: cheaper than issubdtype


# --8<-- [start:sigmoid]
def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), without overflow for any z.

    The textbook formula overflows in ``exp(-z)`` for z < -709. Both of its
    forms, 1 / (1 + e^-z) and e^z / (1 + e^z), are exact; each is safe on one
    side of zero, so each side uses its own, through e = exp(-|z|), which
    lies in (0, 1].

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
    """The derivative sigma'(z) = sigma(z) sigma(-z) = sigma(z) (1 - sigma(z)).

    Computed as e / (1 + e)^2 with e = exp(-|z|), which equals
    sigma(z) sigma(-z) and keeps full relative precision in the tails, where
    1 - sigma(z) cancels to 0.

    z: any shape -> same shape.

    >>> sigmoid_prime(np.array([0.0, 40.0, -1000.0]))
    array([2.50000000e-01, 4.24835426e-18, 0.00000000e+00])
    """
    z = _float(z)
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2
# --8<-- [end:sigmoid_prime]


def tanh(z):
    """tanh(z). z: any shape -> same shape.

    >>> tanh(np.array([0.0, 1000.0]))
    array([0., 1.])
    """
    return np.tanh(_float(z))


def tanh_prime(z):
    """tanh'(z) = 1 - tanh(z)^2 (= 4 sigma'(2z)). z: any shape -> same shape.

    >>> tanh_prime(np.array([0.0, 1000.0]))
    array([1., 0.])
    """
    t = np.tanh(_float(z))
    return 1.0 - t * t


def relu(z):
    """max(z, 0). z: any shape -> same shape.

    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    z = _float(z)
    return np.maximum(z, 0.0, dtype=z.dtype)


def relu_prime(z):
    """1 where z > 0, else 0. At z = 0 ReLU has no derivative; 0 is the convention used
    here (and by PyTorch). z: any shape -> same shape.

    >>> relu_prime(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    z = _float(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z, slope: float = 0.01):
    """z for z > 0, slope * z otherwise. z: any shape -> same shape.

    >>> leaky_relu(np.array([-2.0, 3.0]))
    array([-0.02,  3.  ])
    """
    z = _float(z)
    return np.where(z > 0, z, slope * z).astype(z.dtype, copy=False)


def leaky_relu_prime(z, slope: float = 0.01):
    """1 for z > 0, ``slope`` otherwise (0 counts as negative). z: any shape -> same shape.

    >>> leaky_relu_prime(np.array([-2.0, 3.0]))
    array([0.01, 1.  ])
    """
    z = _float(z)
    return np.where(z > 0, 1.0, slope).astype(z.dtype, copy=False)


def identity(z):
    """z itself (the output layer of a regression). z: any shape -> same shape.

    >>> identity(np.array([1.5]))
    array([1.5])
    """
    return _float(z)


def identity_prime(z):
    """1 everywhere. z: any shape -> same shape.

    >>> identity_prime(np.array([1.5, -2.0]))
    array([1., 1.])
    """
    return np.ones_like(_float(z))


@dataclass(frozen=True)
class Activation:
    """An elementwise activation g with its derivative g'.

    ``df`` must return a new array: the backward pass multiplies into it.

    >>> SIGMOID(np.array([0.0])), SIGMOID.df(np.array([0.0]))
    (array([0.5]), array([0.25]))
    """

    name: str
    f: Callable
    df: Callable

    def __call__(self, z):
        return self.f(z)

    def jacobian(self, z):
        """diag(g'(z)): z: (n,) -> (n, n), or z: (batch, n) -> (batch, n, n).

        >>> TANH.jacobian(np.zeros((2, 3))).shape
        (2, 3, 3)
        >>> RELU.jacobian(np.array([-1.0, 2.0]))
        array([[0., 0.],
               [0., 1.]])
        """
        d = self.df(z)
        if d.ndim not in (1, 2):
            raise ValueError(f"jacobian needs z of shape (n,) or (batch, n); got {d.shape}")
        return d[..., :, None] * np.eye(d.shape[-1], dtype=d.dtype)


SIGMOID = Activation("sigmoid", sigmoid, sigmoid_prime)
TANH = Activation("tanh", tanh, tanh_prime)
RELU = Activation("relu", relu, relu_prime)
LEAKY_RELU = Activation("leaky_relu", leaky_relu, leaky_relu_prime)
IDENTITY = Activation("identity", identity, identity_prime)
ACTIVATIONS = {g.name: g for g in (SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY)}
