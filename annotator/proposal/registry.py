"""Proposal methods by name, one entry point for the command line and the GUI worker.

``propose(video, method, budget, device, progress, should_stop)`` returns a frozen
``ProposalRun``; ``ProposalRun.to_json`` gives the contract's proposals file. ``progress`` and
``should_stop`` are ``core.progress``'s: the fraction done (features are the first 90 %), and
a poll between batches that raises ``Cancelled`` when it turns true. A reader opened here for a
path is closed before returning. The GUI runs this in a worker thread; nothing here touches
Qt. torch is imported only when the ``kfpn`` method runs.

Methods implemented above this package (the residual-driven gate lives in ``propagation``, a
sibling this package must not import) are added with ``register(name, runner)`` by the layer
that knows both (``annotator.cli.methods``); the command line and the app list ``METHODS``
after that, so they offer the same names.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core.progress import Progress, ShouldStop, part
from annotator.errors import UsageError
from annotator.proposal.features import reading
from annotator.video.base import VideoReader

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "METHODS",
    "Picked",
    "ProposalRun",
    "Request",
    "parse_budget",
    "propose",
    "register",
    "resolve_budget",
]

SCHEMA = "annotator.proposals/1"
Budget = float | int | None


@dataclass(frozen=True)
class ProposalRun:
    frames: list[int]
    scores: list[float] | None
    method: str
    device: str
    seconds: float
    model: dict[str, str] | None
    budget: Budget = None
    frame_count: int = 0
    video_fingerprint: str = ""
    gate: list[int] | None = None  # one 0/1 per frame, for methods that decide per frame

    def to_json(self, video: str | Path) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "video": str(video),
            "video_fingerprint": self.video_fingerprint,
            "frame_count": self.frame_count,
            "frames": sorted(int(f) for f in self.frames),
            "scores": self.scores,
            "gate": self.gate,
            "method": self.method,
            "budget": self.budget,
            "device": self.device,
            "seconds": round(self.seconds, 3),
            "model": self.model,
        }

    def write(self, path: str | Path, video: str | Path) -> None:
        from annotator.core.safeio import atomic_write_text
        from annotator.errors import UsageError

        text = json.dumps(self.to_json(video), indent=1, allow_nan=False) + "\n"
        atomic_write_text(path, text, UsageError)


def parse_budget(text: str) -> float | int:
    """``"0.1"`` -> a fraction of the frames, ``"12"`` -> a count (the ``--budget`` syntax)."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(
            f"--budget must be a fraction like 0.1 or a count like 12, not {text!r}"
        ) from None
    if value <= 0 or not math.isfinite(value):
        raise UsageError(f"--budget must be positive, not {text!r}") from None
    if value < 1 or "." in text:
        if value >= 1:
            raise UsageError(f"a fractional --budget must be below 1, not {text!r}")
        return value
    return int(value)


def resolve_budget(budget: Budget, frame_count: int) -> int | None:
    """The number of frames a budget means for a video (a fraction is rounded up)."""
    if budget is None:
        return None
    if isinstance(budget, float) and budget < 1:
        return max(1, min(frame_count, math.ceil(budget * frame_count)))
    return max(1, min(frame_count, int(budget)))


@dataclass(frozen=True)
class Request:
    """What a method gets: the open video (and its path when it was given one), the budget as
    a frame count (None: the method's natural count), the device and the callbacks."""

    source: VideoReader
    budget: int | None
    device: str | None
    progress: Progress | None
    should_stop: ShouldStop | None
    options: dict[str, Any]
    path: Path | None = None


@dataclass(frozen=True)
class Picked:
    """What a method returns; ``gate`` is one 0/1 per frame for methods that decide per frame."""

    frames: list[int]
    scores: list[float] | None
    device: str
    model: dict[str, str] | None
    gate: list[int] | None = None


Runner = Callable[[Request], Picked]


def _features(ctx: Request, backbone: str, device: str, **options: Any) -> np.ndarray:
    """The video's backbone features (cached by fingerprint), the first 90 % of the bar."""
    from annotator.proposal.features import video_features

    return video_features(
        ctx.source,
        backbone,
        backbone_weights=ctx.options.get("backbone_weights"),
        device=device,
        progress=part(ctx.progress, 0.0, 0.9),
        should_stop=ctx.should_stop,
        mmap=True,  # a long video's features stay on disk
        **options,
    )


