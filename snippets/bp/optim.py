"""Stochastic gradient descent with momentum for an :class:`snippets.bp.mlp.MLP`, in place.

The optimiser He et al. (2015) trained with: v <- momentum * v - lr * g; p <- p + v.
"""

from __future__ import annotations

import numpy as np


class SGD:
    """SGD with (heavy-ball) momentum; ``step`` updates the network's arrays in place.

    >>> from snippets.bp.mlp import build_mlp
    >>> net = build_mlp(np.random.default_rng(0), [2, 1])
    >>> b_before = net.layers[0].b.copy()
    >>> opt = SGD(net, lr=0.1, momentum=0.9)
    >>> grads = net.backward(net.forward(np.ones((1, 2))), np.ones((1, 1)))
    >>> opt.step(grads); opt.step(grads)          # the same gradient twice
    >>> net.layers[0].b - b_before                # -0.1, then -(0.9 * 0.1 + 0.1)
    array([-0.29])
    """

    def __init__(self, net, lr: float, momentum: float = 0.9) -> None:
        self.net, self.lr, self.momentum = net, lr, momentum
        self.velocity = {name: np.zeros_like(net.param(name)) for name in net.param_names()}

    def step(self, grads) -> None:
        """One update from ``grads`` (a :class:`snippets.bp.mlp.Gradients`)."""
        for name, v in self.velocity.items():
            v *= self.momentum
            v -= self.lr * grads.param(name)
            self.net.param(name)[...] += v
