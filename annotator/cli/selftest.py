"""``annotator selftest [VIDEO]``: check that an installed build can do its heavy work.

Meant for the frozen desktop build (``packaging/smoke.sh`` runs it), where a missing library or
data file only shows when a feature first runs: it extracts the motion fields of a video (the
sample by default) through the numba kernels, without the motion cache, and says where numba
cached the compiled kernels; loads torch; and lists every shipped model file. Prints one JSON
object and exits 0 when all of that worked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from annotator.core.paths import frozen_bundle, models_dir, shipped_dir
from annotator.errors import AnnotatorError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", nargs="?", help="a video (default: the shipped sample)")


def run(args: argparse.Namespace) -> int:
    video = Path(args.video or shipped_dir("resources") / "samples" / "taiji.mp4")
    start = time.perf_counter()
    from annotator.video.motion import extract_motion

    fields = extract_motion(video, use_cache=False)
    valid = float(fields.valid[1:].mean()) if len(fields) > 1 else 0.0
    if fields.kind != "mv" or valid <= 0.0:
        raise AnnotatorError(f"motion extraction gave no codec vectors for {video}")
    motion_s = time.perf_counter() - start

    import numba
    import torch

    cache: str = getattr(numba.config, "CACHE_DIR", "") or ""
    cached = sorted(p.name for p in Path(cache).rglob("*.nbi")) if cache else []
    models = sorted(p.name for p in models_dir().iterdir() if p.is_file())
    report = {
        "frozen": frozen_bundle() is not None,
        "executable": sys.executable,
        "video": str(video),
        "motion_frames": len(fields),
        "motion_kind": fields.kind,
        "motion_valid_share": round(valid, 3),
        "motion_seconds": round(motion_s, 2),
        "numba_cache_dir": cache or None,
        "numba_cached_kernels": len(cached),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "models": models,
        "env_numba_cache": os.environ.get("NUMBA_CACHE_DIR"),
    }
    print(json.dumps(report, indent=1))
    if frozen_bundle() is not None and not cached:
        raise AnnotatorError(f"numba wrote no cached kernels to {cache or '(unset)'}")
    return 0
