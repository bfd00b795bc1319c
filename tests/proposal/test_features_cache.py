"""A cached per-frame array that is damaged is reported missing, so its caller rebuilds it
(``features.load_cached``): a cache of NaN made every proposal run fail, retries too."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.proposal.features import load_cached, save_cached


def test_a_cache_of_finite_values_loads_and_a_damaged_one_does_not(tmp_path: Path) -> None:
    good = tmp_path / "good.npy"
    values = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    save_cached(good, values)
    loaded = load_cached(good, 4)
    assert loaded is not None and np.array_equal(loaded, values.astype(np.float16))
    assert load_cached(good, 2) is None  # another layout
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((300, 3, 4, 5), np.nan, np.float16))
    assert load_cached(nan, 4) is None and load_cached(nan, 4, mmap=True) is None
    text = tmp_path / "text.npy"
    np.save(text, np.array([["a", "b"]]))
    assert load_cached(text, 2) is None
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"\x93NUMPY" + bytes(200))
    assert load_cached(garbage, 4) is None
