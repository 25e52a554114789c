"""The dense layer z = W a + b: forward, backward and Jacobians.

Layout, once for the whole site: in the math, vectors are columns and a layer computes
z = W a + b with W of shape (n_out, n_in). In code a batch is stored as rows, a: (batch, n_in),
and each row obeys the same equation, z = a @ W.T + b. A single example may also be passed
as a 1-d array a: (n_in,).
"""

from __future__ import annotations

import numpy as np

from snippets.bp.shapes import expect


# --8<-- [start:dense]
def dense(W, b, a):
    """z = W a + b for every example. W: (n_out, n_in), b: (n_out,),
    a: (batch, n_in) -> z: (batch, n_out); a: (n_in,) -> z: (n_out,).

    >>> dense(np.eye(2), np.array([1.0, 0.0]), np.array([[2.0, 3.0]]))
    array([[3., 3.]])
    """
    n_out, n_in = W.shape
    expect("b", b, (n_out,))
    expect("a", a, ("batch", n_in) if np.ndim(a) == 2 else (n_in,))
    return a @ W.T + b


def dense_backward(W, a, delta):
    """Gradients of a loss through z = W a + b, given delta = dL/dz.

    W: (n_out, n_in), a: (batch, n_in), delta: (batch, n_out) ->
    grad_W: (n_out, n_in) = sum over the batch of the outer products delta_i a_i^T,
    grad_b: (n_out,) = sum of delta_i, grad_a: (batch, n_in), whose rows are W^T delta_i.
    1-d a and delta (one example) give 1-d grad_a.

    >>> W = np.array([[1.0, 2.0]])
    >>> grad_W, grad_b, grad_a = dense_backward(W, np.array([3.0, 4.0]), np.array([0.5]))
    >>> grad_W, grad_b, grad_a
    (array([[1.5, 2. ]]), array([0.5]), array([0.5, 1. ]))
    """
    n_out, n_in = W.shape
    single = np.ndim(a) == 1
    a2 = expect("a", np.atleast_2d(a), ("batch", n_in))
    delta2 = expect("delta", np.atleast_2d(delta), (a2.shape[0], n_out))
    grad_W = delta2.T @ a2
    grad_b = delta2.sum(axis=0)
    grad_a = delta2 @ W
    return grad_W, grad_b, grad_a[0] if single else grad_a
# --8<-- [end:dense]


def dense_jacobian_input(W):
    """dz/da = W: (n_out, n_in), the same for every input (numerator layout: rows are
    outputs z_i, columns inputs a_j, entry dz_i/da_j = W_ij).

    >>> dense_jacobian_input(np.arange(6.0).reshape(2, 3)).shape
    (2, 3)
    """
    return np.asarray(W)


def dense_jacobian_weights(a, n_out: int):
    """dz/dW as a 3-tensor T[i, j, k] = dz_i / dW_jk = [i == j] a_k.

    a: (n_in,) -> T: (n_out, n_out, n_in). Contracting it with an upstream row vector
    g: (n_out,) over i gives g_j a_k, the outer product g a^T: that is why weight gradients
    are outer products and why no framework stores T.

    >>> T = dense_jacobian_weights(np.array([1.0, 2.0]), 3)
    >>> T.shape, np.einsum("i,ijk->jk", np.array([1.0, 0.0, -1.0]), T).tolist()
    ((3, 3, 2), [[1.0, 2.0], [0.0, 0.0], [-1.0, -2.0]])
    """
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"a has shape {a.shape}, expected (n_in,)")
    return np.eye(n_out, dtype=a.dtype)[:, :, None] * a[None, None, :]
