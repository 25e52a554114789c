"""Stochastic gradient descent with momentum for an :class:`snippets.bp.mlp.MLP`, in place.

The optimiser He et al. (2015) trained with: v <- momentum * v - lr * g; p <- p + v.

All of a network's parameters are moved into one array (the layers keep views of it), so that
a step is three array operations, whatever the depth: a 56-layer network has 112 parameter
arrays, and updating them one by one cost more than the matrix products of a small batch.
"""

from __future__ import annotations

import numpy as np


class SGD:
    """SGD with (heavy-ball) momentum; ``step`` updates the network's arrays in place.

    ``lr`` is one rate, or for a stack of networks (see :meth:`MLP.stack`) one rate per
    network, shape ``net.stack_shape``.

    >>> from snippets.bp.mlp import build_mlp
    >>> net = build_mlp(np.random.default_rng(0), [2, 1])
    >>> b_before = net.layers[0].b.copy()
    >>> opt = SGD(net, lr=0.1, momentum=0.9)
    >>> grads = net.backward(net.forward(np.ones((1, 2))), np.ones((1, 1)))
    >>> opt.step(grads); opt.step(grads)          # the same gradient twice
    >>> net.layers[0].b - b_before                # -0.1, then -(0.9 * 0.1 + 0.1)
    array([-0.29])
    """

    def __init__(self, net, lr, momentum: float = 0.9) -> None:
        self.net, self.momentum = net, momentum
        S = net.stack_shape
        self.names = net.param_names()
        arrays = [net.param(name) for name in self.names]
        # One (*S, total) array; each parameter becomes a view of its columns.
        self.params = np.concatenate([p.reshape(*S, -1) for p in arrays], axis=-1)
        start = 0
        for name, array in zip(self.names, arrays, strict=True):
            size = array[(0,) * len(S)].size if S else array.size
            view = self.params[..., start:start + size].reshape(array.shape)
            setattr(net.layers[int(name[1:]) - 1], name[0], view)
            start += size
        self.velocity = np.zeros_like(self.params)
        lr = np.asarray(lr, dtype=self.params.dtype)
        if lr.shape not in {(), S}:
            raise ValueError(f"lr has shape {lr.shape}, expected () or the stack's {S}")
        self.lr = lr[..., None]

    def step(self, grads) -> None:
        """One update from ``grads`` (a :class:`snippets.bp.mlp.Gradients`)."""
        S = self.net.stack_shape
        g = np.concatenate([grads.param(name).reshape(*S, -1) for name in self.names], axis=-1)
        self.velocity *= self.momentum
        self.velocity -= self.lr * g
        self.params += self.velocity
