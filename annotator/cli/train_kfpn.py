"""``annotator train kfpn --videos DIR... --out models/kfpn.pt``: unsupervised K-FPN training.

Any videos will do (no labels). Features are extracted once per video and cached; training
resumes from ``<out>.ckpt`` with ``--resume``. Uses CUDA when present unless ``--device cpu``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.errors import UsageError
from annotator.proposal.backbones import DEFAULT_BACKBONE

if TYPE_CHECKING:
    from annotator.proposal.train import Clip

WEIGHT_PRESETS = {"penn": (2.5, 4.5), "jhmdb": (4.0, 2.0)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--videos",
        nargs="+",
        required=True,
        metavar="PATH",
        help="training videos, or folders searched for videos",
    )
    parser.add_argument(
        "--val-videos",
        nargs="+",
        default=[],
        metavar="PATH",
        help="held-out videos: loss and key frame share printed every epoch",
    )
    parser.add_argument("--out", required=True, type=Path, help="model file to write (.pt)")
    parser.add_argument(
        "--backbone",
        default=DEFAULT_BACKBONE,
        help="efficientnet-lite0 (default), resnet18 or resnet34",
    )
    parser.add_argument("--backbone-weights", type=Path, help="torchvision .pth for a ResNet")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--windows-per-epoch", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--window", type=int, default=40, help="frames per window (T)")
    parser.add_argument(
        "--fps",
        type=float,
        default=30.0,
        help="frame rate the model works at; other videos are resampled",
    )
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument(
        "--weights",
        default="penn",
        help="loss weights: penn (2.5,4.5), jhmdb (4,2) or SPARSE,RECOVERY",
    )
    parser.add_argument("--rho", type=float, default=0.1)
    parser.add_argument("--alpha-max", type=float, default=20.0)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument(
        "--pole-warmup",
        type=int,
        default=150,
        help="steps fitting the DYAN poles alone first (0: none)",
    )
    parser.add_argument(
        "--mode",
        choices=("target", "direct"),
        default="target",
        help="target: learn eq. 16's greedy binary minimiser (default); "
        "direct: gradient descent on eq. 16 (collapsed in our runs, see docs/kfpn.md)",
    )
    parser.add_argument(
        "--target",
        choices=("linear", "eq16"),
        default="linear",
        help="target mode: learn the minimiser of linear-interpolation recovery (default, "
        "what the proposals' search uses) or of eq. 16's DYAN recovery",
    )
    parser.add_argument(
        "--relaxed", action="store_true", help="direct mode: relaxed Bernoulli samples of s"
    )
    parser.add_argument(
        "--straight-through",
        action="store_true",
        help="direct mode: binary s in the loss, soft gradient",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if present)")
    parser.add_argument("--resume", action="store_true", help="continue from <out>.ckpt")


def _weights(text: str) -> tuple[float, float]:
    if text in WEIGHT_PRESETS:
        return WEIGHT_PRESETS[text]
    try:
        sparse, rec = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(
            f"--weights must be penn, jhmdb or SPARSE,RECOVERY, not {text!r}"
        ) from None
    return sparse, rec


def _with_frames(clips: list[Clip]) -> list[Clip]:
    """The clips with at least two frames, each one left out said so (a single frame padded to
    a window has nothing to choose between: it would only teach the network to keep it)."""
    kept = []
    for clip in clips:
        if len(clip.positions) < 2:
            print(f"left out {clip.name}: a single frame")
        else:
            kept.append(clip)
    return kept


def run(args: argparse.Namespace) -> int:
    import torch

    from annotator.proposal import train
    from annotator.proposal.backbones import pick_device, spec

    if args.threads > 0:
        torch.set_num_threads(args.threads)
        try:  # numpy's BLAS too: oversubscribed threads made the greedy targets 20x slower
            from threadpoolctl import threadpool_limits

            threadpool_limits(args.threads)
        except ImportError:
            pass
    if args.epochs < 1 or args.batch < 1 or args.windows_per_epoch < 1 or args.window < 2:
        raise UsageError("--epochs, --batch and --windows-per-epoch must be positive")
    device = pick_device(args.device)
    backbone = spec(args.backbone)
    w_sparse, w_rec = _weights(args.weights)
    config = {
        "window": args.window,
        "in_channels": backbone.channels,
        "fps": args.fps,
        "backbone": backbone.name,
        "hidden": args.hidden,
    }
    settings = train.TrainSettings(
        epochs=args.epochs,
        batch=args.batch,
        windows_per_epoch=args.windows_per_epoch,
        lr=args.lr,
        optimizer=args.optimizer,
        w_sparse=w_sparse,
        w_rec=w_rec,
        rho=args.rho,
        alpha_max=args.alpha_max,
        pole_warmup=args.pole_warmup,
        mode=args.mode,
        target=args.target,
        relaxed=args.relaxed,
        straight_through=args.straight_through,
        seed=args.seed,
        config=config,
    )
    from annotator.proposal.network import KfpnConfig

    kconfig = KfpnConfig(**config)
    started = time.perf_counter()
    videos = train.find_videos(args.videos)
    print(f"{len(videos)} training videos; extracting {backbone.name} features on {device}")
    clips = _with_frames(train.load_clips(videos, kconfig, device, args.backbone_weights))
    if not clips:
        raise UsageError(
            "every training video is a single frame: K-FPN learns which frames of a window to "
            "keep, so it needs videos of at least 2 frames"
        )
    val = train.find_videos(args.val_videos) if args.val_videos else []
    val_clips = train.load_clips(val, kconfig, device, args.backbone_weights) if val else []
    val_clips = _with_frames(val_clips)
    feature_seconds = time.perf_counter() - started
    print(f"features ready in {feature_seconds:.0f} s; training on {device}")
    meta = {"feature_seconds": round(feature_seconds, 1), "device": device}
    info = train.train(
        clips, args.out, settings, val_clips=val_clips, device=device, resume=args.resume, meta=meta
    )
    print(f"wrote {args.out} (trained {info['train_seconds']} s)")
    return 0
