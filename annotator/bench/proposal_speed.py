"""``annotator bench proposal-speed``: K-FPN proposals against the time it takes to decode.

Prints, for one video (default: the sample clip), first where a cold run's time goes
(``proposal_stages``: decode, resize, backbone reference and folded, K-FPN, search; wall and
CPU time), then on the CPU and, when torch sees a CUDA GPU, on it too:

- decoding with RGB conversion alone (the reader's ``iter_frames``): the floor;
- proposals end to end from a cold cache (open, decode, backbone, K-FPN, search), with the
  decoding overlapped with the backbone (``features.decoded_batches``) and without, and with
  torch on every core or on one less, beside the decoding thread (the default,
  ``features.backbone_threads``);
- proposals again with the features cached (what the app's second run and the ranking pay);
- with a GPU: the share of proposed frames the CPU and GPU runs share (at least 95 % is the
  agreement ``packaging/gpu_checks.py`` checks).

The backbone runs at ``--input-size`` (default: the app's, ``backbones.DEFAULT_INPUT_SIZE``),
on every ``--feature-step``-th frame (default the app's, ``backbones.PROPOSAL_STEP``; with
it a last row times the app's reading for ``N`` that follows the proposals and completes their
cache to every frame).
Every row gives wall and CPU seconds (``time.process_time``, all threads) and the load average
when the run started: on a machine shared with other jobs the wall figures are not its speed.

``--long-frames N`` adds the memory check for long videos: a synthetic feature stream of N
frames (float16 on disk, as the cache holds it) goes through ``propose_from_features`` in a
child process, which reports its peak resident memory and time. No frames are decoded for it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from annotator.errors import UsageError

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "resources" / "samples" / "taiji.mp4"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="the video to time")
    parser.add_argument("--budget", type=float, default=0.1, help="share of frames proposed")
    parser.add_argument(
        "--long-frames",
        type=int,
        default=0,
        help="also measure memory on a synthetic feature stream of this many frames",
    )
    parser.add_argument(
        "--devices", default="auto", help="cpu, cuda or auto (cpu, and cuda if any)"
    )
    parser.add_argument(
        "--input-size", type=int, default=None, help="backbone input in px (default: the app's)"
    )
    parser.add_argument(
        "--feature-step",
        type=int,
        default=None,
        help="the backbone on every N-th frame (default: the app's, every other frame)",
    )
    parser.add_argument(
        "--profile-frames",
        type=int,
        default=96,
        help="frames for the per-stage table (decode, resize, backbone); 0 skips it",
    )


def decode_seconds(video: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds to decode every frame with RGB conversion, and the frame count."""
    from annotator.video.base import open_video

    start, cpu = time.perf_counter(), time.process_time()
    n = 0
    with open_video(video) as reader:
        for _ in reader.iter_frames():
            n += 1
    return time.perf_counter() - start, time.process_time() - cpu, n


def propose_seconds(
    video: Path,
    budget: float,
    device: str,
    overlap: bool = True,
    input_size: int | None = None,
    threads: int | None = None,
    step: int | None = None,
) -> tuple[float, float, list[int]]:
    """Wall and CPU seconds for proposals end to end (the features cache as it is), and
    their frames."""
    from annotator.proposal import kfpn
    from annotator.proposal.features import reading, video_features
    from annotator.proposal.registry import resolve_budget

    start, cpu = time.perf_counter(), time.process_time()
    model = kfpn.load_model()
    with reading(video) as source:
        feats = video_features(
            source,
            model.config.backbone,
            device=device,
            mmap=True,
            overlap=overlap,
            input_size=input_size,
            threads=threads,
            step=step,
        )
        want = resolve_budget(budget, source.frame_count)
        result = kfpn.propose_from_features(model, feats, source.fps, want, device)
    return time.perf_counter() - start, time.process_time() - cpu, result.frames


def ranking_seconds(video: Path, device: str) -> tuple[float, float]:
    """Wall and CPU seconds of the app's reading for ``N`` after the proposals (their
    features cache as it is): the backbone on the frames the proposals left out, then the
    ranking's descriptors."""
    from annotator.proposal.ranking_video import ranking_descriptors

    start, cpu = time.perf_counter(), time.process_time()
    ranking_descriptors(video, device=device)
    return time.perf_counter() - start, time.process_time() - cpu


