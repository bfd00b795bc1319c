"""``annotator proxy --gop/--crf``: the cache keeps one proxy per video whatever its settings,
so a request for other settings is told the cached one differs (it was returned silently), and
a CRF outside x264's 0-51 is refused (it was handed to the encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.cli import main
from annotator.video.proxy import make_proxy, proxy_settings
from tests.video.videomaker import make_video


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4", n=30)


def test_a_proxy_tells_its_settings(clip: Path, tmp_path: Path) -> None:
    assert proxy_settings(make_proxy(clip, gop=5, crf=23)) == (5, 23.0)
    other = make_video(tmp_path / "mpeg4.mp4", n=10, codec="mpeg4")
    assert proxy_settings(other) is None  # not written by x264: unknown
    assert proxy_settings(tmp_path / "missing.mp4") is None


def test_a_cached_proxy_with_other_settings_is_said_to_differ(
    clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["proxy", str(clip)]) == 0
    first = capsys.readouterr()
    assert first.err == ""
    assert main(["proxy", str(clip)]) == 0  # the same settings: nothing to say
    assert capsys.readouterr().err == ""
    assert main(["proxy", str(clip), "--gop", "5"]) == 0
    out, err = capsys.readouterr()
    assert out == first.out  # the cached proxy, as before
    assert "made with --gop 12 --crf 18, not --gop 5 --crf 18; pass --force" in err
    assert main(["proxy", str(clip), "--gop", "5", "--force"]) == 0
    assert proxy_settings(capsys.readouterr().out.strip()) == (5, 18.0)


@pytest.mark.parametrize("crf", ["-1", "52", "99"])
def test_a_crf_outside_x264s_scale_is_refused(
    clip: Path, capsys: pytest.CaptureFixture[str], crf: str
) -> None:
    assert main(["proxy", str(clip), "--crf", crf, "--force"]) == 2
    assert f"--crf must be 0 to 51 (lower is better), not {crf}" in capsys.readouterr().err
