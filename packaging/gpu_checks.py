"""Run every GPU check of the proposal code in one call and print a table.

    python packaging/gpu_checks.py [--frames 64] [--model models/kfpn.pt]

Checks: the device torch sees; EfficientNet-Lite0 features on the GPU against the CPU (max
relative difference); K-FPN window scores and proposed frames on the GPU against the CPU;
backbone throughput (frames per second) on each device; with a GPU, ``annotator bench
proposal-speed`` on the sample clip (its table is printed) and the share of proposed frames
the CPU and GPU runs share (at least 95 %). Without a CUDA GPU the CPU rows still
run, the GPU rows say "skipped (no CUDA GPU)", and the script exits 0: it is safe in CI and on
laptops. Exit status 1 means a check ran and failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

Row = tuple[str, str, str, str]  # check, device, result, detail


def _frames(count: int) -> np.ndarray:
    """A deterministic moving pattern at 224 px (content only matters for CPU/GPU agreement)."""
    y, x = np.mgrid[0:224, 0:224]
    out = np.empty((count, 224, 224, 3), np.uint8)
    for i in range(count):
        out[i, ..., 0] = (x + 3 * i) % 256
        out[i, ..., 1] = (y * 2 + i) % 256
        out[i, ..., 2] = ((x - 112) ** 2 + (y - 112 - i) ** 2 < 1600) * 220
    return out


def _throughput(fn: Callable[[], object], frames: int) -> float:
    fn()  # warm-up (cuDNN autotune, lazy init)
    start = time.perf_counter()
    fn()
    return frames / (time.perf_counter() - start)


def run_checks(frames: int, model_path: Path | None) -> tuple[list[Row], bool]:
    import torch

    from annotator.proposal.backbones import Backbone
    from annotator.proposal.kfpn import load_model, propose_from_features, window_scores

    rows: list[Row] = []
    ok = True
    cuda = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if cuda else "none"
    rows.append(
        ("CUDA available", "-", "yes" if cuda else "no", f"torch {torch.__version__}, GPU: {name}")
    )
    batch = _frames(frames)

    cpu_backbone = Backbone("efficientnet-lite0", device="cpu")
    cpu_feats = cpu_backbone(batch)
    fps_cpu = _throughput(lambda: cpu_backbone(batch), frames)
    rows.append(
        (
            "backbone throughput",
            "cpu",
            f"{fps_cpu:.1f} frames/s",
            f"{frames} frames at {cpu_backbone.input_size} px",
        )
    )

    model = load_model(model_path) if (model_path or Path("models/kfpn.pt")).is_file() else None
    positions = np.arange(frames)
    cpu_props = None
    if model is not None:
        _, cpu_scores = window_scores(model, cpu_feats, positions, "cpu")
        cpu_props = propose_from_features(model, cpu_feats, 30.0, max(2, frames // 10), "cpu")
        rows.append(("K-FPN on CPU", "cpu", "ran", f"{len(cpu_props.frames)} frames proposed"))
    else:
        rows.append(("K-FPN model", "-", "skipped", "no model file (train one first)"))

    if not cuda:
        for check in ("backbone GPU vs CPU", "backbone throughput", "K-FPN GPU vs CPU"):
            rows.append((check, "cuda", "skipped (no CUDA GPU)", "fell back to CPU only"))
        return rows, ok

    gpu_backbone = Backbone("efficientnet-lite0", device="cuda")
    gpu_feats = gpu_backbone(batch)
    rel = float(np.abs(gpu_feats - cpu_feats).max() / max(np.abs(cpu_feats).max(), 1e-12))
    passed = rel < 1e-2
    ok &= passed
    rows.append(
        ("backbone GPU vs CPU", "cuda", "pass" if passed else "FAIL", f"max rel diff {rel:.2e}")
    )

    def gpu_run() -> None:
        gpu_backbone(batch)
        torch.cuda.synchronize()

    fps_gpu = _throughput(gpu_run, frames)
    rows.append(
        ("backbone throughput", "cuda", f"{fps_gpu:.1f} frames/s", f"{fps_gpu / fps_cpu:.1f}x CPU")
    )

    if model is not None and cpu_props is not None:
        _, gpu_scores = window_scores(model, cpu_feats, positions, "cuda")
        diff = float(np.abs(gpu_scores - cpu_scores).max())
        gpu_props = propose_from_features(model, cpu_feats, 30.0, max(2, frames // 10), "cuda")
        same = gpu_props.frames == cpu_props.frames
        passed = diff < 1e-3 and same
        ok &= passed
        detail = f"max score diff {diff:.2e}, frames {'identical' if same else 'differ'}"
        rows.append(("K-FPN GPU vs CPU", "cuda", "pass" if passed else "FAIL", detail))
    if cuda:
        ok &= _speed_agreement(rows)
    return rows, ok


def _speed_agreement(rows: list[Row]) -> bool:
    """``annotator bench proposal-speed`` on the sample clip, CPU and GPU: its table is
    printed, and at least 95 % of the CPU's proposed frames must be the GPU's too."""
    from annotator.bench.proposal_speed import DEFAULT_VIDEO, speed_table

    frames = speed_table(DEFAULT_VIDEO, 0.1, ["cpu", "cuda"])
    shared = len(set(frames["cpu"]) & set(frames["cuda"])) / max(len(frames["cpu"]), 1)
    passed = shared >= 0.95
    detail = f"{100 * shared:.1f} % of proposed frames shared (bench proposal-speed)"
    rows.append(("proposals GPU vs CPU, end to end", "cuda", "pass" if passed else "FAIL", detail))
    print()
    return passed


def print_table(rows: list[Row]) -> None:
    header: Row = ("check", "device", "result", "detail")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    rows, ok = run_checks(args.frames, args.model)
    print_table(rows)
    if not any(r[0] == "CUDA available" and r[2] == "yes" for r in rows):
        print("\nNo CUDA GPU here: only the CPU checks ran (GPU rows skipped).")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
