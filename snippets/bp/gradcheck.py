"""Central finite differences in float64: the independent check of every derivative on the site.

The central difference (f(x + h) - f(x - h)) / 2h has a truncation error of about
h^2 |f'''| / 6 and a rounding error of about eps |f| / h (eps = 2.2e-16). For quantities of
order one, h = 1e-6 balances the two near 1e-10; tolerances in the tests are stated against
that budget.
"""

from __future__ import annotations

import numpy as np

DEFAULT_STEP = 1e-6


def _as_float64(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError(f"finite differences need float64 input; got {x.dtype}")
    return x


def numerical_jacobian(f, x, h: float = DEFAULT_STEP) -> np.ndarray:
    """J[i..., j...] = d f(x)[i...] / d x[j...], by central differences.

    x: float64 array of any shape; f(x): array of any shape.
    Returns shape ``f(x).shape + x.shape`` (numerator layout: outputs first).

    >>> J = numerical_jacobian(lambda v: np.array([v[0] * v[1], v[0] ** 2]), np.array([2.0, 3.0]))
    >>> J.shape
    (2, 2)
    >>> np.allclose(J, [[3.0, 2.0], [4.0, 0.0]], atol=1e-8)
    True
    """
    x = _as_float64(x)
    out_shape = np.shape(f(x))
    J = np.empty((*out_shape, x.size))
    flat = x.reshape(-1).copy()
    for j in range(x.size):
        saved = flat[j]
        flat[j] = saved + h
        # Copies: f may return (a view of) its input, which the next step perturbs.
        f_plus = np.array(f(flat.reshape(x.shape)), dtype=np.float64)
        flat[j] = saved - h
        f_minus = np.array(f(flat.reshape(x.shape)), dtype=np.float64)
        flat[j] = saved
        J[..., j] = (f_plus - f_minus) / (2 * h)
    return J.reshape(tuple(out_shape) + x.shape)


def numerical_gradient(f, x, h: float = DEFAULT_STEP) -> np.ndarray:
    """Gradient of a scalar function, shaped like ``x``: g[j...] = d f(x) / d x[j...].

    >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), np.array([1.0, -2.0])).round(6)
    array([ 2., -4.])
    """
    value = f(_as_float64(x))
    if np.ndim(value) != 0:
        raise ValueError(f"numerical_gradient needs a scalar function; f(x) has shape "
                         f"{np.shape(value)}, expected ()")
    return numerical_jacobian(f, x, h)


def max_abs_diff(a, b) -> float:
    """max |a - b| over all entries, for printing how far two computations agree; a and b
    must have the same shape.

    >>> max_abs_diff(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
    0.5
    >>> max_abs_diff(np.ones(3), np.ones((3, 1)))
    Traceback (most recent call last):
    ...
    ValueError: max_abs_diff of shapes (3,) and (3, 1): they must be equal
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"max_abs_diff of shapes {a.shape} and {b.shape}: they must be equal")
    return float(np.max(np.abs(a - b)))


def assert_close(analytic, numeric, *, atol: float, rtol: float = 0.0, what: str = "") -> float:
    """Assert equal shapes and ``|analytic - numeric| <= atol + rtol |numeric|`` everywhere.

    Returns the largest absolute difference, for printing. The message names ``what``, the
    shapes, and where the worst entry is.

    >>> assert_close(np.ones(3), np.ones(3) + 1e-12, atol=1e-9, what="d/dx")
    1.000088900582341e-12
    """
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    named = f"{what}: " if what else ""
    if analytic.shape != numeric.shape:
        raise AssertionError(
            f"{named}analytic result has shape {analytic.shape}, "
            f"finite differences give {numeric.shape}"
        )
    diff = np.abs(analytic - numeric)
    worst = float(diff.max(initial=0.0))
    bound = atol + rtol * np.abs(numeric)
    # NaN compares False with everything: without this a check against NaN would pass.
    finite = np.all(np.isfinite(analytic)) and np.all(np.isfinite(numeric))
    if np.any(diff > bound) or not finite:
        where = np.unravel_index(np.argmax(diff - bound), diff.shape) if diff.size else ()
        raise AssertionError(
            f"{named}max |analytic - numeric| = {worst:.3e} exceeds atol={atol:g}, "
            f"rtol={rtol:g} (worst at index {tuple(int(i) for i in where)}, shape {diff.shape})"
        )
    return worst


def check_network(net, x, loss, loss_grad, *, atol: float = 1e-8, rtol: float = 1e-6,
                  h: float = DEFAULT_STEP) -> dict[str, float]:
    """Compare every gradient of ``net`` (an :class:`snippets.bp.mlp.MLP`) with central
    differences of ``loss(net.forward(x).a[-1])``; return {name: max |difference|}.

    ``loss(y_hat)`` is a scalar and ``loss_grad(y_hat)`` its gradient. Checks dL/dx (as
    "x") and every parameter; raises AssertionError on the first that is off or has the
    wrong shape. Needs float64.

    >>> from snippets.bp.mlp import build_mlp
    >>> from snippets.bp.activations import TANH
    >>> rng = np.random.default_rng(0)
    >>> net = build_mlp(rng, [3, 4, 2], TANH)
    >>> x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    >>> diffs = check_network(net, x, lambda y_hat: 0.5 * float(np.sum((y_hat - y) ** 2)),
    ...                       lambda y_hat: y_hat - y)
    >>> sorted(diffs), max(diffs.values()) < 1e-8
    (['W1', 'W2', 'b1', 'b2', 'x'], True)
    """
    fwd = net.forward(x)
    grads = net.backward(fwd, loss_grad(fwd.a[-1]))
    diffs = {}
    numeric = numerical_gradient(lambda x_: loss(net.forward(x_).a[-1]), x, h)
    diffs["x"] = assert_close(grads.a[0], numeric, atol=atol, rtol=rtol, what="dL/dx")
    for name in net.param_names():
        analytic = grads.param(name)
        numeric = numerical_gradient(
            lambda p, name=name: loss(net.with_param(name, p).forward(x).a[-1]),
            net.param(name), h)
        diffs[name] = assert_close(analytic, numeric, atol=atol, rtol=rtol, what=f"dL/d{name}")
    return diffs
