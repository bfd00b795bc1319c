"""``release_free_memory`` trims the C heap where glibc offers it and is a no-op elsewhere."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from annotator.core import memory


def test_release_is_callable_after_a_large_free() -> None:
    blocks = [np.ones(50_000) for _ in range(200)]  # mid-sized buffers, freed into the heap
    del blocks
    released = memory.release_free_memory()
    assert isinstance(released, bool)
    if not sys.platform.startswith("linux"):
        assert released is False


def test_it_is_a_no_op_without_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    assert memory.release_free_memory() is False


def test_a_c_library_without_malloc_trim_is_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoTrim:  # musl's libc: loads, but has no such symbol
        def __init__(self, _name: str) -> None:
            pass

        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(memory.ctypes, "CDLL", NoTrim)
    monkeypatch.setattr(memory.sys, "platform", "linux")
    try:
        assert memory._malloc_trim() is None
        assert memory.release_free_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
