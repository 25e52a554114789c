"""pytest plugin (loaded with ``-p tests.doctest_env``) for the doctests in snippets/ and docs/.

NumPy 2 prints scalars as ``np.float64(0.5)``; doctests are written for readers, in the
short form, so they run with NumPy's 1.25 print style. A conftest.py could not do this: the
doctests live outside tests/.
"""

import numpy as np
import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(autouse=True)
def _short_numpy_reprs(request):
    if not isinstance(request.node, DoctestItem):
        yield
        return
    with np.printoptions(legacy="1.25"):
        yield
