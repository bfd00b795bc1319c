"""How ``annotator estimate`` reads its key frames: the reader's random access with no
decode-ahead decodes forward inside a group of pictures and seeks only past the next I-frame,
so sparse key frames cost one decoding pass at most (no frame decoded twice)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from annotator.video import open_video


def _write(path: Path, count: int, gop: int) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"bf": "0", "sc_threshold": "0", "keyint_min": str(gop)}
        for i in range(count):
            img = np.full((48, 64, 3), (4 * i) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_sparse_key_frames_are_decoded_in_one_pass_at_most(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    _write(path, 120, gop=30)
    reader = open_video(path, build_index=False, decode_ahead=0)
    try:
        wanted = list(range(0, 120, 7))  # 10 % key frames or so, several per group
        grey = [int(reader.frame(i)[0, 0, 0]) for i in wanted]
        assert reader.stats["decoded"] <= 120  # nothing decoded twice
        assert reader.stats["seeks"] <= 4  # at most one per group of pictures
    finally:
        reader.close()
    assert np.allclose(grey, [(4 * i) % 256 for i in wanted], atol=6)
