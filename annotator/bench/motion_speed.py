"""Speed and accuracy figures for the motion fields (printed, never asserted).

``measure_motion_fps(path, max_frames)`` is the column ``annotator bench video`` shows next to
plain decode speed. Run on its own for a table of real clips and the synthetic accuracy check::

    nice -n 10 annotator bench motion --data ../shared/data --frames 200
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np

from annotator.core.progress import Cancelled
from annotator.synth.motion import X264_PYRAMID, Scene, encode
from annotator.video import motion_kernels as kernels
from annotator.video.motion import MotionFields, extract_motion
from annotator.video.motion_extract import VectorEngine, decode_records
from annotator.video.motion_kernels import warm_up
from annotator.video.motion_vectors import (
    cell_field,
    per_frame_blocks,
    resolve_distances,
)
from annotator.video.residual import cell_residual, residual_factor

CLIPS = (
    "hybrik_taiji.mp4",
    "mmhuman3d_single_person_demo.mp4",
    "mmpose_body3d_demo.mp4",
    "mmaction2_test.avi",
)


def measure_motion_fps(path: str | Path, max_frames: int = 200, *, cpu: bool = False) -> float:
    """Frames per second of field + residual extraction (no cache) over the first
    ``max_frames`` frames of ``path``: wall clock, or process CPU time when ``cpu`` (steadier
    on a shared machine). The compiled kernels are loaded first, outside the timing (once per
    process: about a second, or a one-off compile of several seconds on a fresh install)."""
    warm_up()
    done = [0]

    def frame_done() -> bool:  # polled once after each frame
        done[0] += 1
        return done[0] >= max_frames

    clock = time.process_time if cpu else time.perf_counter
    start = clock()
    with contextlib.suppress(Cancelled):
        extract_motion(path, should_stop=frame_done, use_cache=False)
    return done[0] / (clock() - start)


def measure_decode_fps(
    path: str | Path, max_frames: int = 200, threads: str = "SLICE", *, cpu: bool = False
) -> float:
    """Plain decode speed (no conversion) with PyAV's ``thread_type`` ``threads``."""
    clock = time.process_time if cpu else time.perf_counter
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = threads
        count = 0
        start = clock()
        for _ in container.decode(stream):
            count += 1
            if count >= max_frames:
                break
        return count / (clock() - start)


def stage_table(path: Path, max_frames: int, cell: int = 8, max_distance: int = 8) -> list[str]:
    """Process CPU time per frame (ms) of each extraction stage on the first ``max_frames``
    frames of ``path``, one stage at a time on one thread, compiled kernels next to the
    NumPy/OpenCV reference they replace."""
    warm_up()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    plain = 1000.0 / measure_decode_fps(path, max_frames, cpu=True)
    plain_faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / max_frames
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.process_time()
    count = sum(1 for _ in itertools.islice(decode_records(path, True, cell), max_frames))
    decoding = (time.process_time() - start) * 1000.0 / count
    decoding_faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / count
    records = [r for _, r in itertools.islice(decode_records(path, True, cell), max_frames)]
    height, width = records[0].display_shape()
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
    engine = VectorEngine(codec, width, height, cell, max_distance)
    engine.window = {r.index: r for r in records}
    factor = residual_factor(height, width, cell)
    totals: dict[str, float] = {}

    def timed(name: str, work: Callable[..., Any], *args: Any) -> Any:
        begin = time.process_time()
        out = work(*args)
        totals[name] = totals.get(name, 0.0) + time.process_time() - begin
        return out

    for record in records:
        blocks = record.blocks
        if blocks is None or len(blocks) == 0 or record.picture == "I":
            continue
        for forward in (False, True):
            one_way = blocks.take(blocks.forward == forward)
            found = engine.candidates(record, forward)
            distances, _ = timed("matching, compiled", kernels.resolve, one_way, record.luma, found)
            timed("matching, NumPy", resolve_distances, one_way, record.luma, found)
            moved = per_frame_blocks(one_way, distances)
            dx, dy, _ = timed("cell grid, compiled", kernels.paint, moved, height, width, cell)
            timed("cell grid, NumPy", cell_field, moved, height, width, cell)
        previous = engine.window.get(record.index - 1)
        if previous is None or previous.small is None or record.small is None:
            continue
        shift = (
            previous.small,
            record.small,
            (np.nan_to_num(dx) / factor).astype(np.float32),
            (np.nan_to_num(dy) / factor).astype(np.float32),
            cell // factor,
        )
        timed("residual, compiled", kernels.residual, *shift)
        timed("residual, OpenCV", cell_residual, *shift)
    lines = [
        f"{'plain decode':42} {plain:7.2f}   ({plain_faults:.0f} minor page faults/frame)",
        f"{'decode + vectors + luma + reduction':42} {decoding:7.2f}"
        f"   ({decoding_faults:.0f} minor page faults/frame)",
    ]
    lines += [f"{name:42} {1000.0 * t / len(records):7.2f}" for name, t in totals.items()]
    return lines


