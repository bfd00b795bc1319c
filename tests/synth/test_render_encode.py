"""The renderer's own RGB to YUV 4:2:0 conversion (deterministic, unlike FFmpeg's here)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from annotator.synth.render_encode import rgb_to_yuv420p


@pytest.mark.parametrize(("h", "w"), [(108, 192), (110, 190), (64, 66)])
def test_yuv420p_round_trips_through_pyav(h: int, w: int) -> None:
    rng = np.random.default_rng(1)
    # constant 2 x 2 blocks: 4:2:0 keeps their colour exactly up to rounding
    blocks = rng.integers(16, 236, (h // 2, w // 2, 3), dtype=np.uint8)
    rgb = np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)
    yuv = rgb_to_yuv420p(rgb)
    assert yuv.shape == (h * 3 // 2, w)
    back = av.VideoFrame.from_ndarray(yuv, format="yuv420p").to_ndarray(format="rgb24")
    err = np.abs(back.astype(int) - rgb.astype(int))
    assert err.mean() < 2.0
    assert np.percentile(err, 99) <= 4


def test_grey_maps_to_limited_range_luma_and_neutral_chroma() -> None:
    for level, luma in ((0, 16), (255, 235)):
        yuv = rgb_to_yuv420p(np.full((4, 4, 3), level, np.uint8))
        assert (yuv[:4] == luma).all()
        assert (yuv[4:] == 128).all()


def test_odd_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        rgb_to_yuv420p(np.zeros((5, 4, 3), np.uint8))
