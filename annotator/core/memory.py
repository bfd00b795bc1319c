"""Hand freed heap memory back to the operating system after a large piece of work.

glibc's ``malloc`` keeps memory that was freed inside its arenas for reuse; after a
background task that held a long video's arrays (NumPy buffers above the mmap threshold are
unmapped at once, but the many mid-sized ones a task allocates and frees are not) the process
stays that much larger until the next allocations reuse it. ``malloc_trim(0)`` returns the
free pages of every arena to the kernel. Elsewhere (macOS, Windows, musl) there is no such
call and ``release_free_memory`` does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the OS; True when some were released (glibc only;
    elsewhere a no-op returning False). Safe to call from any thread."""
    trim = _malloc_trim()
    if trim is None:
        return False
    return bool(trim(0))