def object_accuracy(fields: MotionFields, scene: Scene, picture: str, cell: int) -> float:
    """Share of object-interior cells (frames of type ``picture``) valid and within 1 px."""
    good = total = 0
    for obj in scene.objects:
        for t, kind in enumerate(fields.picture_types):
            if kind != picture or t == 0:
                continue
            inside = scene.cells_inside(obj.rect(t), cell)
            err = np.hypot(fields.dx[t] - obj.velocity[0], fields.dy[t] - obj.velocity[1])
            good += int(((err <= 1.0) & fields.valid[t])[inside].sum())
            total += int(inside.sum())
    return good / total if total else float("nan")


def reference_accuracy(path: Path, scene: Scene, max_distance: int = 8) -> tuple[int, int]:
    """(correct, total) reference distances for object blocks whose vector is exactly
    ``k`` times the object's per-frame velocity for one ``k`` (the codec's true distance)."""
    records = {record.index: record for _, record in decode_records(path, export_mvs=True)}
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
    engine = VectorEngine(codec, scene.width, scene.height, 8, max_distance)
    engine.window = records
    correct = total = 0
    for record in records.values():
        blocks = record.blocks
        if blocks is None or record.picture == "I":
            continue
        for forward in (False, True):
            one_way = blocks.take(blocks.forward == forward)
            found, _ = resolve_distances(one_way, record.luma, engine.candidates(record, forward))
            sign = 1 if forward else -1
            for obj in scene.objects:
                x, y, w, h = obj.rect(record.index)
                vx, vy = obj.velocity
                inside = (one_way.x0 >= x) & (one_way.x0 + one_way.w <= x + w)
                inside &= (one_way.y0 >= y) & (one_way.y0 + one_way.h <= y + h)
                k = np.rint(one_way.mvx / (sign * vx)) if vx else np.zeros(len(one_way))
                exact = inside & (k >= 1) & (one_way.mvx == sign * k * vx)
                exact &= one_way.mvy == sign * k * vy
                correct += int((found[exact] == k[exact]).sum())
                total += int(exact.sum())
    return correct, total


def accuracy_table(cell: int = 8) -> list[str]:
    """Synthetic videos with exact motion: share of object cells within 1 px, per frame type."""
    scene = Scene()
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        videos = {
            "x264 ref=3 bframes=3 pyramid": encode(
                scene, Path(folder, "a.mp4"), "libx264", options=X264_PYRAMID, max_b_frames=3
            ),
            "mpeg4 GOP 12 (I/P)": encode(
                scene, Path(folder, "b.mp4"), "mpeg4", gop=12, bit_rate=3_000_000
            ),
        }
        for name, path in videos.items():
            correct, total = reference_accuracy(path, scene)
            lines.append(f"{name}: reference distance right for {correct}/{total} exact blocks")
        lines.append(f"{'synthetic video':28} {'max dist':>8} {'P <=1px':>8} {'B <=1px':>8}")
        for name, path in videos.items():
            for distance in (1, 2, 4, 8):
                fields = extract_motion(path, cell=cell, max_distance=distance, use_cache=False)
                p = object_accuracy(fields, scene, "P", cell)
                b = object_accuracy(fields, scene, "B", cell)
                lines.append(f"{name:28} {distance:>8} {p:>8.3f} {b:>8.3f}")
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per figure; the fastest is kept"
    )
    parser.add_argument("--stages", action="store_true", help="CPU ms/frame per stage")


def run(args: argparse.Namespace) -> int:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) before the run")
    print("fps over the first --frames frames; 'cpu' columns divide by process CPU time;")
    print(f"each figure the fastest of {args.repeat} run(s)")
    start = time.perf_counter()
    warm_up()
    print(f"compiled kernels loaded before timing: {time.perf_counter() - start:.2f} s (excluded)")
    header = ("decode", "motion", "ratio", "decode cpu", "motion cpu", "ratio cpu")
    print(f"{'clip':34}" + "".join(f"{h:>11}" for h in header))
    for name in CLIPS:
        path = args.data / "videos" / name
        best = [0.0, 0.0, 0.0, 0.0]
        for _ in range(args.repeat):
            best[0] = max(best[0], measure_decode_fps(path, args.frames))
            best[1] = max(best[1], measure_motion_fps(path, args.frames))
            best[2] = max(best[2], measure_decode_fps(path, args.frames, cpu=True))
            best[3] = max(best[3], measure_motion_fps(path, args.frames, cpu=True))
        plain, motion, plain_cpu, motion_cpu = best
        row = (plain, motion, motion / plain, plain_cpu, motion_cpu, motion_cpu / plain_cpu)
        print(f"{name:34}" + "".join(f"{v:>11.2f}" for v in row))
    if args.stages:
        for name in CLIPS[:3]:
            print(f"\nprocess CPU ms/frame by stage, one thread: {name}")
            print("\n".join(stage_table(args.data / "videos" / name, args.frames)))
    if not args.no_accuracy:
        print()
        print("\n".join(accuracy_table()))
    return 0
