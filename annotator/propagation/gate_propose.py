"""Key frames from the gate for a whole video, in plain types (no dependency on ``proposal``).

``gate_video(path)`` opens the video's motion store (extracted once, cached), runs the gate and returns
per-frame logits, 0/1 decisions and residual energy. ``gate_frames(result, budget)``: without
a budget the frames with g = 1, with one the top-B logits, computed at the price of a label
that makes the gate open about B frames (the network takes the price as an input). The command line and the GUI reach
this through the proposal registry (``annotator.methods`` registers it as ``gate``); the
document's gate row takes ``GateResult.gate`` and ``GateResult.energy`` directly.
"""

from __future__ import annotations

from pathlib import Path

from annotator.core.progress import Progress, ShouldStop
from annotator.propagation.gate import GateModel, GateResult, gate_fields, load_gate


def gate_video(
    path: str | Path,
    model: GateModel | str | Path | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    budget: int | None = None,
) -> tuple[GateResult, GateModel]:
    """The gate's decisions for every frame of ``path`` (model: loaded, a file, or the
    shipped ``models/gate.pt``); with a ``budget``, at the price of a label that opens about
    that many frames. ``progress(fraction)`` follows the motion extraction (the gate itself
    takes milliseconds); raises ``Cancelled`` when ``should_stop()`` turns true."""
    from annotator.video.motion_cache import open_motion

    loaded = model if isinstance(model, GateModel) else load_gate(model)
    # the app's store (its cell, under 100 KB a frame): read window by window, so a long
    # video's fields are never in memory at once
    fields = open_motion(path, progress=progress, should_stop=should_stop)
    return gate_fields(loaded, fields, budget=budget), loaded


def gate_frames(result: GateResult, budget: int | None) -> list[int]:
    """Without a budget the frames the gate opens (g = 1); with one, the ``budget`` largest
    logits (at most one per training-rate step, see ``GateResult.top``)."""
    if budget is None:
        return result.frames
    return result.top(budget)