def _kfpn(ctx: Request) -> Picked:
    from annotator.proposal import kfpn
    from annotator.proposal.backbones import PROPOSAL_STEP, pick_device

    device = pick_device(ctx.device)
    model = kfpn.load_model(ctx.options.get("model"))
    step = ctx.options.get("feature_step")
    feats = _features(
        ctx,
        model.config.backbone,
        device,
        input_size=ctx.options.get("input_size"),
        # By default every PROPOSAL_STEP-th frame, or every frame's features when cached (the
        # reading for N computed them); a step asked for is taken as asked.
        step=PROPOSAL_STEP if step is None else step,
        finer=step is None,
    )
    result = kfpn.propose_from_features(
        model,
        feats,
        ctx.source.fps,
        ctx.budget,
        device,
        ctx.should_stop,
        search=ctx.options.get("search") or kfpn.DEFAULT_SEARCH,
    )
    if ctx.progress is not None:
        ctx.progress(1.0)
    info = {"name": model.path.name if model.path else "", "sha256": model.sha256 or ""}
    return Picked(result.frames, result.scores, device, info)


def _online(ctx: Request) -> Picked:
    from annotator.proposal import kfpn, online
    from annotator.proposal.backbones import pick_device

    # the backbone runs on the device; the per-frame decisions (small, sequential) on the CPU
    device = pick_device(ctx.device)
    model = online.load_model(ctx.options.get("model"))
    kfpn_model = kfpn.load_model(ctx.options.get("kfpn_model"))
    feats = _features(ctx, model.config.backbone, device)
    frames, scores, gate = online.propose_online(
        model,
        kfpn_model,
        feats,
        ctx.source.fps,
        ctx.budget,
        ctx.should_stop,
        part(ctx.progress, 0.9, 1.0),
    )
    if ctx.progress is not None:
        ctx.progress(1.0)
    info = {"name": model.path.name if model.path else "", "sha256": model.sha256 or ""}
    return Picked(frames, scores, device, info, gate)


def _baseline(name: str) -> Runner:
    def run(ctx: Request) -> Picked:
        from annotator.proposal.baselines import select_frames

        count = ctx.source.frame_count
        # With no budget, the baselines take the contract's default fraction (10 %).
        budget = ctx.budget if ctx.budget is not None else max(2, math.ceil(0.1 * count))
        frames = select_frames(ctx.source, budget, name)
        return Picked(sorted(int(f) for f in frames), None, "cpu", None)

    return run


METHODS: dict[str, Runner] = {
    "kfpn": _kfpn,
    "online": _online,
    "uniform": _baseline("uniform"),
    "kmeans": _baseline("kmeans"),
}


def register(name: str, runner: Runner) -> None:
    """Add (or replace) a method; see the module docstring for who calls this."""
    METHODS[name] = runner


def propose(
    video: str | Path | VideoReader,
    method: str = "kfpn",
    budget: Budget = None,
    device: str | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    **options: Any,
) -> ProposalRun:
    """Propose key frames of ``video`` (a path or an open reader).

    ``options``: ``model`` (a K-FPN model file), ``backbone_weights``, ``input_size`` (the
    backbone's input square, default ``backbones.DEFAULT_INPUT_SIZE``), ``feature_step``
    (the backbone on every n-th frame; default ``backbones.PROPOSAL_STEP``, or every frame's
    features when they are cached) and ``search``
    (``"linear"`` or ``"eq16"``, how frames are placed) for ``kfpn``; for ``online``, ``model``
    is the online model file and ``kfpn_model`` the K-FPN model of its batch part.
    """
    if method not in METHODS:
        raise UsageError(f"unknown proposal method {method!r}; choose one of: {', '.join(METHODS)}")
    start = time.perf_counter()
    with reading(video) as source:
        count = source.frame_count
        fingerprint = source.fingerprint
        budget_n = resolve_budget(budget, count)
        path = Path(video) if isinstance(video, (str, Path)) else _file_of(source)
        ctx = Request(source, budget_n, device, progress, should_stop, options, path)
        picked = METHODS[method](ctx)
    return ProposalRun(
        frames=picked.frames,
        scores=picked.scores,
        method=method,
        device=picked.device,
        seconds=time.perf_counter() - start,
        model=picked.model,
        budget=budget,
        frame_count=count,
        video_fingerprint=fingerprint,
        gate=picked.gate,
    )


def _file_of(source: VideoReader) -> Path | None:
    """The file an open reader decodes, for methods that read it themselves (the gate's
    motion vectors); None for readers of frames in memory."""
    path = getattr(source, "path", None)
    return Path(path) if path is not None and Path(path).is_file() else None
