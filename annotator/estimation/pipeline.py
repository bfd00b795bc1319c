"""The estimator on chosen frames, the other frames filled: the papers' pipelines once the
key frames are known (choosing them is the caller's: ``cli/estimate.py`` composes this with
the proposal methods, since ``estimation`` does not import ``proposal``).

The fill treats the estimator's values as labels (its frames keep them exactly). The fill
engine has no weighted observations yet; when it gains them, ``confidence`` is the weight.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import SOURCE_NAMES, Source
from annotator.core.progress import Progress, ShouldStop
from annotator.estimation.blazepose import Estimates, FrameReader
from annotator.estimation.observations import observations
from annotator.estimation.registry import create


@dataclass(frozen=True)
class EstimatedTrack:
    """The contract's fill layout (``poses``, ``source``, ``held``, ``variance`` when the fill
    has one, ``confidence``) plus what produced it: the raw ``estimates``, the ``keyframes``
    and the seconds spent per stage (``seconds``, keys ``keyframes``, ``estimate``, ``fill``)."""

    poses: NDArray[np.float32]
    source: NDArray[np.int8]
    held: NDArray[np.bool_]
    confidence: NDArray[np.float32]
    variance: NDArray[np.float32] | None
    estimates: Estimates
    keyframes: NDArray[np.int64]
    seconds: dict[str, float] = field(default_factory=dict)

    def arrays(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "poses": self.poses,
            "source": self.source,
            "source_names": np.asarray(SOURCE_NAMES),
            "held": self.held,
            "confidence": self.confidence,
        }
        if self.variance is not None:
            out["variance"] = self.variance
        return out

    def write(self, path: str | Path) -> None:
        """Write the fill layout atomically (``core.store.atomic_write``)."""
        from annotator.core.store import atomic_write

        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.arrays())
        atomic_write(path, buffer.getvalue(), keep_backup=False)


def estimate_track(
    video: FrameReader,
    frames: Sequence[int] | NDArray[np.integer],
    *,
    skeleton: str = "penn_action",
    fill: str = "hpim",
    estimator: str = "blazepose",
    threads: int = 1,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    seconds: dict[str, float] | None = None,
) -> EstimatedTrack:
    """The estimator on ``frames`` of ``video``, every other frame filled with ``fill``."""
    from annotator.dynamics.fill import fill_track

    timing = dict(seconds or {})
    t0 = time.perf_counter()
    est = create(estimator, threads=threads).run(video, frames, progress, should_stop)
    timing["estimate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    manual, confidence = observations(est, int(video.frame_count), skeleton)
    filled = fill_track(manual, fill, fps=float(video.fps))
    timing["fill"] = time.perf_counter() - t0
    source = filled.source.copy()
    # The fill reports its labels as manual; here every label is the estimator's guess.
    source[source == Source.MANUAL] = Source.PREDICTED
    confidence[source != Source.PREDICTED] = np.nan
    return EstimatedTrack(
        poses=filled.poses.astype(np.float32),
        source=source.astype(np.int8),
        held=filled.held,
        confidence=confidence.astype(np.float32),
        variance=None if filled.variance is None else filled.variance.astype(np.float32),
        estimates=est,
        keyframes=np.asarray(est.frames, dtype=np.int64),
        seconds=timing,
    )
