"""``annotator bench kfpn-online``: online key frame detection against batch K-FPN.

The K-FPN paper's comparison (Table 3: Tb = 30, To = 10; Fig. 6: 5 ≤ Tb ≤ 30): on each clip the
key frames of batch K-FPN (its natural count) and of online K-FPN are labelled with the ground
truth, the default fill (``hpim``) completes the clip, and PCK@0.05 is pooled over the visible
joints of every frame; the key frame count is printed beside it. Two reference rows place the
online count by other means: batch K-FPN with that budget, and uniform spacing.

Sets: the rendered validation clips (the labels-efficiency default set) and the real clips
with per-frame references (``realgt/``: the reference is the ground truth there). The long
check concatenates the validation clips (scene cuts at the joins) to ``--long-frames`` frames
and runs online once over the whole stream: count, PCK and time against the same clips run
one by one. Features come from the per-video cache (computed on the first run).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from annotator.bench.efficiency_data import RenderedClip, default_set, load_set, make_fill
from annotator.core.framespec import uniform_frames
from annotator.core.metrics import pck
from annotator.errors import UsageError

REAL_CLIPS = ("hybrik_taiji", "mmpose_body3d_demo", "mmhuman3d_single_person_demo")
ALPHA = 0.05


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", type=Path, help="rendered folder (default: validation set)")
    parser.add_argument("--labels", type=Path, default=Path("../shared/data/penn_action/labels"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="realgt, videos")
    parser.add_argument("--sections", default="table,real,sweep,long")
    parser.add_argument("--tb", type=int, default=30, help="Tb of the table")
    parser.add_argument("--online-rows", type=int, default=10, help="To")
    parser.add_argument(
        "--fit-keys", type=int, help="newest key frames the prediction fits (default: model's)"
    )
    parser.add_argument("--sweep", default="5,10,15,20,25,30", help="Tb values of the sweep")
    parser.add_argument("--fill", default="hpim")
    parser.add_argument("--long-frames", type=int, default=10_000)
    parser.add_argument("--model", type=Path, default=None, help="online model file")
    parser.add_argument("--kfpn-model", type=Path, default=None)
    parser.add_argument("--limit", type=int, help="first N clips only (quick runs)")


@dataclasses.dataclass
class Scored:
    frames: int = 0
    keys: int = 0
    hits: float = 0.0  # PCK numerator and denominator, pooled
    counted: float = 0.0
    seconds: float = 0.0

    def add(self, clip: RenderedClip, keys: np.ndarray, fill: str, seconds: float = 0.0) -> None:
        pred = make_fill(clip, fill)(np.asarray(sorted(set(keys.tolist())), dtype=np.int64))[0]
        n = float(clip.visible.sum())
        self.hits += pck(pred, clip.gt_xy, clip.visible, clip.body, ALPHA) * n
        self.counted += n
        self.frames += clip.frame_count
        self.keys += len(set(keys.tolist()))
        self.seconds += seconds

    def cells(self) -> str:
        share = 100 * self.keys / max(self.frames, 1)
        p = 100 * self.hits / max(self.counted, 1)
        return f"{p:.1f} | {self.keys} ({share:.1f} %)"


class Runner:
    """The two models and each clip's cached features."""

    def __init__(self, args: argparse.Namespace) -> None:
        from annotator.proposal import kfpn, online

        self.kfpn = kfpn.load_model(args.kfpn_model)
        self.online = online.load_model(args.model)
        self.online_rows = args.online_rows
        self.fit_keys = self.online.config.fit_keys if args.fit_keys is None else args.fit_keys
        self.fill = args.fill

    def features(self, clip: RenderedClip) -> np.ndarray:
        from annotator.proposal.features import reading, video_features

        if "online_feats" not in clip.cache:
            with reading(clip.video) as source:
                clip.cache["online_feats"] = video_features(source, self.kfpn.config.backbone)
        feats: np.ndarray = clip.cache["online_feats"]
        return feats

    def with_tb(self, tb: int) -> Any:
        config = dataclasses.replace(
            self.online.config,
            batch_steps=tb,
            online_rows=self.online_rows,
            fit_keys=self.fit_keys,
        )
        return dataclasses.replace(self.online, config=config)

    def batch(self, clip: RenderedClip, budget: int | None = None) -> np.ndarray:
        from annotator.proposal.kfpn import propose_from_features

        feats = self.features(clip)
        return np.asarray(propose_from_features(self.kfpn, feats, clip.fps, budget).frames)

    def online_keys(self, clip: RenderedClip, tb: int) -> tuple[np.ndarray, float]:
        from annotator.proposal.online import propose_online

        feats = self.features(clip)
        start = time.perf_counter()
        frames = propose_online(self.with_tb(tb), self.kfpn, feats, clip.fps)[0]
        return np.asarray(frames), time.perf_counter() - start


