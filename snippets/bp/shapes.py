"""Shape checks that say what they got and what they expected."""

from __future__ import annotations

import numpy as np


def expect(name: str, array, shape: tuple) -> np.ndarray:
    """Return ``array`` as an ndarray if its shape fits ``shape``, else raise ValueError.

    Entries of ``shape`` are sizes (int) or names (str) of sizes that may be anything, such
    as ``"batch"``.

    >>> expect("a", np.zeros((4, 3)), ("batch", 3)).shape
    (4, 3)
    >>> expect("a", np.zeros((4, 2)), ("batch", 3))
    Traceback (most recent call last):
    ...
    ValueError: a has shape (4, 2), expected (batch, 3)
    """
    array = np.asarray(array)
    fits = array.ndim == len(shape) and all(
        isinstance(want, str) or got == want for got, want in zip(array.shape, shape, strict=True)
    )
    if not fits:
        wanted = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
        raise ValueError(f"{name} has shape {array.shape}, expected ({wanted})")
    return array
