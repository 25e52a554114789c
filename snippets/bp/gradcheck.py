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
        f_plus = np.asarray(f(flat.reshape(x.shape)), dtype=np.float64)
        flat[j] = saved - h
        f_minus = np.asarray(f(flat.reshape(x.shape)), dtype=np.float64)
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


def assert_close(analytic, numeric, *, atol: float, rtol: float = 0.0, what: str = "") -> float:
    """Assert equal shapes and ``|analytic - numeric| <= atol + rtol |numeric|`` everywhere.

    Returns the largest absolute difference, for printing. The message names ``what``, the
    shapes, and where the worst entry is.

    >>> assert_close(np.ones(3), np.ones(3) + 1e-12, atol=1e-9, what="d/dx")
    1.000088900582341e-12
    """
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    if analytic.shape != numeric.shape:
        raise AssertionError(
            f"{what}: analytic result has shape {analytic.shape}, "
            f"finite differences give {numeric.shape}"
        )
    diff = np.abs(analytic - numeric)
    worst = float(diff.max(initial=0.0))
    bound = atol + rtol * np.abs(numeric)
    if np.any(diff > bound) or not np.all(np.isfinite(analytic)):
        where = np.unravel_index(np.argmax(diff - bound), diff.shape) if diff.size else ()
        raise AssertionError(
            f"{what}: max |analytic - numeric| = {worst:.3e} exceeds atol={atol:g}, "
            f"rtol={rtol:g} (worst at index {tuple(int(i) for i in where)}, shape {diff.shape})"
        )
    return worst
