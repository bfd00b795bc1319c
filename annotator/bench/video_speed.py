"""``annotator bench video``: how fast the frame reader is on real clips and on a long file.

For every video in ``--data`` plus a generated 1080p, ≥ 4 Mb/s H.264 file of ``--frames``
frames (100 000 by default; made once by repeating an encoded segment, kept in the cache
folder), it prints: time to first frame, time until the packet index is ready, sequential
decode rate (bare PyAV, bare PyAV with RGB conversion, the reader's ``iter_frames``), cached
step latency, cold seek latency against its bound (frames from the key frame × per-frame
decode time + 10 ms), and peak memory growth while scrubbing against the cache bound. For the
real clips it then sets motion-field extraction (vectors + residual, ``extract_motion`` without
its cache) against plain decoding of the same frames (``annotator.bench.motion_speed``; the
target is at least half the decode rate).

The index cache is pointed at a fresh temporary folder, so every index is built cold.
Figures depend on the machine's load: re-run on a quiet machine for numbers to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import av
import numpy as np

from annotator.core.paths import cache_dir
from annotator.errors import UsageError
from annotator.video import open_video

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm"}
SEGMENT_FRAMES = 250  # one x264 default-length GOP, repeated to make the long file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default_data = Path(os.environ.get("ANNOTATOR_DATA", "../shared/data")) / "videos"
    parser.add_argument("--data", type=Path, default=default_data, help="folder of videos")
    parser.add_argument("--frames", type=int, default=100_000, help="length of the long file")
    parser.add_argument(
        "--quick", action="store_true", help="10 000-frame long file, fewer seeks and frames"
    )
    parser.add_argument("--seeks", type=int, default=40, help="cold seeks per video")
    parser.add_argument("--cache-frames", type=int, default=64, help="reader cache size")
    parser.add_argument("--no-long", action="store_true", help="skip the generated long file")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--no-motion", action="store_true", help="skip the motion-field extraction table"
    )


def run(args: argparse.Namespace) -> int:
    if not args.data.is_dir():
        raise UsageError(f"--data {args.data} is not a folder of videos")
    videos = sorted(p for p in args.data.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    frames = 10_000 if args.quick else args.frames
    seeks = min(args.seeks, 15) if args.quick else args.seeks
    if not args.no_long:
        videos.append(long_file(frames))
    results = []
    saved = os.environ.get("ANNOTATOR_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as tmp:
        os.environ["ANNOTATOR_CACHE_DIR"] = tmp  # cold index for every file
        try:
            for path in videos:
                print(f"# {path.name} ...", flush=True)
                results.append(bench_one(path, seeks, args.cache_frames, args.quick))
        finally:
            if saved is None:
                del os.environ["ANNOTATOR_CACHE_DIR"]
            else:
                os.environ["ANNOTATOR_CACHE_DIR"] = saved
    motion = []
    if not args.no_motion:
        for path in videos if args.no_long else videos[:-1]:
            print(f"# motion fields: {path.name} ...", flush=True)
            motion.append(motion_one(path, 200 if args.quick else 400))
    print()
    print(table(results))
    if motion:
        print()
        print(motion_table(motion))
    if args.json:
        args.json.write_text(json.dumps({"reader": results, "motion": motion}, indent=1))
    return 0


def motion_one(path: Path, frames: int, repeat: int = 3) -> dict[str, Any]:
    """Plain decode and field + residual extraction rates over the first ``frames`` frames,
    each the best of ``repeat`` runs, by wall clock and by process CPU time."""
    from annotator.bench.motion_speed import measure_decode_fps, measure_motion_fps

    def best(measure: Callable[..., float], cpu: bool) -> float:
        return max(measure(path, frames, cpu=cpu) for _ in range(repeat))

    decode, motion = best(measure_decode_fps, False), best(measure_motion_fps, False)
    decode_cpu, motion_cpu = best(measure_decode_fps, True), best(measure_motion_fps, True)
    return {
        "video": path.name,
        "fps_decode": decode,
        "fps_motion": motion,
        "ratio": motion / decode,
        "fps_decode_cpu": decode_cpu,
        "fps_motion_cpu": motion_cpu,
        "ratio_cpu": motion_cpu / decode_cpu,
    }


def motion_table(rows: list[dict[str, Any]]) -> str:
    """Motion-field extraction against plain decoding (target: ratio at least 0.5)."""
    head = (
        "| video | decode fps | fields + residual fps | ratio (wall) "
        "| decode fps (CPU) | fields + residual fps (CPU) | ratio (CPU) |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        lines.append(
            f"| {r['video']} | {r['fps_decode']:.0f} | {r['fps_motion']:.0f} | {r['ratio']:.2f} "
            f"| {r['fps_decode_cpu']:.0f} | {r['fps_motion_cpu']:.0f} | {r['ratio_cpu']:.2f} |"
        )
    return "\n".join(lines)


# ---- the long file -------------------------------------------------------------------------


def long_file(frames: int, width: int = 1920, height: int = 1080, fps: int = 25) -> Path:
    """A ``frames``-long 1080p H.264 file (cached): one encoded GOP, its packets repeated."""
    out = cache_dir("bench") / f"long_{width}x{height}_{frames}.mp4"
    if out.exists():
        return out
    segment = out.with_suffix(".segment.mp4")
    _encode_segment(segment, width, height, fps)
    tmp = out.with_suffix(".part.mp4")
    with av.open(str(segment)) as src, av.open(str(tmp), "w") as dst:
        in_stream = src.streams.video[0]
        stream = dst.add_stream_from_template(in_stream)
        time_base = in_stream.time_base or Fraction(1, fps * 512)
        packets = [
            (bytes(p), int(p.pts or 0), int(p.dts or 0), p.is_keyframe)
            for p in src.demux(in_stream)
            if p.size
        ]
        step = round(Fraction(SEGMENT_FRAMES, fps) / time_base)
        written = 0
        while written < frames:
            offset = (written // SEGMENT_FRAMES) * step
            for data, pts, dts, key in packets[: frames - written]:
                packet = av.Packet(data)
                packet.pts, packet.dts = pts + offset, dts + offset
                packet.is_keyframe = key
                packet.time_base = time_base
                packet.stream = stream
                dst.mux(packet)
            written += min(SEGMENT_FRAMES, frames - written)
    os.replace(tmp, out)
    segment.unlink()
    return out


def _encode_segment(path: Path, width: int, height: int, fps: int) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 48, (height, width, 3), dtype=np.uint8)
    y, x = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps * 512)
        stream.options = {
            "preset": "ultrafast",
            "g": str(SEGMENT_FRAMES),
            "keyint_min": str(SEGMENT_FRAMES),
            "sc_threshold": "0",
            "bf": "2",
            "b": "5M",  # ≥ 4 Mb/s like a camera file
        }
        for i in range(SEGMENT_FRAMES):
            img = np.empty((height, width, 3), np.uint8)
            img[..., 0] = (x + 6 * i) % 256
            img[..., 1] = (y + 3 * i) % 256
            img[..., 2] = ((x + y) // 4 + 5 * i) % 256
            img += np.roll(noise, 7 * i, axis=1)  # texture that moves, so P-frames cost bits
            container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        container.mux(stream.encode(None))


# ---- measurements --------------------------------------------------------------------------


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM, the peak resident size
        return True
    except OSError:
        return False


def _bare_loop(path: Path, limit: int, rgb: bool) -> tuple[float, float]:
    """Seconds of wall and CPU time per frame of a plain PyAV decode loop."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        n = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for frame in container.decode(stream):
            if rgb:
                frame.to_ndarray(format="rgb24")
            n += 1
            if n >= limit:
                break
        return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds of ``fn()``; CPU time suffers less from other users' load."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _share(values: list[float], bounds: list[float]) -> float:
    return sum(v <= b for v, b in zip(values, bounds, strict=True)) / max(1, len(values))


