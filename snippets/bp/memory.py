"""Keep freed memory in the process, so that loops of large arrays do not page-fault.

NumPy takes every array of 128 KiB or more from glibc's malloc, which returns freed memory to
the operating system at once (mmap'd blocks, and the trimmed top of the heap). A loop that
makes and drops the same arrays, like forward + backward through a deep network, then
page-faults all of them back in on every pass: about 5,000 faults per pass of the benchmark
network, half of its time. Raising glibc's thresholds makes malloc keep and reuse that memory.

The site build and the benchmark call :func:`keep_freed_memory`; importing ``snippets.bp``
does not, because changing the allocator of a reader's Python is not a library's business.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_MAX_THRESHOLD = 32 * 1024 * 1024  # glibc's ceiling on 64-bit systems
_TRIM = 1024 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tell glibc to serve arrays up to 32 MiB from the heap and to keep up to 1 GiB of freed
    heap; return whether it took effect (False off glibc: macOS, Windows, musl)."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM))
