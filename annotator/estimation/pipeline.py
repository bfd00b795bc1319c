"""The estimator on chosen frames, the other frames filled: the papers' pipelines once the
key frames are known (choosing them is the caller's: ``cli/estimate.py`` composes this with
the proposal methods, since ``estimation`` does not import ``proposal``).

The fill treats the estimator's values as labels (its frames keep them exactly): in this
automatic pipeline they are the only data, and the fill engine's weighted observations
(``dynamics.base.Observations``) only weigh positions *between* labels, so with no labels
they would fill nothing. Where manual labels exist (the app's prefill), predicted joints are
the natural observations, with their confidence as weight.

``fill`` is a fill method name of ``dynamics.fill``, or a function from the labels (F, J, 3)
to a ``FillResult`` — how the command line plugs in the fills that follow the video's motion
(``mv``, ``hpim+mv``, from ``propagation``, which this package does not import).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import SOURCE_NAMES, Source
from annotator.core.progress import Progress, ShouldStop
from annotator.estimation.blazepose import Estimates, FrameReader
from annotator.estimation.carry import Carry
from annotator.estimation.observations import observations
from annotator.estimation.registry import create

if TYPE_CHECKING:
    from annotator.dynamics.fill import FillResult

FillFunction = Callable[[NDArray[np.float64]], "FillResult"]


@dataclass(frozen=True)
class EstimatedTrack:
    """The contract's fill layout (``poses``, ``source``, ``held``, ``variance`` when the fill
    has one, ``confidence``) plus what produced it: the raw ``estimates``, the ``keyframes``
    and the seconds spent per stage (``seconds``, keys ``keyframes``, ``estimate``, ``fill``),
    and the ``fill`` method's name."""

    poses: NDArray[np.float32]
    source: NDArray[np.int8]
    held: NDArray[np.bool_]
    confidence: NDArray[np.float32]
    variance: NDArray[np.float32] | None
    estimates: Estimates
    keyframes: NDArray[np.int64]
    seconds: dict[str, float] = field(default_factory=dict)
    fill: str = ""

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
    fill: str | FillFunction = "hpim",
    estimator: str = "blazepose",
    threads: int = 1,
    refine_passes: int = 1,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    seconds: dict[str, float] | None = None,
    fill_name: str | None = None,
    carry: Carry | None = None,
) -> EstimatedTrack:
    """The estimator on ``frames`` of ``video``, every other frame filled with ``fill``.
    ``refine_passes``: extra landmark passes on an isolated key frame (``BlazePose``);
    ``fill_name``: what to call a ``fill`` function in the result (a name names itself);
    ``carry``: moves points along the video's motion, so that a key frame far from the last
    one gets its ROI from there instead of from the detector (``estimation.carry``)."""
    from annotator.dynamics.fill import fill_track

    timing = dict(seconds or {})
    t0 = time.perf_counter()
    model = create(estimator, threads=threads, refine_passes=refine_passes, carry=carry)
    est = model.run(video, frames, progress, should_stop)
    timing["estimate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    manual, confidence = observations(est, int(video.frame_count), skeleton)
    if isinstance(fill, str):
        filled = fill_track(manual, fill, fps=float(video.fps))
    else:
        filled = fill(manual)
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
        fill=fill if isinstance(fill, str) else fill_name or str(getattr(fill, "__name__", "")),
    )
