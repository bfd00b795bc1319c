"""``annotator bench propagation --sections cost``: what each motion field costs to extract.

For each real clip: a plain decode, and the extraction of every field asked for with
``--fields`` (no cache), in process CPU time per frame (the machine is shared: CPU time says
what the work costs, wall time what the user waited), and the extraction as a multiple of the
plain decode.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from annotator.video.motion import extract_motion
from annotator.video.motion_store import Field

REAL_CLIPS = ("hybrik_taiji", "mmpose_body3d_demo", "mmhuman3d_single_person_demo")


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _decode(video: Path) -> int:
    import av

    count = 0
    with av.open(str(video)) as container:
        for _ in container.decode(video=0):
            count += 1
    return count


def cost_section(data: Path, fields: Sequence[Field]) -> None:
    """One table: per clip, decode and each field's extraction, ms per frame (wall / CPU)."""
    from annotator.video.motion_kernels import warm_up

    warm_up()
    print(
        f"\nField extraction cost ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; one run)"
    )
    print("ms per frame, wall / CPU; x = CPU time over the plain decode's\n")
    print("| clip | decode | " + " | ".join(f"{f} (no cache)" for f in fields) + " |")
    print("|---" * (2 + len(fields)) + "|")
    for name in REAL_CLIPS:
        video = data / "videos" / f"{name}.mp4"
        if not video.is_file():
            continue
        frames = _decode(video)
        wall, cpu = _timed(partial(_decode, video))
        cells = [f"{1e3 * wall / frames:.1f} / {1e3 * cpu / frames:.1f}"]
        for field in fields:
            w, c = _timed(partial(extract_motion, video, field=field, use_cache=False))
            cells.append(f"{1e3 * w / frames:.1f} / {1e3 * c / frames:.1f} ({c / cpu:.2f}x)")
        print(f"| {name} ({frames} frames) | " + " | ".join(cells) + " |")
