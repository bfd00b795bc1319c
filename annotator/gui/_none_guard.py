"""Guard against a PySide6 build that returns ``None``/``True``/``False`` without a reference.

Some PySide6 wheels (seen with 6.12.0, ``cp310-abi3``, on CPython 3.11) return ``Py_None``,
``Py_True`` and ``Py_False`` without incrementing their reference counts, as is only safe
where these objects are immortal (CPython 3.12+). On 3.11 each such call takes one reference;
after a few thousand calls the interpreter aborts ("none_dealloc: deallocating None",
"bool_dealloc: deallocating True or False").

``apply()`` detects the leak with a few calls and, only if it is there, gives the three
singletons a very large reference count: in effect the immortality the wheel assumes.
"""

from __future__ import annotations

import ctypes
import sys

_PINNED = 1 << 40  # far more than any session can leak (at most one per Qt call)


def leaks_singletons() -> bool:
    """True when PySide6 calls returning None or a bool drop a reference to it."""
    from PySide6 import QtCore

    point = QtCore.QPointF()
    before = (sys.getrefcount(None), sys.getrefcount(True))
    for _ in range(16):
        point.setX(1.0)  # returns None
        point.isNull()  # returns False
        QtCore.QPointF().isNull()  # returns True
    after = (sys.getrefcount(None), sys.getrefcount(True))
    return after[0] < before[0] - 8 or after[1] < before[1] - 8


def apply() -> bool:
    """Pin the singletons if this PySide6 build needs it; True when it did."""
    if sys.version_info >= (3, 12) or not leaks_singletons():
        return False
    for obj in (None, True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt: PyObject's first field
        refcnt.value += _PINNED
    return True
