"""The online benchmark's long-stream table: key frame share by frames since the last cut."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.bench.kfpn_online import print_since_cut


def test_the_share_by_frames_since_the_last_cut_counts_each_frame_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # two scenes of 100 frames: key frames at both starts and every 10th frame after 60
    keys = np.array([0, 100, *range(160, 200, 10)])
    print_since_cut(keys, [0, 100], 200)
    rows = {
        line.split("|")[1].strip(): line.split("|")[2:4]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ") and line[2].isdigit()
    }
    assert rows["0-0"] == [" 2 ", " 2 (100.0 %) "]
    assert rows["1-4"] == [" 8 ", " 0 (0.0 %) "]
    assert rows["60+"] == [" 80 ", " 4 (5.0 %) "]
    assert sum(int(cells[0]) for cells in rows.values()) == 200
