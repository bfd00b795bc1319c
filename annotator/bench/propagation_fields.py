"""``annotator bench propagation --sections cost`` (what each motion field costs to extract)
and ``--sections dis`` (where DIS's time goes, setting by setting).

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
from itertools import pairwise
from pathlib import Path
from typing import Any

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


DIS_SETTINGS: tuple[tuple[str, dict[str, int]], ...] = (
    ("medium preset", {}),
    ("finest scale 0", {"FinestScale": 0}),
    ("finest scale 2", {"FinestScale": 2}),
    ("patch stride 4", {"PatchStride": 4}),
    ("12 descent iterations", {"GradientDescentIterations": 12}),
    ("no variational refinement", {"VariationalRefinementIterations": 0}),
    (
        "scale 0, stride 4, 12 it., no refinement",
        {
            "FinestScale": 0,
            "PatchStride": 4,
            "GradientDescentIterations": 12,
            "VariationalRefinementIterations": 0,
        },
    ),
)
"""DIS settings the ``dis`` section compares, as OpenCV setter names (``set<Name>``) and values
applied to the medium preset."""


def _dis(settings: dict[str, int]) -> Any:
    import cv2

    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    for name, value in settings.items():
        getattr(dis, f"set{name}")(value)
    return dis


def _translation_pair(step: tuple[int, int]) -> tuple[Any, Any, Any]:
    """Two 1024x576 frames: a 320x224 textured square moved by ``step`` over a still textured
    background (16 px texture), and the square's interior at the second frame."""
    import numpy as np

    from annotator.synth.motion import texture

    background = texture(576, 1024, seed=1, blob=16)
    square = texture(224, 320, seed=2, blob=16)
    frames = []
    for x, y in ((300, 200), (300 + step[0], 200 + step[1])):
        frame = background.copy()
        frame[y : y + 224, x : x + 320] = square
        frames.append(frame)
    inside = np.zeros((576, 1024), dtype=bool)
    inside[200 + step[1] + 32 : 200 + step[1] + 192, 300 + step[0] + 32 : 300 + step[0] + 288] = (
        True
    )
    return frames[0], frames[1], inside


def dis_section(data: Path, frames: int = 60) -> None:
    """Where DIS's time goes: ms of CPU per frame pair on taiji's luma reduced to 640 and 320
    px (one OpenCV thread), and the displacement each setting reads on a known 5 px step."""
    import av
    import cv2
    import numpy as np

    from annotator.video.residual import reduce_luma

    video = data / "videos" / "hybrik_taiji.mp4"
    if not video.is_file():
        print(f"\nDIS settings: {video} missing")
        return
    lumas = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            lumas.append(frame.to_ndarray(format="gray"))
            if len(lumas) == frames:
                break
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    previous, current, inside = _translation_pair((5, 2))
    print(f"\nDIS settings ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; one thread)")
    print(f"ms of CPU per frame pair on hybrik_taiji's first {frames} frames, luma reduced to")
    print(
        "640 / 320 px; x px read for a 5 px step of a 1024x576 synthetic square at 512 / 256 px\n"
    )
    print("| setting | 640 px ms | 320 px ms | step at 512 px | step at 256 px |")
    print("|---|---|---|---|---|")
    try:
        for name, settings in DIS_SETTINGS:
            cells = []
            for factor in (2, 4):
                small = [reduce_luma(luma, factor) for luma in lumas]
                dis = _dis(settings)
                cpu = time.process_time()
                for a, b in pairwise(small):
                    dis.calc(b, a, None)
                cells.append(f"{1e3 * (time.process_time() - cpu) / (len(small) - 1):.1f}")
            for factor in (2, 4):
                back = _dis(settings).calc(
                    reduce_luma(current, factor), reduce_luma(previous, factor), None
                )
                dx = -factor * cv2.resize(back[:, :, 0], (1024, 576))[inside]
                cells.append(f"{float(np.median(dx)):.2f}")
            print(f"| {name} | " + " | ".join(cells) + " |")
    finally:
        cv2.setNumThreads(threads)
