"""``annotator propose VIDEO --out P.json``: key frames to label, as a proposals file.

Without ``--budget`` K-FPN gives its natural count (the network's expected number of key
frames, placed by the search below with the first and last frame); ``--budget 0.1``
(a fraction) or ``--budget 12`` (a count) picks that many frames: by default those whose
linear interpolation rebuilds the video's feature sequence best (``--search linear``), or
greedily on the DYAN recovery objective (``--search eq16``). ``uniform`` and ``kmeans`` are
the baselines. ``gate`` is the residual-driven gate (``propagation.gate``): without a budget
the frames it opens, with one that many frames chosen from its logits by its selection rule
(``propagation.gate_select``, docs/gate.md); the file's ``scores`` are its logits and ``gate``
its 0/1 decisions. K-FPN runs its backbone on every other frame (and the last), the features
between interpolated: half the backbone's time, within noise of every frame on the validation
renders (docs/kfpn.md). When the video's every-frame features are cached (the app's reading for
``N`` computes them) it uses those. ``--feature-step N`` takes every N-th frame, as asked
(``--feature-step 1``: every frame).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from annotator.cli.methods import install
from annotator.core.safeio import refuse_replacing
from annotator.errors import UsageError
from annotator.proposal.backbones import check_feature_step
from annotator.proposal.registry import METHODS, parse_budget, propose

install()  # methods composed from sibling packages (the gate) before --method lists them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path, help="the video to propose frames for")
    parser.add_argument("--out", required=True, type=Path, help="proposals JSON to write")
    parser.add_argument("--method", default="kfpn", choices=sorted(METHODS))
    parser.add_argument(
        "--budget",
        type=parse_budget,
        default=None,
        help="a fraction of the frames (0.1) or a count (12); gate: the first and last frame "
        "and, near each evenly spaced frame, its largest logit (docs/gate.md)",
    )
    parser.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:N or auto (default: cuda if present)"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="model file (default: the shipped models/kfpn.pt, models/gate.pt for gate, "
        "models/kfpn_online.pt for online)",
    )
    parser.add_argument(
        "--search",
        default=None,
        choices=("linear", "eq16"),
        help="how K-FPN places its frames (default linear; see docs/kfpn.md)",
    )
    parser.add_argument(
        "--feature-step",
        type=int,
        default=None,
        help="kfpn: the backbone on every N-th frame and the last, features between "
        "interpolated (default 2, or every frame's features when cached; see docs/kfpn.md)",
    )
    parser.add_argument(
        "--backbone-weights",
        type=Path,
        default=None,
        help="torchvision .pth when the model uses a ResNet backbone",
    )


def run(args: argparse.Namespace) -> int:
    def progress(fraction: float) -> None:
        if args.verbose:
            print(f"proposing: {fraction:.0%}", file=sys.stderr)

    check_device(args.device)
    refuse_replacing(
        args.out,
        {"video": args.video, "model": args.model, "weights": args.backbone_weights},
        UsageError,
    )
    options = {}
    if args.feature_step is not None:
        if args.method != "kfpn":
            raise UsageError("--feature-step applies to --method kfpn only")
        check_feature_step(args.feature_step)
        options["feature_step"] = args.feature_step
    result = propose(
        args.video,
        args.method,
        args.budget,
        args.device,
        progress,
        model=args.model,
        backbone_weights=args.backbone_weights,
        search=args.search,
        **options,
    )
    result.write(args.out, args.video)
    print(
        f"{len(result.frames)} of {result.frame_count} frames proposed by {result.method} "
        f"on {result.device} in {result.seconds:.1f} s -> {args.out}"
    )
    return 0


DEVICE = re.compile(r"cpu|auto|cuda(:\d+)?")


def check_device(device: str | None) -> None:
    """Refuse a ``--device`` that names no device (``tpu``, ``gpu``) whatever the method, also
    one that runs on the CPU anyway: a typo must not pass silently."""
    if device is not None and not DEVICE.fullmatch(device):
        raise UsageError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto")