def _p(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def bench_one(path: Path, seeks: int, cache_frames: int, quick: bool) -> dict[str, Any]:
    start = time.perf_counter()
    reader = open_video(path, cache_frames=cache_frames, decode_ahead=0)
    reader.frame(0)
    first_frame = time.perf_counter() - start
    reader.wait_for_index()
    index_s = time.perf_counter() - start
    n = reader.frame_count
    limit = min(n, 300 if quick else 600)
    # sequential: bare PyAV, bare with RGB, the reader's fast path, on the same frames;
    # interleaved, best of 3 per clock, which filters out some of a shared machine's noise
    per: dict[str, list[tuple[float, float]]] = {"bare": [], "rgb": [], "reader": []}
    for _ in range(3):
        per["bare"].append(_bare_loop(path, limit, rgb=False))
        per["rgb"].append(_bare_loop(path, limit, rgb=True))
        wall, cpu = _timed(lambda: sum(1 for _ in reader.iter_frames(0, limit)))
        per["reader"].append((wall / limit, cpu / limit))
    wall_pf = {k: min(w for w, _ in v) for k, v in per.items()}
    cpu_pf = {k: min(c for _, c in v) for k, v in per.items()}
    info = reader.info()
    keys = reader.key_frames
    assert keys is not None
    reader.close()
    rng = random.Random(path.name)
    # cold seeks: no decode-ahead; every cache and the decoder position dropped before each.
    # Bound: frames from the key frame x one frame's decode time (bare loop) + 10 ms
    seek_wall, seek_cpu, bound_wall, bound_cpu, distances = [], [], [], [], []
    with open_video(path, cache_frames=cache_frames, decode_ahead=0) as seeker:
        for _ in range(seeks):
            i = rng.randrange(n)
            seeker.clear_cache()
            frames = i - int(keys[np.searchsorted(keys, i, side="right") - 1]) + 1
            wall, cpu = _timed(partial(seeker.frame, i))
            seek_wall.append(wall * 1000)
            seek_cpu.append(cpu * 1000)
            distances.append(frames)
            bound_wall.append(frames * wall_pf["bare"] * 1000 + 10)
            bound_cpu.append(frames * cpu_pf["bare"] * 1000 + 10)
    # cached steps as the GUI makes them: land somewhere, then step back (arrow key held)
    steps: list[float] = []
    with open_video(path, cache_frames=cache_frames) as reader:
        target = min(n - 1, int(keys[len(keys) // 2]) + min(40, cache_frames - 1))
        reader.frame(target)
        for j in range(target - 1, max(-1, target - min(cache_frames, 40)), -1):
            time.sleep(1 / 30)  # a held arrow key repeats at about 30 Hz
            steps.append(_timed(partial(reader.frame, j))[0] * 1000)
    # memory while scrubbing (random jumps, each followed by a few steps): cache content and
    # peak resident growth, against the bound the cache setting implies
    with open_video(path, cache_frames=cache_frames) as reader:
        base = _rss_mb("VmRSS")
        peak_ok = _reset_peak()
        samples, held = [base], [0]
        for _ in range(10 if quick else 25):
            i = rng.randrange(n)
            for j in range(i, min(n, i + 4)):
                reader.frame(j)
                samples.append(_rss_mb("VmRSS"))
                held.append(reader.cache_bytes())
        peak = _rss_mb("VmHWM") if peak_ok else max(samples)
    frame_mb = int(info["width"]) * int(info["height"]) * 3 / 2**20
    return {
        "video": path.name,
        "size": f"{info['width']}x{info['height']}",
        "codec": info["codec"],
        "frames": n,
        "max_gop": info["max_gop"],
        "first_frame_s": first_frame,
        "index_ready_s": index_s,
        "fps_bare": 1 / wall_pf["bare"],
        "fps_bare_rgb": 1 / wall_pf["rgb"],
        "fps_reader": 1 / wall_pf["reader"],
        "overhead_wall_pct": (wall_pf["reader"] / wall_pf["rgb"] - 1) * 100,
        "cpu_ms_bare": cpu_pf["bare"] * 1000,
        "cpu_ms_bare_rgb": cpu_pf["rgb"] * 1000,
        "cpu_ms_reader": cpu_pf["reader"] * 1000,
        "overhead_cpu_pct": (cpu_pf["reader"] / cpu_pf["rgb"] - 1) * 100,
        "cached_step_ms_p50": _p(steps, 50),
        "cached_step_ms_max": max(steps) if steps else float("nan"),
        "seek_ms_p50": _p(seek_wall, 50),
        "seek_ms_p95": _p(seek_wall, 95),
        "seek_cpu_ms_p50": _p(seek_cpu, 50),
        "seek_cpu_ms_p95": _p(seek_cpu, 95),
        "seek_frames_p50": _p(distances, 50),
        "seek_frames_p95": _p(distances, 95),
        "seek_bound_ms_p50": _p(bound_wall, 50),
        "seek_within_bound": _share(seek_wall, bound_wall),
        "seek_within_bound_cpu": _share(seek_cpu, bound_cpu),
        "scrub_peak_mb": peak - base,
        "scrub_cache_mb_max": max(held) / 2**20,
        "cache_bound_mb": cache_frames * frame_mb,
    }


def table(results: list[dict[str, Any]]) -> str:
    """Two markdown tables: start-up and sequential decoding; seeking, stepping, memory."""
    head1 = (
        "| video | size | frames | max GOP | first frame s | index ready s "
        "| fps bare / +RGB / reader | overhead (wall) | CPU ms/frame bare / +RGB / reader "
        "| overhead (CPU) |"
    )
    head2 = (
        "| video | cold seek ms p50 / p95 | seek CPU ms p50 / p95 | frames decoded p50 / p95 "
        "| bound ms p50 | within bound (wall / CPU) | cached step ms p50 / max "
        "| scrub: cache MB / RSS growth MB / bound MB |"
    )
    lines = [head1, "|" + "---|" * head1.count(" | ") + "---|"]
    for r in results:
        lines.append(
            f"| {r['video']} | {r['size']} | {r['frames']} | {r['max_gop']} "
            f"| {r['first_frame_s']:.3f} | {r['index_ready_s']:.2f} "
            f"| {r['fps_bare']:.0f} / {r['fps_bare_rgb']:.0f} / {r['fps_reader']:.0f} "
            f"| {r['overhead_wall_pct']:+.0f}% "
            f"| {r['cpu_ms_bare']:.2f} / {r['cpu_ms_bare_rgb']:.2f} / {r['cpu_ms_reader']:.2f} "
            f"| {r['overhead_cpu_pct']:+.0f}% |"
        )
    lines += ["", head2, "|" + "---|" * head2.count(" | ") + "---|"]
    for r in results:
        lines.append(
            f"| {r['video']} | {r['seek_ms_p50']:.0f} / {r['seek_ms_p95']:.0f} "
            f"| {r['seek_cpu_ms_p50']:.0f} / {r['seek_cpu_ms_p95']:.0f} "
            f"| {r['seek_frames_p50']:.0f} / {r['seek_frames_p95']:.0f} "
            f"| {r['seek_bound_ms_p50']:.0f} "
            f"| {r['seek_within_bound']:.0%} / {r['seek_within_bound_cpu']:.0%} "
            f"| {r['cached_step_ms_p50']:.1f} / {r['cached_step_ms_max']:.1f} "
            f"| {r['scrub_cache_mb_max']:.0f} / {r['scrub_peak_mb']:.0f} "
            f"/ {r['cache_bound_mb']:.0f} |"
        )
    return "\n".join(lines)