def _cold(cache: Path, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` with an empty features cache (``ANNOTATOR_CACHE_DIR`` moved to ``cache``)."""
    old = os.environ.get("ANNOTATOR_CACHE_DIR")
    os.environ["ANNOTATOR_CACHE_DIR"] = str(cache)
    try:
        return fn(*args)
    finally:
        if old is None:
            os.environ.pop("ANNOTATOR_CACHE_DIR", None)
        else:
            os.environ["ANNOTATOR_CACHE_DIR"] = old


def devices(text: str) -> list[str]:
    import torch

    cuda = torch.cuda.is_available()
    if text == "auto":
        return ["cpu", "cuda"] if cuda else ["cpu"]
    names = [d.strip() for d in text.split(",") if d.strip()]
    if "cuda" in names and not cuda:
        raise UsageError("--devices cuda was asked for but no CUDA GPU is available here")
    return names


def speed_table(
    video: Path,
    budget: float,
    names: list[str],
    input_size: int | None = None,
    profile_frames: int = 0,
    step: int | None = None,
) -> dict[str, list[int]]:
    from annotator.proposal.backbones import DEFAULT_INPUT_SIZE, PROPOSAL_STEP

    size = DEFAULT_INPUT_SIZE if input_size is None else input_size
    every = PROPOSAL_STEP if step is None else step
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{video.name}; backbone input {size} px, "
        + ("every frame" if every == 1 else f"every {every} frames and the last")
        + f"; {os.cpu_count()} CPU cores, load average "
        f"{load:.1f} at the start\n"
    )
    if profile_frames > 0:
        from annotator.bench.proposal_stages import HEADER, front_stages

        print("Stages of a cold run, each alone (CPU):\n")
        print(HEADER)
        for stage in front_stages(video, size, profile_frames):
            print(stage.row())
    decode_s, decode_cpu, count = decode_seconds(video)
    print(f"\n{count} frames\n")
    print("| device | run | seconds | CPU s | frames/s | x decode time |")
    print("|---|---|---|---|---|---|")
    _row("cpu", "decode with RGB only", decode_s, decode_cpu, count, decode_s)
    frames: dict[str, list[int]] = {}
    back: list[Any] = []
    for device in names:
        with tempfile.TemporaryDirectory() as tmp:
            for n, (label, overlap, threads) in enumerate(_cold_runs(device)):
                cache = Path(tmp) / str(n)
                wall, cpu, picked = _cold(
                    cache, propose_seconds, video, budget, device, overlap, size, threads, every
                )
                _row(device, label, wall, cpu, count, decode_s)
            wall, cpu, picked = _cold(
                cache, propose_seconds, video, budget, device, True, size, None, every
            )
            _row(device, "features cached", wall, cpu, count, decode_s)
            if every == PROPOSAL_STEP > 1 and size == DEFAULT_INPUT_SIZE:  # the app's N
                wall, cpu = _cold(cache, ranking_seconds, video, device)
                _row(
                    device, "then N's reading (completes the features)", wall, cpu, count, decode_s
                )
            if device == "cpu" and profile_frames > 0:
                back = _cold(cache, _back_stages, video, budget, size, every)
        frames[device] = picked
    if back:
        from annotator.bench.proposal_stages import HEADER

        print("\nStages after the backbone, on the whole video's cached features (CPU):\n")
        print(HEADER)
        for stage in back:
            print(stage.row())
    if "cpu" in frames and "cuda" in frames:
        shared = len(set(frames["cpu"]) & set(frames["cuda"])) / max(len(frames["cpu"]), 1)
        print(f"\nproposed frames shared by CPU and GPU: {100 * shared:.1f} %")
    return frames


def _cold_runs(device: str) -> list[tuple[str, bool, int | None]]:
    """(label, overlap, torch threads) of the cold runs; the last is the app's default."""
    if device != "cpu":
        return [("cold cache, sequential", False, None), ("cold cache, overlapped", True, None)]
    from annotator.proposal.features import backbone_threads

    cores, default = backbone_threads(False), backbone_threads(True)
    runs: list[tuple[str, bool, int | None]] = [
        (f"cold cache, sequential, {cores} torch threads", False, cores)
    ]
    if default != cores:
        runs.append((f"cold cache, overlapped, {cores} torch threads", True, cores))
    runs.append((f"cold cache, overlapped, {default} torch threads (default)", True, None))
    return runs


def _back_stages(video: Path, budget: float, size: int, step: int) -> list[Any]:
    from annotator.bench.proposal_stages import back_stages
    from annotator.proposal.backbones import DEFAULT_BACKBONE
    from annotator.proposal.features import reading, video_features
    from annotator.proposal.registry import resolve_budget

    with reading(video) as source:
        feats = video_features(source, DEFAULT_BACKBONE, input_size=size, step=step)
        return back_stages(feats, source.fps, resolve_budget(budget, source.frame_count))


def _row(device: str, label: str, wall: float, cpu: float, count: int, decode_s: float) -> None:
    print(
        f"| {device} | {label} | {wall:.2f} | {cpu:.2f} | {count / wall:.0f} | "
        f"{wall / decode_s:.2f} |"
    )


def long_stream(frames: int) -> dict[str, float]:
    """Peak resident memory (MiB) and seconds of proposals on a synthetic ``frames``-frame
    feature stream, measured in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.npy"
        store = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.float16, shape=(frames, 320, 7, 7)
        )
        rng = np.random.default_rng(0)
        walk = np.zeros((320, 7, 7), np.float32)
        for start in range(0, frames, 1024):
            shape = (min(1024, frames - start), 320, 7, 7)
            steps = 0.05 * rng.standard_normal(shape, dtype=np.float32)
            block = walk + np.cumsum(steps, axis=0)
            walk = block[-1]
            store[start : start + len(block)] = block
        store.flush()
        del store
        code = (
            "import json, resource, sys, time\n"
            "from annotator.bench.proposal_speed import _long_child\n"
            "print(json.dumps(_long_child(sys.argv[1])))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise UsageError(f"the long-stream run failed: {out.stderr.strip().splitlines()[-1:]}")
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return result


def _peak_mib() -> float:
    """This process's own peak resident memory (``VmHWM``). Not ``ru_maxrss``: exec keeps the
    parent's peak in it, here the parent's pass writing the synthetic stream."""
    import resource

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def _long_child(path: str) -> dict[str, float]:
    """Run in a child: proposals (10 % budget) on the memory-mapped features at ``path``."""
    from annotator.proposal import kfpn
    from annotator.proposal.features import FeatureFile

    model = kfpn.load_model()
    feats = cast(np.ndarray, FeatureFile(Path(path)))  # as video_features(mmap=True) gives
    start = time.perf_counter()
    result = kfpn.propose_from_features(model, feats, 30.0, max(2, len(feats) // 10))
    seconds = time.perf_counter() - start
    return {
        "frames": len(feats),
        "proposed": len(result.frames),
        "seconds": seconds,
        "peak_mib": _peak_mib(),
    }


def run(args: argparse.Namespace) -> int:
    if not args.video.is_file():
        raise UsageError(f"video not found: {args.video}")
    if not 0 < args.budget < 1:
        raise UsageError("--budget must be a share of the frames in (0, 1)")
    if args.input_size is not None:
        from annotator.proposal.backbones import check_input_size

        check_input_size(args.input_size)
    from annotator.proposal.backbones import check_feature_step

    check_feature_step(args.feature_step)
    speed_table(
        args.video,
        args.budget,
        devices(args.devices),
        args.input_size,
        args.profile_frames,
        args.feature_step,
    )
    if args.long_frames:
        r = long_stream(args.long_frames)
        print(
            f"\nlong stream: {int(r['frames'])} frames of features on disk, {int(r['proposed'])} "
            f"proposed in {r['seconds']:.0f} s, peak resident memory {r['peak_mib']:.0f} MiB"
        )
    return 0
