"""``LiveWalks``: the walks beside a labels-only fill, walked once in full, then kept current
gap by gap as labels change, equal to walking the new labels from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.core.codes import Visibility
from annotator.dynamics.base import Observations
from annotator.propagation import VideoSource
from annotator.propagation.live_walks import LiveWalks
from annotator.video.motion import extract_motion
from tests.propagation.scenes import FRAMES, encode_rotation, labels_at, rotation_truth

POINTS = np.array([[178.0, 96.0], [128.0, 46.0], [93.0, 131.0]])


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        np.array_equal(a.xy, b.xy, equal_nan=True)
        and np.array_equal(a.variance, b.variance, equal_nan=True)
    )


def test_marked_edits_are_walked_again_and_equal_a_fresh_walk(tmp_path: Path) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    walks = LiveWalks(VideoSource(fields=fields))
    man = labels_at(rotation_truth, POINTS, [0, 10, 20, FRAMES - 1])
    assert walks.current(man) is None and not walks.ready  # nothing walked yet
    walks.begin()
    first = walks.compute(man.copy())  # as the background task walks a copy
    # edits while it walked: a label added at 15, the one at 10 removed, one joint at 25
    after = labels_at(rotation_truth, POINTS, [0, 15, 20, FRAMES - 1])
    after[25, 1] = after[FRAMES - 1, 1]
    after[25, 1, :2] = rotation_truth(POINTS, 25)[1]
    walks.mark((15, 15))
    walks.mark((10, 10))
    walks.mark((25, 25))
    stale = Observations(first.xy.copy(), first.variance.copy())
    walks.adopt(first)
    assert walks.ready
    got = walks.current(after)
    assert got is first  # brought up to date in place
    assert _same(got, walks.compute(after))
    assert not _same(stale, walks.compute(after))  # the marked gaps were walked again
    # an edit everywhere (a person's labels replaced): not ready until walked again
    walks.mark(None)
    assert walks.current(after) is None and not walks.ready
    # another track length: no answer
    walks.begin()
    walks.adopt(walks.compute(after))
    assert walks.current(after[:-1]) is None


def test_an_absent_label_splits_the_walk_as_a_fresh_walk_does(tmp_path: Path) -> None:
    fields = extract_motion(encode_rotation(tmp_path / "disc.mp4", "h264"), use_cache=False)
    walks = LiveWalks(VideoSource(fields=fields))
    man = labels_at(rotation_truth, POINTS, [0, 20, FRAMES - 1])
    walks.begin()
    walks.adopt(walks.compute(man))
    before = walks.current(man)
    assert before is not None and np.isfinite(before.xy[1:20, 0]).all()
    man[10, 0, :2] = np.nan
    man[10, 0, 2] = Visibility.ABSENT
    walks.mark((10, 10))
    got = walks.current(man)
    assert got is not None
    assert _same(got, walks.compute(man))
    assert np.isnan(got.xy[1:20, 0]).all()  # no walk across the absent label
