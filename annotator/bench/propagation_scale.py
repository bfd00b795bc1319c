"""``bench propagation`` at scale: the motion store's bytes and resident memory on a long
video, and a drag on long gaps (figures only, nothing here is a test).

- :func:`store_section`: writes a synthetic store of ``frames`` 1080p frames (the cell the
  app picks, a smooth random motion with per-cell noise) frame by frame through
  ``StoreWriter``, opens it as the app does, fills 17 joints labelled at 10 % with
  ``hpim+mv`` from it, and drags one label; prints the cache bytes per frame and the process's
  resident memory (now and peak) after each step, then the bytes per frame of the fill's
  optical flow store at its cell (``flow_cell``) and of both together. Nothing decodes a video: the store's
  layout and sizes are those of a real one. The section runs alone (``--sections store``) so
  that the peak is its own.
- :func:`drag_long_section`: one minute of 720p at 30 fps (1800 frames, 8 px cells) with
  labels every 300 frames; ``LiveFill.update`` after each one-pixel move of one label, with
  the fields in memory and from a store, as the app does.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Visibility
from annotator.propagation.fuse import LiveFill
from annotator.propagation.registry import VideoSource
from annotator.video.motion_cache import flow_cell
from annotator.video.motion_store import MotionStore, StoreWriter, store_cell

FLOW_STORE_FRAMES = 5_000  # enough to measure the flow store's bytes per frame


def rss_mib() -> tuple[float, float]:
    """Resident memory now and the peak so far, MiB (Linux)."""
    now = 0.0
    try:
        with open("/proc/self/statm") as fh:
            now = int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        pass
    return now, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _motion(frames: int, seed: int = 0) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    vel = np.cumsum(rng.normal(0, 0.2, (frames, 2)), axis=0) * 0.1
    return np.asarray(vel - vel.mean(axis=0), dtype=np.float64)


def _track(vel: NDArray[np.float64], joints: int, origin: tuple[float, float]) -> NDArray[Any]:
    rng = np.random.default_rng(1)
    truth = np.empty((len(vel), joints, 3))
    base = rng.uniform(0, 120, (joints, 2)) + np.asarray(origin)
    truth[:, :, :2] = base[None] + np.cumsum(vel, axis=0)[:, None, :]
    truth[:, :, 2] = Visibility.VISIBLE
    return truth


def _labels(truth: NDArray[Any], keep: NDArray[np.int64]) -> NDArray[np.float64]:
    man = np.full(truth.shape, np.nan)
    man[:, :, 2] = Visibility.UNLABELLED
    man[keep] = truth[keep]
    return man


def write_synthetic_store(
    path: Path, vel: NDArray[np.float64], width: int, height: int, cell: int
) -> MotionStore:
    """A store of ``len(vel)`` frames moving by ``vel`` (px per frame) plus per-cell noise."""
    gh, gw = -(-height // cell), -(-width // cell)
    rng = np.random.default_rng(2)
    noise = rng.normal(0, 0.3, (64, 2, gh, gw)).astype(np.float32)
    residual = rng.uniform(0, 12, (64, gh, gw)).astype(np.float32)
    valid = np.ones((gh, gw), dtype=bool)
    with StoreWriter(path) as writer:
        for t, (vx, vy) in enumerate(vel):
            k = t % 64
            writer.add(
                noise[k, 0] + np.float32(vx), noise[k, 1] + np.float32(vy), valid, residual[k]
            )
        writer.finish(
            kind="mv",
            cell=cell,
            width=width,
            height=height,
            codec="synthetic",
            note="",
            picture_types="P" * len(vel),
            times=(np.arange(len(vel)) / 30.0).tolist(),
            derived=[False] * len(vel),
        )
    return MotionStore(path)


def store_section(frames: int = 100_000, joints: int = 17, folder: Path | None = None) -> None:
    width, height = 1920, 1080
    cell = store_cell(width, height)
    print(f"\nMotion store at scale: {frames} frames of {width}x{height}, cell {cell} px")
    print(f"(resident memory after imports: {rss_mib()[0]:.0f} MiB)\n")
    print("| step | seconds | resident MiB (now / peak) |\n|---|---|---|")
    vel = _motion(frames)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / "long.mvs"
        t = time.perf_counter()
        store = write_synthetic_store(path, vel, width, height, cell)
        _row("write the store frame by frame", t)
        per_frame = path.stat().st_size / frames
        t = time.perf_counter()
        store = MotionStore(path)
        _row("open (check) the store", t)
        truth = _track(vel, joints, (800.0, 400.0))
        keep = np.unique(np.linspace(0, frames - 1, int(np.ceil(0.1 * frames))).round())
        man = _labels(truth, keep.astype(np.int64))
        t = time.perf_counter()
        live = LiveFill("hpim+mv", VideoSource(fields=store), fps=30.0)
        live.reset(man)
        _row("hpim+mv fill of every frame, labels at 10 %", t)
        frame = int(keep[len(keep) // 2])
        t = time.perf_counter()
        for step in range(10):
            man[frame, 5, 0] += 1.0 if step % 2 == 0 else -1.0
            live.update(man, (frame, frame), [5])
        _row("10 drag steps (LiveFill.update)", t)
        print(
            f"\ncache on disk: {per_frame / 1000:.1f} KB per frame "
            f"({store.bytes_per_frame:,} bytes of fields + {per_frame - store.bytes_per_frame:.0f}"
            f" of per-frame metadata), {path.stat().st_size / 2**30:.2f} GiB in all"
        )
        # The fill's optical flow store beside it (``motion_cache.flow_cell``): same layout.
        flow, count = flow_cell(cell), min(frames, FLOW_STORE_FRAMES)
        flow_path = Path(tmp) / "flow.mvs"
        write_synthetic_store(flow_path, vel[:count], width, height, flow)
        flow_per_frame = flow_path.stat().st_size / count
        print(
            f"the fill's flow store beside it (cell {flow} px, {count} frames written): "
            f"{flow_per_frame / 1000:.1f} KB per frame; both stores "
            f"{(per_frame + flow_per_frame) / 1000:.1f} KB per frame"
        )


def _row(label: str, start: float) -> None:
    now, peak = rss_mib()
    print(f"| {label} | {time.perf_counter() - start:.1f} | {now:.0f} / {peak:.0f} |")


def drag_long_section(steps: int = 30, gap: int = 300, joints: int = 17) -> None:
    """A drag with hpim+mv on a one-minute 720p video with labels every ``gap`` frames."""
    frames, width, height, cell = 1800, 1280, 720, 8
    vel = _motion(frames, seed=3)
    truth = _track(vel, joints, (560.0, 300.0))
    keep = np.unique(np.append(np.arange(0, frames, gap), frames - 1)).astype(np.int64)
    print(
        f"\ndrag on long gaps: {frames} frames of {width}x{height} (one minute at 30 fps), "
        f"{joints} joints labelled every {gap} frames, hpim+mv, {steps} one-pixel moves of one "
        "label (LiveFill.update, the dragged joint named as the app does)\n"
    )
    print("| fields | median ms wall / CPU | max ms wall |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        store = write_synthetic_store(Path(tmp) / "minute.mvs", vel, width, height, cell)
        sources = (("in memory", store.fields()), ("motion store (the app)", store))
        for label, fields in sources:
            man = _labels(truth, keep)
            live = LiveFill("hpim+mv", VideoSource(fields=fields), fps=30.0)
            live.reset(man)
            frame = int(keep[len(keep) // 2])
            walls, cpus = [], []
            for step in range(steps):
                man[frame, 5, 0] += 1.0 if step % 2 == 0 else -1.0
                t, c = time.perf_counter(), time.process_time()
                live.update(man, (frame, frame), [5])
                walls.append(time.perf_counter() - t)
                cpus.append(time.process_time() - c)
            print(
                f"| {label} | {1e3 * float(np.median(walls)):.1f} / "
                f"{1e3 * float(np.median(cpus)):.1f} | {1e3 * max(walls):.1f} |"
            )


def store_accuracy_section(data: Path, budgets: tuple[float, ...] = (0.05, 0.1, 0.2)) -> None:
    """``hpim+mv`` on the real clips from the app's store (the cell ``store_cell`` picks)
    against the 8 px fields of the table above: what the disk bound costs in accuracy."""
    from annotator.bench.propagation import ALPHA, REAL_CLIPS, _keep_only
    from annotator.core.framespec import uniform_count, uniform_frames
    from annotator.core.metrics import body_size, mean_error_pct, pck
    from annotator.dynamics.fill import manual_of
    from annotator.formats import registry
    from annotator.propagation.fuse import fill_with
    from annotator.video.motion_cache import default_cell, open_motion

    print("\nhpim+mv from the app's motion store (cell chosen for < 100 KB a frame) against")
    print("8 px cells: PCK@0.05 in % / mean error in % of body size\n")
    head = " | ".join(f"{int(b * 100)} %: 8 px / store" for b in budgets)
    print(f"| clip | store cell | KB per frame | {head} |")
    print("|---" * (3 + len(budgets)) + "|")
    for name in REAL_CLIPS:
        mat = data / "realgt" / f"{name}.mat"
        video = data / "videos" / f"{name}.mp4"
        if not mat.is_file() or not video.is_file():
            continue
        ps = registry.guess(mat).read(mat)
        inst = ps.instances[0]
        gt = np.asarray(inst.poses, dtype=np.float64)
        vis = gt[:, :, 2] == Visibility.VISIBLE
        body = body_size(gt[:, :, :2], boxes=inst.boxes)
        cell = default_cell(video)
        stores = (open_motion(video, cell=8), open_motion(video))
        cells = []
        for budget in budgets:
            keep = uniform_frames(ps.frame_count, uniform_count(ps.frame_count, budget))
            man = _keep_only(manual_of(inst), keep)
            scored = vis.copy()
            scored[keep] = False
            pair = []
            for store in stores:
                p = fill_with(man, VideoSource(fields=store), "hpim+mv", fps=ps.fps).poses
                pair.append(
                    f"{100 * pck(p[..., :2], gt[..., :2], scored, body, ALPHA):.1f} / "
                    f"{mean_error_pct(p[..., :2], gt[..., :2], scored, body):.2f}"
                )
            cells.append(" vs ".join(pair))
        size = stores[1].path.stat().st_size / len(stores[1]) / 1000
        print(f"| {name} | {cell} | {size:.1f} | " + " | ".join(cells) + " |")


def gate_speed_section(frames: int = 3000, repeat: int = 3) -> None:
    """The shipped gate on ``frames`` frames of 720p fields (8 px cells, random motion and
    residual) in memory: input maps, network and decisions, without and with a budget."""
    from annotator.propagation.gate import frame_maps_reference, gate_fields, load_gate
    from annotator.video.motion import MotionFields

    rng = np.random.default_rng(0)
    gh, gw = 90, 160
    dx = rng.normal(0, 1, (frames, gh, gw)).astype(np.float32)
    fields = MotionFields(
        dx=dx,
        dy=rng.normal(0, 1, (frames, gh, gw)).astype(np.float32),
        valid=np.ones(dx.shape, dtype=bool),
        residual=rng.uniform(0, 10, dx.shape).astype(np.float32),
        picture_types=("P",) * frames,
        times=np.arange(frames) / 30.0,
        derived=np.zeros(frames, dtype=bool),
        kind="mv",
        cell=8,
        width=gw * 8,
        height=gh * 8,
        codec="synthetic",
    )
    model = load_gate(None)
    gate_fields(model, fields)  # loads the compiled maps and the network once
    print(f"\ngate inference on {frames} frames of 1280x720 fields (best of {repeat})\n")
    print("| step | frames/s wall | frames/s CPU |\n|---|---|---|")
    rows = (
        ("input maps, torch (the reference)", lambda: frame_maps_reference(fields)),
        ("gate, no budget (maps + network + decisions)", lambda: gate_fields(model, fields)),
        (
            "gate, budget of 10 % (bisection on the price)",
            lambda: gate_fields(model, fields, budget=frames // 10),
        ),
    )
    for label, fn in rows:
        wall = cpu = float("inf")
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
        print(f"| {label} | {frames / wall:.0f} | {frames / cpu:.0f} |")
