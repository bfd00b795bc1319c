"""The headroom bound of ``bench gate``: a greedy search over moved uniform frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.bench.gate_headroom import nudged_uniform


@dataclass
class _Clip:
    frame_count: int


def test_the_search_finds_a_better_frame_within_reach_and_keeps_the_ends() -> None:
    seen: list[list[int]] = []

    def score(clip: object, keep: np.ndarray) -> tuple[int, int]:
        frames = [int(f) for f in keep]
        seen.append(frames)
        # a label on frame 12 is worth 5 hits; every other layout scores 3 of 10
        return (5 if 12 in frames else 3), 10

    base, best, total = nudged_uniform(_Clip(31), 4, score, reach=3)  # uniform: 0, 10, 20, 30
    assert (base, best, total) == (3, 5, 10)
    assert seen[0] == [0, 10, 20, 30]
    assert all(s[0] == 0 and s[-1] == 30 for s in seen)  # the ends never move
    assert all(max(abs(a - b) for a, b in zip(s, [0, 10, 20, 30], strict=True)) <= 3 for s in seen)


def test_the_search_never_reports_less_than_uniform() -> None:
    def score(clip: object, keep: np.ndarray) -> tuple[int, int]:
        return (7 if list(keep) == [0, 10, 20, 30] else 2), 10  # any move is worse

    assert nudged_uniform(_Clip(31), 4, score) == (7, 7, 10)
