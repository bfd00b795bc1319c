"""A bounded, thread-safe least-recently-used map from frame index to a decoded frame.

The reader keeps the whole stretch it decoded on the way to a requested frame (the GOP up to
it), so stepping backwards is served from memory instead of re-decoding from the key frame.
Memory is bounded by the entry count the user chose times the size of one frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class FrameCache(Generic[V]):
    """LRU cache of at most ``capacity`` frames; ``capacity`` 0 disables caching."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("cache capacity must be ≥ 0")
        self._capacity = capacity
        self._items: OrderedDict[int, V] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._capacity

    def get(self, index: int) -> V | None:
        """The frame (marked as most recently used), or ``None``."""
        with self._lock:
            value = self._items.get(index)
            if value is not None:
                self._items.move_to_end(index)
            return value

    def peek(self, index: int) -> V | None:
        """The frame without changing its age (for replacing a lazily converted entry)."""
        with self._lock:
            return self._items.get(index)

    def put(self, index: int, value: V) -> None:
        if self._capacity == 0:
            return
        with self._lock:
            self._items[index] = value
            self._items.move_to_end(index)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def replace(self, index: int, value: V) -> None:
        """Swap an entry's value in place, keeping its age; no-op if it was evicted."""
        with self._lock:
            if index in self._items:
                self._items[index] = value

    def __contains__(self, index: object) -> bool:
        with self._lock:
            return index in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def indices(self) -> list[int]:
        with self._lock:
            return sorted(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
