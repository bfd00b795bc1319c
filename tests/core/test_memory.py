"""The C heap's tunings: ``release_free_memory`` trims the heap and ``keep_frame_memory``
keeps frame-sized blocks where glibc offers them; both are no-ops elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Iterator

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


@pytest.mark.usefixtures("fresh_caches")
def test_a_c_library_without_malloc_trim_is_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoTrim:  # musl's libc: loads, but has no such symbol
        def __init__(self, _name: str) -> None:
            pass

        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    monkeypatch.setattr(memory.ctypes, "CDLL", NoTrim)
    monkeypatch.setattr(memory.sys, "platform", "linux")
    assert memory._malloc_trim() is None
    assert memory.release_free_memory() is False
    assert memory.keep_frame_memory() is False


@pytest.mark.usefixtures("fresh_caches")
def test_nothing_is_tuned_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory._libc() is None
    assert memory.keep_frame_memory() is False
    assert memory.release_free_memory() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_frame_blocks_are_kept_on_glibc() -> None:
    # both settings taken (mallopt returns 1), once per process: the reader calls it per video
    assert memory.keep_frame_memory() is True
    assert memory.keep_frame_memory() is True


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """The C library and its functions looked up afresh, before the test and after it."""
    caches = (memory._libc, memory._malloc_trim, memory.keep_frame_memory)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()