def compare(runner: Runner, clips: Sequence[RenderedClip], tb: int) -> dict[str, Scored]:
    rows = {
        k: Scored() for k in ("batch", "online", "batch at online count", "uniform at online count")
    }
    for clip in clips:
        keys, seconds = runner.online_keys(clip, tb)
        rows["online"].add(clip, keys, runner.fill, seconds)
        rows["batch"].add(clip, runner.batch(clip), runner.fill)
        rows["batch at online count"].add(clip, runner.batch(clip, len(keys)), runner.fill)
        rows["uniform at online count"].add(
            clip, uniform_frames(clip.frame_count, max(2, len(keys))), runner.fill
        )
    return rows


def print_rows(rows: dict[str, Scored], fill: str) -> None:
    print(f"| method | PCK@0.05 ({fill}) | key frames (% of frames) |")
    print("|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row.cells()} |")


def real_clips(data: Path) -> list[RenderedClip]:
    from annotator.formats import registry

    out = []
    for name in REAL_CLIPS:
        mat, video = data / "realgt" / f"{name}.mat", data / "videos" / f"{name}.mp4"
        if not mat.is_file() or not video.is_file():
            raise UsageError(f"missing {mat} or {video} (pass --data)")
        ps = registry.guess(mat).read(mat)
        inst = ps.instances[0]
        boxes = np.asarray(inst.boxes, dtype=np.float32) if inst.boxes is not None else None
        out.append(
            RenderedClip(
                name=name,
                video=video,
                poses=np.asarray(inst.poses, dtype=np.float32),
                boxes=boxes
                if boxes is not None
                else np.full((ps.frame_count, 4), np.nan, np.float32),
                cuts=[],
                fps=float(ps.fps) if ps.fps else _video_fps(video),
            )
        )
    return out


def _video_fps(video: Path) -> float:
    from annotator.proposal.features import reading

    with reading(video) as source:
        return float(source.fps)


def long_check(runner: Runner, clips: Sequence[RenderedClip], frames: int, tb: int) -> None:
    """Online over one stream of ``frames`` frames made of the clips end to end."""
    from annotator.proposal.online import propose_online

    parts, feats, cuts, total = [], [], [], 0
    while total < frames:
        for clip in clips:
            if total >= frames:
                break
            parts.append(clip)
            feats.append(runner.features(clip).astype(np.float16))
            if total:
                cuts.append(total)
            cuts.extend(total + c for c in clip.cuts)  # the clip's own cuts hold in the stream
            total += clip.frame_count
    joined = RenderedClip(
        name="long",
        video=Path(),
        poses=np.concatenate([c.poses for c in parts]),
        boxes=np.concatenate([c.boxes for c in parts]),
        cuts=cuts,
        fps=parts[0].fps,
    )
    stream = np.concatenate(feats)
    model = runner.with_tb(tb)
    timings = []
    for upto in (min(1000, total), total):
        start = time.perf_counter()
        keys = propose_online(model, runner.kfpn, stream[:upto], joined.fps)[0]
        timings.append((upto, time.perf_counter() - start))
    one = Scored()
    one.add(joined, np.asarray(keys), runner.fill, timings[-1][1])
    apart = Scored()
    for clip in parts:
        k, s = runner.online_keys(clip, tb)
        apart.add(clip, k, runner.fill, s)
    print(
        f"{total} frames: {len(parts)} validation clips end to end, {len(cuts)} scene cuts "
        f"({len(parts) - 1} at the joins)\n"
    )
    print(f"| run | PCK@0.05 ({runner.fill}) | key frames (% of frames) | seconds | ms per frame |")
    print("|---|---|---|---|---|")
    print(f"| one stream | {one.cells()} | {one.seconds:.1f} | {1000 * one.seconds / total:.2f} |")
    print(
        f"| clip by clip | {apart.cells()} | {apart.seconds:.1f} | {1000 * apart.seconds / total:.2f} |"
    )
    print_since_cut(np.asarray(keys), [0, *cuts], total)
    first_n, first_s = timings[0]
    print(
        f"\nonline pass alone: first {first_n} frames {1000 * first_s / first_n:.2f} ms per "
        f"frame, all {total} frames {1000 * timings[-1][1] / total:.2f} ms per frame"
    )


