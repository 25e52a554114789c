"""A multilayer perceptron with optional residual shortcuts: forward and backward, batched.

Layer l (l = 1..N) computes, for a batch stored as rows,

    z_l = W_l a_{l-1} + b_l  [+ a_j  or  + P_l a_j  if it has a shortcut from a_j, j < l]
    a_l = g_l(z_l)

with a_0 = x. A shortcut adds an earlier activation to the pre-activation, before g_l: the
original ResNet block (ReLU after the addition, He et al. 2015), a block whose last layer is
linear (``x + F(x)``, He et al. 2016), and the networks of the source notes are all of this
form. ``P_l`` is a projection for a shortcut that changes width; without it the shortcut is the
identity.

Lists indexed by layer are padded so that the index is the layer's number: ``fwd.z[l]`` is
z_l, ``fwd.a[0]`` is x, ``grads.W[l]`` is dL/dW_l, ``grads.a[0]`` is dL/dx.

A *stack* of networks of one architecture (one per seed, say) is one MLP whose parameters
carry leading axes S: W_l: (*S, n_l, n_{l-1}), b_l: (*S, n_l). Its batches are (*S, batch, n)
(or one (batch, n) shared by all), and every step above is the same array expression, batched
over S by NumPy's matmul: independent runs in one computation instead of a Python loop over
networks (:meth:`MLP.stack`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from snippets.bp.activations import IDENTITY, RELU, Activation
from snippets.bp.init import init_weights
from snippets.bp.shapes import expect


@dataclass
class Layer:
    """z = W a_prev + b [+ a_skip or + P a_skip]; a = g(z).

    W: (*S, n_out, n_in), b: (*S, n_out), P: (*S, n_out, n_skip) or None (identity
    shortcut); S is () for one network.
    """

    W: np.ndarray
    b: np.ndarray
    g: Activation = RELU
    skip: int | None = None
    P: np.ndarray | None = None


@dataclass
class Forward:
    """What the backward pass needs: z[1..N] (z[0] is None) and a[0..N]."""

    z: list
    a: list


@dataclass
class Gradients:
    """dL/dW_l, dL/db_l, dL/dP_l (None without projection), delta_l = dL/dz_l for
    l = 1..N (index 0 is None), and dL/da_l for l = 0..N."""

    W: list
    b: list
    P: list
    delta: list
    a: list

    def param(self, name: str) -> np.ndarray:
        """dL/d(name), named as :meth:`MLP.param` names parameters ("W3": dL/dW_3)."""
        return getattr(self, name[0])[int(name[1:])]


def _add(grads: list, i: int, value) -> None:
    # Not in place: the first contribution may be a delta that is also kept in Gradients.
    grads[i] = value if grads[i] is None else grads[i] + value


class MLP:
    """A network of :class:`Layer` s, validated once: a width mismatch raises ValueError
    naming the layer, the shape it got and the shape it expected.

    >>> rng = np.random.default_rng(0)
    >>> net = build_mlp(rng, [3, 4, 4, 2], skip_every=2)
    >>> fwd = net.forward(rng.normal(size=(5, 3)))
    >>> grads = net.backward(fwd, np.ones((5, 2)))
    >>> [g.shape for g in grads.W[1:]], grads.a[0].shape
    ([(4, 3), (4, 4), (2, 4)], (5, 3))
    """

    def __init__(self, layers: list[Layer]) -> None:
        S = np.shape(layers[0].W)[:-2]
        widths = [np.shape(layers[0].W)[-1]]
        for l, layer in enumerate(layers, start=1):
            n_out = np.shape(layer.W)[-2]
            expect(f"W_{l}", layer.W, (*S, n_out, widths[l - 1]))
            expect(f"b_{l}", layer.b, (*S, n_out))
            if layer.skip is not None:
                if not 0 <= layer.skip < l:
                    raise ValueError(f"layer {l}: a shortcut must come from a_j with j < {l}; "
                                     f"got j = {layer.skip}")
                n_skip = widths[layer.skip]
                if layer.P is None and n_skip != n_out:
                    raise ValueError(f"layer {l}: an identity shortcut needs a_{layer.skip} "
                                     f"of width {n_out}; got width {n_skip} (add a projection P)")
                if layer.P is not None:
                    expect(f"P_{l}", layer.P, (*S, n_out, n_skip))
            widths.append(n_out)
        self.layers = list(layers)
        self.widths = widths
        self.stack_shape = S

    @classmethod
    def stack(cls, nets: list[MLP]) -> MLP:
        """One network whose parameters are those of ``nets`` stacked on a new first axis:
        forward and backward then run all of them at once. The networks must share widths,
        activations and shortcuts.

        >>> nets = [build_mlp(np.random.default_rng(seed), [3, 4, 2]) for seed in range(5)]
        >>> both = MLP.stack(nets)
        >>> both.stack_shape, both.layers[0].W.shape
        ((5,), (5, 4, 3))
        >>> x = np.ones((7, 3))                        # one batch for all five
        >>> y = both.forward(x).a[-1]
        >>> y.shape, bool(np.allclose(y[3], nets[3].forward(x).a[-1]))
        ((5, 7, 2), True)
        """
        first = nets[0]
        for i, net in enumerate(nets[1:], start=1):
            same = net.widths == first.widths and all(
                (a.g, a.skip, a.P is None) == (b.g, b.skip, b.P is None)
                for a, b in zip(net.layers, first.layers, strict=True))
            if not same:
                raise ValueError(f"network {i} differs from network 0 in widths, activations "
                                 "or shortcuts; only networks of one architecture stack")
        layers = []
        for l, layer in enumerate(first.layers):
            arrays = {k: np.stack([getattr(net.layers[l], k) for net in nets])
                      for k in ("W", "b") + (("P",) if layer.P is not None else ())}
            layers.append(replace(layer, **arrays))
        return cls(layers)

    # --8<-- [start:forward]
    def forward(self, x) -> Forward:
        """x: (batch, n_0) -> Forward with a[N]: (batch, n_N), the output. A stack takes
        x: (*S, batch, n_0) or a shared (batch, n_0), and gives a[N]: (*S, batch, n_N).

        >>> net = build_mlp(np.random.default_rng(0), [3, 5, 2])
        >>> fwd = net.forward(np.ones((4, 3)))
        >>> [a.shape for a in fwd.a], fwd.z[0] is None
        ([(4, 3), (4, 5), (4, 2)], True)
        """
        S = self.stack_shape
        x = np.asarray(x)
        a = [expect("x", x, (*S, "batch", self.widths[0]) if x.ndim > 2 or not S
                    else ("batch", self.widths[0]))]
        z = [None]
        for l, layer in enumerate(self.layers, start=1):
            z_l = a[l - 1] @ layer.W.mT                     # rows: z = W a for each example
            z_l += layer.b[..., None, :]  # in place: one array per layer, not two
            if layer.skip is not None:
                a_skip = a[layer.skip]
                z_l += a_skip if layer.P is None else a_skip @ layer.P.mT
            z.append(z_l)
            a.append(layer.g(z_l))
        return Forward(z=z, a=a)
    # --8<-- [end:forward]

    # --8<-- [start:backward]
    def backward(self, fwd: Forward, grad_out) -> Gradients:
        """Back-propagate grad_out = dL/da_N: (batch, n_N) through every layer (a stack:
        (*S, batch, n_N); each network's gradients are those of its own loss).

        >>> net = build_mlp(np.random.default_rng(0), [3, 5, 2])
        >>> grads = net.backward(net.forward(np.ones((4, 3))), np.ones((4, 2)))
        >>> grads.W[2].shape, grads.b[1].shape, grads.delta[1].shape, grads.a[0].shape
        ((2, 5), (5,), (4, 5), (4, 3))
        """
        N = len(self.layers)
        expect("grad_out", grad_out, fwd.a[N].shape)
        grad_a = [None] * N + [grad_out]
        # Sums over the batch as products with a row of ones: for small batches NumPy's
        # sum over the middle axis of a stack takes four times as long.
        ones = np.ones(grad_out.shape[-2], dtype=grad_out.dtype)
        grad_W, grad_b, grad_P, deltas = ([None] * (N + 1) for _ in range(4))
        for l in range(N, 0, -1):  # grad_a[l] is complete: later layers are done
            layer = self.layers[l - 1]
            delta = layer.g.df(fwd.z[l])                    # g <- g * g'(z), in the
            delta *= grad_a[l]                              # fresh array g' returns
            grad_W[l] = delta.mT @ fwd.a[l - 1]             # sum_i delta_i a_i^T
            grad_b[l] = ones @ delta                         # sum_i delta_i
            _add(grad_a, l - 1, delta @ layer.W)            # g <- W^T g
            if layer.skip is not None:                      # the shortcut's own path
                if layer.P is None:
                    _add(grad_a, layer.skip, delta)
                else:
                    grad_P[l] = delta.mT @ fwd.a[layer.skip]
                    _add(grad_a, layer.skip, delta @ layer.P)
            deltas[l] = delta
        return Gradients(W=grad_W, b=grad_b, P=grad_P, delta=deltas, a=grad_a)
    # --8<-- [end:backward]

    def with_param(self, name: str, value) -> MLP:
        """A copy with one parameter replaced, for finite differences: name is "W3", "b1",
        "P4" (layer numbers from 1).

        >>> net = build_mlp(np.random.default_rng(0), [2, 2])
        >>> net.with_param("b1", np.ones(2)).layers[0].b
        array([1., 1.])
        """
        kind, l = name[0], int(name[1:])
        layers = list(self.layers)
        layers[l - 1] = replace(layers[l - 1], **{kind: value})
        return MLP(layers)

    def tail(self, j: int) -> MLP:
        """The network from a_j to a_N: its last N - j layers, shortcut indices shifted.

        >>> net = build_mlp(np.random.default_rng(0), [3, 3, 3, 3, 3], skip_every=2)
        >>> [layer.skip for layer in net.tail(2).layers]
        [None, 0]
        >>> net.tail(3)
        Traceback (most recent call last):
        ...
        ValueError: layer 4 has a shortcut from a_2, before a_3: the tail needs it
        """
        layers = []
        for l, layer in enumerate(self.layers[j:], start=j + 1):
            if layer.skip is not None:
                if layer.skip < j:
                    raise ValueError(f"layer {l} has a shortcut from a_{layer.skip}, "
                                     f"before a_{j}: the tail needs it")
                layer = replace(layer, skip=layer.skip - j)
            layers.append(layer)
        return MLP(layers)

    def param_names(self) -> list[str]:
        """["W1", "b1", ..., "P4", ...]: every parameter, in layer order.

        >>> build_mlp(np.random.default_rng(0), [2, 3, 4, 3], skip_every=2).param_names()
        ['W1', 'b1', 'W2', 'b2', 'P2', 'W3', 'b3']
        """
        names = []
        for l, layer in enumerate(self.layers, start=1):
            names += [f"W{l}", f"b{l}"] + ([f"P{l}"] if layer.P is not None else [])
        return names

    def param(self, name: str) -> np.ndarray:
        """The parameter called ``name`` ("W3": W_3 of shape (n_3, n_2)).

        >>> build_mlp(np.random.default_rng(0), [2, 3, 4]).param("W2").shape
        (4, 3)
        """
        return getattr(self.layers[int(name[1:]) - 1], name[0])


def build_mlp(rng: np.random.Generator, widths: list[int], g: Activation = RELU, *,
              init: str = "he", gain: float = 1.0, out_g: Activation = IDENTITY,
              skip_every: int | None = None, dtype=np.float64) -> MLP:
    """An MLP with widths [n_0, ..., n_N], hidden activation g, output activation out_g and
    zero biases. With ``skip_every = k``, layer l gets a shortcut from a_{l-k} whenever k
    divides l: k = 2 gives ResNet's two-layer blocks. A shortcut between different widths gets
    a Glorot-initialised projection.

    >>> net = build_mlp(np.random.default_rng(1), [4, 4, 4, 4, 2], skip_every=2)
    >>> [(layer.skip, layer.P is None) for layer in net.layers]
    [(None, True), (0, True), (None, True), (2, False)]
    """
    layers = []
    N = len(widths) - 1
    for l in range(1, N + 1):
        W = init_weights(rng, widths[l], widths[l - 1], init, gain=gain, dtype=dtype)
        skip = l - skip_every if skip_every and l % skip_every == 0 else None
        P = None
        if skip is not None and widths[skip] != widths[l]:
            P = init_weights(rng, widths[l], widths[skip], "glorot", dtype=dtype)
        layers.append(Layer(W, np.zeros(widths[l], dtype=dtype), out_g if l == N else g, skip, P))
    return MLP(layers)


def build_residual_mlp(rng: np.random.Generator, width: int, blocks: int,
                       g: Activation = RELU, *, init: str = "he", branch_scale: float = 1.0,
                       zero_last: bool = False, shortcut: float = 1.0,
                       n_in: int | None = None, n_out: int | None = None,
                       dtype=np.float64) -> MLP:
    """``blocks`` residual blocks x_{k+1} = shortcut * x_k + F_k(x_k), each branch
    F_k(x) = W_b g(W_a x + b_a) + b_b with both layers of width ``width``.

    As an MLP: layer 2k-1 is W_a with activation g; layer 2k is W_b, linear, with a
    shortcut from a_{2k-2} (x_k), the identity or ``shortcut`` times the identity.
    ``branch_scale`` multiplies every W_b (1/sqrt(blocks) keeps the sum of branches
    bounded); ``zero_last`` starts every W_b at 0, so each block starts as the identity.
    ``n_in`` adds a first layer from n_in inputs to ``width`` (activation g), ``n_out`` a
    last, linear layer to n_out outputs.

    >>> net = build_residual_mlp(np.random.default_rng(0), 4, 3, zero_last=True)
    >>> x = np.random.default_rng(1).normal(size=(2, 4))
    >>> len(net.layers), bool(np.allclose(net.forward(x).a[-1], x))
    (6, True)
    """
    layers = []
    if n_in is not None:
        layers.append(Layer(init_weights(rng, width, n_in, init, dtype=dtype),
                            np.zeros(width, dtype=dtype), g))
    first = len(layers)  # index of the activation that enters the first block
    for k in range(blocks):
        W_a = init_weights(rng, width, width, init, dtype=dtype)
        W_b = init_weights(rng, width, width, init, dtype=dtype) * branch_scale
        if zero_last:
            W_b = np.zeros_like(W_b)
        P = None if shortcut == 1.0 else shortcut * np.eye(width, dtype=dtype)
        zeros = np.zeros(width, dtype=dtype)
        layers += [Layer(W_a, zeros, g),
                   Layer(W_b, zeros.copy(), IDENTITY, skip=first + 2 * k, P=P)]
    if n_out is not None:
        layers.append(Layer(init_weights(rng, n_out, width, "glorot", dtype=dtype),
                            np.zeros(n_out, dtype=dtype), IDENTITY))
    return MLP(layers)
