"""``annotator bench propagation --refine lk``: what the Lucas-Kanade refinement of the walks
costs on the real clips (``propagation/lk.py``).

Per clip, labels at 10 %: the luma decode the refinement needs (the whole clip, every frame
lies in a gap), the walks and blend of plain ``mv`` propagation, and the same refined; per
frame of the clip, wall and process CPU time (best of 3; on a shared machine the CPU time says
what the work costs). The fields themselves are extracted once beforehand (cached).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from annotator.core.framespec import uniform_count, uniform_frames


def refine_cost_section(
    data: Path, refine: Sequence[str] = ("lk",), field: str = "dis", cell: int = 8
) -> None:
    from annotator.bench.propagation import REAL_CLIPS, _best_both, _keep_only
    from annotator.dynamics.fill import manual_of
    from annotator.formats import registry
    from annotator.propagation.lk import REFINES, decode_luma, propagate_refined
    from annotator.propagation.mv import propagate
    from annotator.propagation.walk import warm_up
    from annotator.video.motion import extract_motion

    warm_up()
    print(f"\nCost of the lk refinement ({os.cpu_count()} CPUs, load average ")
    print(f"{os.getloadavg()[0]:.1f}; field {field}, {cell} px cells; labels at 10 %; ms per")
    print("frame of the clip, wall / CPU, best of 3)\n")
    print(
        "| clip | refinement | luma decode | mv walks | mv walks refined | added (decode + refinement) |"
    )
    print("|---|---|---|---|---|---|")
    for name in REAL_CLIPS:
        video = data / "videos" / f"{name}.mp4"
        mat = data / "realgt" / f"{name}.mat"
        if not video.is_file() or not mat.is_file():
            continue
        ps = registry.guess(mat).read(mat)
        n = ps.frame_count
        keep = uniform_frames(n, uniform_count(n, 0.1))
        man = _keep_only(manual_of(ps.instances[0]), keep)
        fields = extract_motion(video, field=field, cell=cell)  # type: ignore[arg-type]
        t_dec, c_dec = _best_both(partial(decode_luma, video))
        luma = decode_luma(video)
        t_mv, c_mv = _best_both(partial(propagate, man, fields))
        k = 1e3 / n
        for how in refine:
            run = partial(propagate_refined, man, fields, luma, refine=REFINES[how])
            t_lk, c_lk = _best_both(run)
            print(
                f"| {name} ({n} frames) | {how} | {k * t_dec:.2f} / {k * c_dec:.2f} "
                f"| {k * t_mv:.2f} / {k * c_mv:.2f} | {k * t_lk:.2f} / {k * c_lk:.2f} "
                f"| {k * (t_dec + t_lk - t_mv):.2f} / {k * (c_dec + c_lk - c_mv):.2f} |"
            )