SINCE_CUT = ((0, 1), (1, 5), (5, 10), (10, 20), (20, 40), (40, 60), (60, None))


def print_since_cut(keys: np.ndarray, starts: list[int], total: int) -> None:
    """The one stream's key frame share by steps since the last scene cut (or the start)."""
    frames = np.arange(total)
    since = frames - np.asarray(starts)[np.searchsorted(starts, frames, side="right") - 1]
    is_key = np.zeros(total, dtype=bool)
    is_key[keys] = True
    print("\n| frames since the last cut | frames | key frames (% of frames) |")
    print("|---|---|---|")
    for lo, hi in SINCE_CUT:
        sel = (since >= lo) & (since < (hi if hi is not None else total))
        label = f"{lo}-{hi - 1}" if hi is not None else f"{lo}+"
        share = 100 * is_key[sel].sum() / max(int(sel.sum()), 1)
        print(f"| {label} | {int(sel.sum())} | {int(is_key[sel].sum())} ({share:.1f} %) |")


def run(args: argparse.Namespace) -> int:
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    if not sections <= {"table", "real", "sweep", "long"}:
        raise UsageError("--sections takes table, real, sweep and long")
    if args.tb < 1 or args.online_rows < 1 or args.long_frames < 2:
        raise UsageError("--tb, --online-rows and --long-frames must be positive")
    try:
        sweep = [int(v) for v in args.sweep.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--sweep takes integers, not {args.sweep!r}") from None
    runner = Runner(args)
    folder = args.set if args.set is not None else default_set(args.labels)
    clips = load_set(folder)[: args.limit] if args.limit else load_set(folder)
    start = time.perf_counter()
    print(f"online model {runner.online.path} (sha256 {runner.online.sha256 or ''}"[:90] + ")")
    if "table" in sections:
        print(
            f"\nTable 3: {len(clips)} rendered validation clips, Tb = {args.tb}, To = {args.online_rows}\n"
        )
        print_rows(compare(runner, clips, args.tb), args.fill)
    if "real" in sections:
        print(
            f"\nTable 3, real clips with references (realgt), Tb = {args.tb}, To = {args.online_rows}\n"
        )
        real = real_clips(args.data)
        for clip in real:
            print(f"\n{clip.name} ({clip.frame_count} frames, {clip.fps:g} fps)\n")
            print_rows(compare(runner, [clip], args.tb), args.fill)
    if "sweep" in sections:
        print(f"\nFig. 6: Tb sweep on the rendered validation clips, To = {args.online_rows}\n")
        print("| Tb | online PCK@0.05 | online key frames | batch PCK@0.05 | batch key frames |")
        print("|---|---|---|---|---|")
        for tb in sweep:
            rows = compare(runner, clips, tb)
            o, b = rows["online"], rows["batch"]
            print(f"| {tb} | {o.cells().replace(' | ', ' | ', 1)} | {b.cells()} |")
    if "long" in sections:
        print(f"\nLong stream, Tb = {args.tb}, To = {args.online_rows}\n")
        long_check(runner, clips, args.long_frames, args.tb)
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0
