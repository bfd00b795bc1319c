"""``annotator train online --videos DIR... --out models/kfpn_online.pt``: the online detector.

Trains the discriminator of online K-FPN (``proposal.online``) on cached backbone features of
any videos (no labels): pairs (actual, predicted from the key frames so far) labelled by the
pooled prediction error (``proposal.online_train`` says exactly how). The predictor uses the
poles of the K-FPN model given by ``--kfpn-model`` (default: the shipped one), copied into the
output file.
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

from annotator.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--videos", nargs="+", required=True, metavar="PATH", help="training videos or folders"
    )
    parser.add_argument(
        "--val-videos", nargs="+", default=[], metavar="PATH", help="held-out videos (metrics)"
    )
    parser.add_argument("--out", required=True, type=Path, help="model file to write (.pt)")
    parser.add_argument("--kfpn-model", type=Path, default=None, help="K-FPN model (batch part)")
    parser.add_argument(
        "--share",
        type=float,
        default=0.155,
        help="share of online frames the labelling rule makes key frames (sets its threshold)",
    )
    parser.add_argument(
        "--batch-steps",
        default="10,30",
        help="Tb values the training passes use (comma-separated)",
    )
    parser.add_argument("--online-rows", type=int, default=10, help="To (rows past Tb)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")


def run(args: argparse.Namespace) -> int:
    import torch

    from annotator.proposal import kfpn
    from annotator.proposal import online_train as ot
    from annotator.proposal.online import OnlineConfig, save_model
    from annotator.proposal.train import find_videos, load_clips

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        steps = [int(v) for v in args.batch_steps.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--batch-steps must be integers, not {args.batch_steps!r}") from None
    if not steps or min(steps) < 1 or args.online_rows < 1 or args.epochs < 1:
        raise UsageError("--batch-steps, --online-rows and --epochs must be positive")
    if not 0 < args.share < 1:
        raise UsageError("--share must be between 0 and 1")
    started = time.perf_counter()
    model = kfpn.load_model(args.kfpn_model)
    radius = model.net.poles.radius.detach().double().numpy()
    theta = model.net.poles.theta.detach().double().numpy()
    config = OnlineConfig(
        in_channels=model.config.in_channels,
        batch_steps=max(steps),
        online_rows=args.online_rows,
        ridge=model.rho,
        fps=model.config.fps,
        backbone=model.config.backbone,
    )
    clips = load_clips(find_videos(args.videos), model.config, "cpu")
    val = load_clips(find_videos(args.val_videos), model.config, "cpu") if args.val_videos else []
    print(f"features ready ({time.perf_counter() - started:.0f} s); labelling pairs")
    pairs, tau = ot.make_pairs(model, clips, steps, config, radius, theta, args.share)
    val_pairs = (
        ot.make_pairs(model, val, steps, config, radius, theta, args.share, tau)[0] if val else None
    )
    print(
        f"tau {tau:.4g}: {len(pairs.label)} training pairs ({pairs.label.mean():.3f} positive)"
        + (f", {len(val_pairs.label)} validation pairs" if val_pairs is not None else "")
    )
    net, metrics = ot.train_discriminator(
        pairs, config, args.epochs, lr=args.lr, seed=args.seed, val=val_pairs
    )
    meta = {
        "tau": tau,
        "share": args.share,
        "batch_steps_trained": steps,
        "training_clips": len(clips),
        "training_pairs": len(pairs.label),
        "metrics": metrics,
        "kfpn_model": f"{model.path.name if model.path else ''} {model.sha256 or ''}",
        "trained": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_model(args.out, ot.build_model(net, config, radius, theta, meta))
    print(f"wrote {args.out} in {meta['seconds']} s; metrics {metrics}")
    return 0
