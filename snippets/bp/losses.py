"""Losses and their gradients with respect to the network's output.

Shapes: outputs and targets are (batch, k), or (k,) for one example. A loss is the mean over
the batch of a per-example loss, so every gradient carries a factor 1/batch; the gradient has
the output's shape. The squared error also takes a stack of networks' outputs, (*S, batch, k),
and gives one loss per network, shape S.
"""

from __future__ import annotations

import numpy as np

from snippets.bp.shapes import expect


def _pair(y_hat, y):
    y_hat = np.asarray(y_hat, dtype=np.result_type(y_hat, np.float32))
    y = expect("y", y, y_hat.shape)
    batch = y_hat.shape[-2] if y_hat.ndim >= 2 else 1
    return y_hat, y, batch


# --8<-- [start:squared]
def squared_error(y_hat, y, *, half: bool = True) -> float:
    """Mean over the batch of (1/2) ||y_hat - y||^2, or of ||y_hat - y||^2 if not ``half``.

    >>> squared_error(np.array([3.0, 1.0]), np.array([1.0, 1.0]))
    2.0
    >>> squared_error(np.array([3.0, 1.0]), np.array([1.0, 1.0]), half=False)
    4.0
    >>> squared_error(np.zeros((2, 4, 1)), np.ones((2, 4, 1)))   # two networks' outputs
    array([0.5, 0.5])
    """
    y_hat, y, batch = _pair(y_hat, y)
    scale = 0.5 if half else 1.0
    if y_hat.ndim > 2:
        return scale * np.sum((y_hat - y) ** 2, axis=(-2, -1)) / batch
    return float(scale * np.sum((y_hat - y) ** 2) / batch)


def squared_error_grad(y_hat, y, *, half: bool = True):
    """dL/dy_hat = (y_hat - y) / batch with the 1/2, 2 (y_hat - y) / batch without it.

    >>> squared_error_grad(np.array([3.0, 1.0]), np.array([1.0, 1.0]))
    array([2., 0.])
    """
    y_hat, y, batch = _pair(y_hat, y)
    return (y_hat - y) * ((1.0 if half else 2.0) / batch)
# --8<-- [end:squared]


# --8<-- [start:softmax]
def softmax(z):
    """Row-wise softmax, computed as exp(z - max z) so that it never overflows.
    z: (batch, k) or (k,) -> same shape, rows summing to 1.

    >>> softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(z, p) -> float:
    """Mean over the batch of -sum_k p_k log softmax(z)_k, for logits z and target
    probabilities p (one-hot or not). z, p: (batch, k) or (k,).

    >>> round(softmax_cross_entropy(np.array([0.0, 0.0]), np.array([1.0, 0.0])), 6)
    0.693147
    """
    z, p, batch = _pair(z, p)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_q = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.sum(p * log_q) / batch)


def softmax_cross_entropy_grad(z, p):
    """dL/dz = (softmax(z) - p) / batch: the output minus the target, but the output is the
    softmax of the logits, not the logits. Needs rows of p summing to 1.

    >>> softmax_cross_entropy_grad(np.array([0.0, 0.0]), np.array([1.0, 0.0]))
    array([-0.5,  0.5])
    """
    z, p, batch = _pair(z, p)
    return (softmax(z) - p) / batch
# --8<-- [end:softmax]


# --8<-- [start:log_output]
def log_output_cross_entropy(x, p) -> float:
    """Mean over the batch of -sum_k p_k log x_k, with the network output x used directly
    as probabilities (what seed 001 writes as CrsEnt(p . log(x_5))). Needs x > 0.

    >>> round(log_output_cross_entropy(np.array([0.5, 0.25]), np.array([1.0, 0.0])), 6)
    0.693147
    """
    x, p, batch = _pair(x, p)
    if np.any(x <= 0):
        raise ValueError("log_output_cross_entropy needs x > 0 everywhere")
    return float(-np.sum(p * np.log(x)) / batch)


def log_output_cross_entropy_grad(x, p):
    """dL/dx = -p / x / batch.

    >>> log_output_cross_entropy_grad(np.array([0.5, 0.25]), np.array([1.0, 0.0]))
    array([-2., -0.])
    """
    x, p, batch = _pair(x, p)
    return -p / x / batch
# --8<-- [end:log_output]
