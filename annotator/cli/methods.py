"""Proposal methods composed from sibling packages: the one place that knows both.

``proposal`` must not import ``propagation`` (the layering rule), yet the residual-driven
gate proposes key frames. ``install()`` registers it in the proposal registry as ``gate``.
``annotator propose`` calls it before listing ``--method`` choices, and ``annotator`` calls
it before starting the app, whose "Propose frames" list is built from the same registry, so
both offer the same names. Idempotent and cheap: nothing heavy is imported until it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotator.proposal.registry import Picked, Request


def install() -> None:
    from annotator.proposal import registry

    registry.register("gate", _gate)


def _gate(request: Request) -> Picked:
    from annotator.core.progress import part
    from annotator.errors import UsageError
    from annotator.propagation.gate_propose import gate_video
    from annotator.proposal.registry import Picked

    if request.path is None:
        raise UsageError("the gate needs the video's file (it reads the codec's motion vectors)")
    # the motion fields are nearly all of the work; the gate itself takes milliseconds
    proposal = gate_video(
        request.path,
        request.options.get("model"),
        part(request.progress, 0.0, 0.95),
        request.should_stop,
        request.budget,
    )
    if request.progress is not None:
        request.progress(1.0)
    result, model = proposal.result, proposal.model
    info = {"name": model.path.name if model.path else "", "sha256": model.sha256 or ""}
    # gate 1 = "a person labels this frame": with a budget, the frames chosen (the decisions
    # at the budget's price of a label differ from them where the rule spreads the frames,
    # and the timeline's gate row and G then contradicted the proposals)
    chosen = set(proposal.frames)
    gate = (
        [int(v) for v in result.gate]
        if request.budget is None
        else [int(t in chosen) for t in range(len(result.gate))]
    )
    return Picked(
        frames=proposal.frames,
        scores=[round(float(v), 4) for v in result.logits],
        device="cpu",
        model=info,
        gate=gate,
    )
