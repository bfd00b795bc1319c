"""``annotator train dictionary``: learn the fill's dynamics from training labels.

``--kind dyan`` (default): our DYAN dictionary, poles learned through the ``eq17`` fill
(``dyan_training.py``) from ``--data`` folders (a Penn Action folder or its ``labels``
folder, and optionally a JHMDB folder). ``--kind hpim-prior``: HPIM's variogram and settings
(``training.py``) from Penn Action. Writes the model (``.npz``) and its model card (``.md``
beside it: data, command, epochs, time, figures). Only the contract's training parts are read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from annotator.core.safeio import atomic_write_text, read_text
from annotator.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind",
        choices=("dyan", "hpim-prior", "hpim-uncertainty"),
        default="dyan",
        help="what to train (hpim-uncertainty: refit only the uncertainty of --base)",
    )
    parser.add_argument("--base", help="hpim-uncertainty: the HPIM model to start from")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        help="a Penn Action folder (or its labels folder) or a JHMDB folder; repeatable",
    )
    parser.add_argument("--labels", help="Penn Action labels folder (same as --data)")
    parser.add_argument("--out", required=True, help="model file to write (.npz)")
    parser.add_argument("--epochs", type=int, default=15, help="dyan: passes of 100 steps")
    parser.add_argument(
        "--objective",
        choices=("fill", "sparse-coding"),
        default="fill",
        help="dyan: train through the eq17 fill (default) or with DYAN's eq. 2 (comparison)",
    )
    parser.add_argument(
        "--layout",
        choices=("plain", "published"),
        default="plain",
        help="dyan: columns per pole: plain r^t cos, r^t sin (default) or the published "
        "layout with the (−r)^t (zig-zag) columns too",
    )
    parser.add_argument("--poles", type=int, default=40, help="dyan: number of poles")
    parser.add_argument("--rows", type=int, default=96, help="dyan: window length in frames")
    parser.add_argument("--device", default="cpu", help="dyan: torch device (cpu, cuda)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run on a subset")


def _sources(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """(Penn Action labels folder, JHMDB folder) from ``--data``/``--labels``."""
    penn: Path | None = Path(args.labels) if args.labels else None
    jhmdb: Path | None = None
    for raw in args.data:
        p = Path(raw)
        if not p.is_dir():
            raise UsageError(f"data folder not found: {p}")
        if (p / "GT_train_1.pkl").is_file():
            jhmdb = p
        elif (p / "labels").is_dir():
            penn = p / "labels"
        elif any(p.glob("*.mat")):
            penn = p
        else:
            raise UsageError(f"{p} is neither a Penn Action nor a JHMDB folder")
    if penn is not None and not penn.is_dir():
        raise UsageError(f"labels folder not found: {penn}")
    if penn is None and jhmdb is None:
        raise UsageError("give training data with --data (a Penn Action or JHMDB folder)")
    return penn, jhmdb


def run(args: argparse.Namespace) -> int:
    penn, jhmdb = _sources(args)
    out = Path(args.out)
    if out.suffix != ".npz":
        raise UsageError("--out must name a .npz file")
    if args.epochs < 1 or args.poles < 1 or args.rows < 8:
        raise UsageError("--epochs and --poles must be at least 1, --rows at least 8")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "annotator train " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else ""
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if args.kind != "dyan" and penn is None:
        raise UsageError(f"--kind {args.kind} needs Penn Action labels (--data)")
    if args.kind == "hpim-prior":
        assert penn is not None
        return _train_hpim(penn, out, date, command, args.quick)
    if args.kind == "hpim-uncertainty":
        assert penn is not None
        if not args.base:
            raise UsageError("--kind hpim-uncertainty needs --base MODEL.npz")
        return _refit_uncertainty(penn, Path(args.base), out, date, command, args.quick)
    from annotator.dynamics.dyan_training import DyanTraining, load_motions, train_dyan
    from annotator.dynamics.model_cards import dyan_card

    try:
        train, tune = load_motions(penn, jhmdb, stride=20 if args.quick else 1)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    if not tune:
        raise UsageError("the held-out tuning files come from Penn Action: give its folder")
    settings = DyanTraining(
        epochs=args.epochs,
        objective=args.objective,
        device=args.device,
        seed=args.seed,
        mirrored=args.layout == "published",
        poles=args.poles,
        rows=args.rows,
    )
    if args.quick:
        settings.steps_per_epoch = 20
    result = train_dyan(train, tune, settings, report=_print)
    result.save(out, trained=date, command=command)
    card = out.with_suffix(".md")
    text = dyan_card(out.name, result, command, date, penn, jhmdb, args.quick)
    atomic_write_text(card, text, UsageError)
    print(f"wrote {out} and {card}")
    return 0


def _train_hpim(labels: Path, out: Path, date: str, command: str, quick: bool) -> int:
    from annotator.dynamics.model_cards import hpim_card, uncertainty_section
    from annotator.dynamics.training import fit_uncertainty, load_training, train_hpim

    try:
        model, rel = train_hpim(labels, quick=quick, report=_print)
        tune = load_training(labels)[4::5]
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    model, rho = fit_uncertainty(model, tune[::10] if quick else tune, report=_print)
    model.save(out, trained=date, data=str(labels))
    card = out.with_suffix(".md")
    text = hpim_card(out.name, labels, model, rel, date, quick)
    text += uncertainty_section(model, rho, f"(part of) {command}", date, len(tune))
    atomic_write_text(card, text, UsageError)
    print(f"wrote {out} and {card}")
    return 0


def _refit_uncertainty(
    labels: Path, base: Path, out: Path, date: str, command: str, quick: bool
) -> int:
    from annotator.dynamics.hpim import HpimModel
    from annotator.dynamics.model_cards import uncertainty_section
    from annotator.dynamics.training import fit_uncertainty, load_training

    model = HpimModel.load(base)
    try:
        tune = load_training(labels)[4::5]  # the tuning files of the prior
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    if quick:
        tune = tune[::10]
    model, rho = fit_uncertainty(model, tune, report=_print)
    model.save(out, trained=date, data=str(labels))
    card = out.with_suffix(".md")
    base_card = base.with_suffix(".md")
    source = base_card if base_card.is_file() else card
    old = read_text(source, 16 << 20, UsageError) if source.is_file() else ""
    old = old.split("\n## Uncertainty\n")[0].rstrip() + "\n"
    atomic_write_text(card, old + uncertainty_section(model, rho, command, date, len(tune)))
    print(f"wrote {out} and {card}")
    return 0


def _print(line: str) -> None:
    print(line, flush=True)
