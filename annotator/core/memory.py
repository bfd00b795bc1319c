"""The C heap's two tunings, in one place: frame-sized blocks kept for reuse while frames
stream, and freed memory handed back to the operating system after a large piece of work.

Both are glibc calls (``mallopt``, ``malloc_trim``) reached through one loader; elsewhere
(macOS, Windows, musl) there are no such calls and both functions do nothing.

- :func:`keep_frame_memory` (called by every video reader): by default glibc maps each block
  above 128 KiB fresh from the kernel and unmaps it when freed, so a consumer that holds the
  current frame while the next is made (every viewer does) pays page faults on every frame:
  measured 4 ms per 1080p frame, half the cost of decoding it. Raising the mmap threshold and
  the trim threshold keeps such blocks in the heap for the next frame.
- :func:`release_free_memory` (called after every background task, ``gui.workers``): glibc
  keeps freed memory inside its arenas for reuse, so after a task that held a long video's
  arrays the process stays that much larger until later allocations reuse it.
  ``malloc_trim(0)`` returns the free pages of every arena to the kernel, those of the frame
  blocks kept above included; the blocks stay in glibc's free lists, so each pays its page
  faults once more when a frame reuses it (about 4 ms at 1080p), not on every frame.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
FRAME_BLOCK = 32 << 20  # bytes: the largest block kept in the heap (a 4K RGB frame)
KEPT_FREE = 256 << 20  # bytes of free heap glibc keeps before trimming on its own


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, or None off Linux or where it cannot be loaded."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _function(name: str, argtypes: list[type], restype: type) -> Callable[..., int] | None:
    """A function of the C library by name, typed, or None where the library has none."""
    libc = _libc()
    if libc is None:
        return None
    try:
        function = getattr(libc, name)
    except AttributeError:  # musl: loads, but has no such symbol
        return None
    function.argtypes = argtypes
    function.restype = restype
    return function  # type: ignore[no-any-return]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    return _function("malloc_trim", [ctypes.c_size_t], ctypes.c_int)


@functools.cache
def keep_frame_memory() -> bool:
    """Let glibc reuse freed frame-sized blocks instead of returning them to the system.
    Process-wide and done once; True where the C library took both settings."""
    mallopt = _function("mallopt", [ctypes.c_int, ctypes.c_int], ctypes.c_int)
    if mallopt is None:
        return False
    kept = mallopt(M_MMAP_THRESHOLD, FRAME_BLOCK)
    trimmed = mallopt(M_TRIM_THRESHOLD, KEPT_FREE)
    return bool(kept and trimmed)


def release_free_memory() -> bool:
    """Return the C heap's free pages to the OS; True when some were released (glibc only;
    elsewhere a no-op returning False). Safe to call from any thread."""
    trim = _malloc_trim()
    if trim is None:
        return False
    return bool(trim(0))
