"""The bundled sample video opens, is what its README says, and carries its licence."""

from __future__ import annotations

from pathlib import Path

from annotator.video import open_video

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


def test_sample_video_matches_its_description() -> None:
    path = SAMPLES / "taiji.mp4"
    assert path.stat().st_size < 2_000_000
    with open_video(path) as reader:
        assert reader.wait_for_index()
        assert (reader.width, reader.height, reader.frame_count) == (640, 360, 240)
        assert reader.codec == "h264" and reader.max_gop == 48
        assert reader.frame(239).shape == (360, 640, 3)


def test_sample_has_licence_and_attribution() -> None:
    assert "MIT License" in (SAMPLES / "LICENSE-taiji.txt").read_text()
    readme = (SAMPLES / "README.md").read_text()
    assert "HybrIK" in readme and "make_sample.py" in readme
