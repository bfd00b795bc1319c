"""Key frames from the gate for a whole video, in plain types (no dependency on ``proposal``).

``gate_video(path)`` opens the video's motion store (extracted once, cached), runs the gate and
returns a ``GateProposal``: per-frame logits, 0/1 decisions and residual energy
(``GateResult``), the model, and the frames to label. Without a budget those are the frames
with g = 1; with one, ``budget`` frames chosen from the logits at the price of a label that
makes the gate open about that many, by a selection rule (``gate_select``, default
``DEFAULT_RULE``). The command line and the GUI reach this through the proposal registry
(``annotator.methods`` registers it as ``gate``); the document's gate row takes
``GateResult.gate`` and ``GateResult.energy`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotator.core.progress import Progress, ShouldStop
from annotator.propagation.gate import GateModel, GateResult, gate_fields, load_gate
from annotator.propagation.gate_select import DEFAULT_RULE, select


@dataclass(frozen=True)
class GateProposal:
    result: GateResult  # logits and decisions (with a budget: at the budget's price)
    model: GateModel
    frames: list[int]  # the frames to label


def gate_video(
    path: str | Path,
    model: GateModel | str | Path | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    budget: int | None = None,
    rule: str = DEFAULT_RULE,
) -> GateProposal:
    """The gate's decisions for every frame of ``path`` (model: loaded, a file, or the
    shipped ``models/gate.pt``) and the frames to label: without a ``budget`` those it opens,
    with one ``budget`` frames by ``rule``. ``progress(fraction)`` follows the motion
    extraction (the gate itself takes milliseconds); raises ``Cancelled`` when
    ``should_stop()`` turns true."""
    from annotator.video.motion_cache import open_motion

    loaded = model if isinstance(model, GateModel) else load_gate(model)
    # the app's store (its cell, under 100 KB a frame): read window by window, so a long
    # video's fields are never in memory at once
    fields = open_motion(path, progress=progress, should_stop=should_stop)
    if budget is None:
        result = gate_fields(loaded, fields)
        return GateProposal(result, loaded, result.frames)
    frames, result = select(loaded, fields, budget, rule)
    return GateProposal(result, loaded, frames)
