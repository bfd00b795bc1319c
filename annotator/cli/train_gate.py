"""``annotator train gate --train DIR... --out models/gate.pt``: the residual-driven gate.

Trains on rendered videos with ground truth (``annotator bench render --split train``), the
loss differentiable in the gate through the motion-field propagation (``gate_train``), and
prints the gate's own decisions on held-out renders (``--val``) scored by that propagation.
Fields and input maps are cached under ``--cache`` (default: the per-user cache).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

from annotator.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--train", nargs="+", required=True, type=Path, metavar="DIR", help="rendered training sets"
    )
    parser.add_argument(
        "--val", nargs="*", default=[], type=Path, metavar="DIR", help="rendered validation sets"
    )
    parser.add_argument("--out", required=True, type=Path, help="model file to write (.pt)")
    parser.add_argument("--cache", type=Path, help="folder for extracted fields and input maps")
    parser.add_argument(
        "--lam",
        type=float,
        default=0.03,
        help="price of a label (lambda in loss + lambda mean(g)) the decisions use without a "
        "budget",
    )
    parser.add_argument(
        "--lam-range",
        type=float,
        nargs=2,
        default=(0.005, 0.2),
        metavar=("LOW", "HIGH"),
        help="training draws each window's lambda log-uniformly from this range",
    )
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=16, help="windows per step")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")


def run(args: argparse.Namespace) -> int:
    from annotator.core.paths import cache_dir
    from annotator.propagation.gate import WINDOW, GateConfig, new_gate, save_gate
    from annotator.propagation.gate_data import load_clips
    from annotator.propagation.gate_train import TrainSettings, evaluate, train_gate

    low, high = args.lam_range
    if args.steps < 1 or args.batch < 1 or not 0 < low <= high or args.lam <= 0:
        raise UsageError("--steps, --batch, --lam and --lam-range must be positive")
    cache = args.cache if args.cache is not None else cache_dir("gate-inputs")
    started = time.perf_counter()

    def progress(fraction: float) -> None:
        if args.verbose:
            print(f"inputs: {100 * fraction:.0f}%", file=sys.stderr)

    clips = load_clips(args.train, cache, progress)
    val = load_clips(args.val, cache, progress) if args.val else []
    if not clips:
        raise UsageError("no usable training clip (30 fps rendered sets)")
    frames = sum(c.frame_count for c in clips)
    print(f"{len(clips)} training clips, {frames} frames; {len(val)} validation clips")
    settings = TrainSettings(args.steps, args.batch, args.lr, args.seed, args.threads)
    config = GateConfig(lam=args.lam, lam_min=low, lam_max=high)
    model = new_gate(config, seed=args.seed)
    if val:
        print(f"untrained: {evaluate(model, val).line()}")
    figures = train_gate(model, clips, settings)
    meta: dict[str, object] = {
        "lam": args.lam,
        "lam_range": [low, high],
        "steps": args.steps,
        "batch": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "window": WINDOW,
        "train_sets": [str(p) for p in args.train],
        "train_clips": len(clips),
        "train_frames": frames,
        "train_seconds": round(figures["seconds"], 1),
        "trained": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch_threads": args.threads,
        "machine": platform.machine(),
    }
    # The same figures on training clips (24 spread over the set): what lambda was chosen by.
    seen = evaluate(model, clips[:: max(1, len(clips) // 24)][:24])
    print(f"training clips: {seen.line()}")
    meta.update(train_share=seen.share, train_pck=seen.pck, train_uniform_pck=seen.uniform_pck)
    if val:
        ev = evaluate(model, val)
        print(f"validation ({len(val)} clips): {ev.line()}")
        meta.update(
            val_share=ev.share, val_pck=ev.pck, val_error=ev.error, val_uniform_pck=ev.uniform_pck
        )
    digest = save_gate(args.out, model, meta)
    print(
        f"wrote {args.out} (sha256 {digest[:12]}...) after "
        f"{time.perf_counter() - started:.0f} s ({figures['seconds']:.0f} s training)"
    )
    return 0
