"""``annotator train dictionary``: learn HPIM's motion prior from Penn Action training labels.

Writes the model (``.npz``) and its model card (``.md`` beside it: data, command, figures,
date). Only the contract's training files are read.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from annotator.dynamics.training import train_hpim
from annotator.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--labels",
        required=True,
        help="Penn Action labels folder (the train split .mat files)",
    )
    parser.add_argument("--out", required=True, help="model file to write (.npz)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run on a subset")


def run(args: argparse.Namespace) -> int:
    labels = Path(args.labels)
    if not labels.is_dir():
        raise UsageError(f"labels folder not found: {labels}")
    out = Path(args.out)
    if out.suffix != ".npz":
        raise UsageError("--out must name a .npz file")
    try:
        model, rel = train_hpim(labels, quick=args.quick, progress=_print)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    model.save(out, trained=date, data=str(labels))
    card = out.with_suffix(".md")
    card.write_text(_card(out.name, labels, model, rel, date, args.quick), encoding="utf-8")
    print(f"wrote {out} and {card}")
    return 0


def _print(line: str) -> None:
    print(line, flush=True)


def _card(
    name: str, labels: Path, model: object, rel: dict[str, float], date: str, quick: bool
) -> str:
    from annotator.dynamics.hpim import HpimModel

    assert isinstance(model, HpimModel)
    rows = "\n".join(f"| {float(b) * 100:g}% | {v:+.1f}% |" for b, v in rel.items())
    return f"""# {name}: HPIM motion prior (Penn Action)

- Data: Penn Action train-split labels, the contract's training part only (the first 1000
  files by name, `annotator.core.split.penn_action_split`); every 5th of them (200 files,
  all actions) tunes the settings, the other 800 estimate the variogram, then the variogram
  is re-estimated on all 1000.
  {"QUICK smoke run on a subset: not for shipping." if quick else ""}
- Command: `annotator train dictionary --labels {labels} --out models/{name}`
- Trained: {date}
- Settings chosen: reach {model.reach}, trend {model.trend}, nugget {model.nugget:g} (units of
  γ(1 frame)), hold_below {model.hold_below:g} px, pchip_mix {list(model.pchip_mix)} (gap bins
  < 4, < 7, < 12, < 20, ≥ 20 frames), frame rate {model.fps:g} fps, {len(model.variogram)} lags.
- Mean error relative to linear interpolation on the 200 tuning files, uniform key
  frames (validation figures: `docs/benchmarks-fill.md`):

| key frames | HPIM vs linear |
|---|---|
{rows}

Licence: the Penn Action annotations are research-use (cite Zhang, Zhu, Derpanis, ICCV 2013);
this file holds only pooled statistics of them.
"""
