"""Pose estimators by name, one entry point for the command line, the benchmark and the GUI.

``create(name)`` gives an estimator whose ``run(video, frames, progress, should_stop)``
returns ``blazepose.Estimates``, with ``core.progress``'s vocabulary: ``progress(fraction)``
after each frame, ``should_stop()`` polled before each (``Cancelled`` when it turns true). Nothing
here touches Qt, and the model runtime loads on the first frame, not on import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from annotator.errors import UsageError
from annotator.estimation.blazepose import BlazePose, Cancelled, Estimates

__all__ = ["DEFAULT", "ESTIMATORS", "Cancelled", "Estimates", "create"]

ESTIMATORS: dict[str, Callable[..., Any]] = {"blazepose": BlazePose}
DEFAULT = "blazepose"


def create(name: str = DEFAULT, **options: Any) -> BlazePose:
    """An estimator by name; ``options`` go to its constructor (``threads``, ...)."""
    if name not in ESTIMATORS:
        raise UsageError(f"unknown estimator {name!r}; choose one of: {', '.join(ESTIMATORS)}")
    estimator: BlazePose = ESTIMATORS[name](**options)
    return estimator
