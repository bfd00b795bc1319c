"""``annotator bench propagation``: fills that use the video against labels-only fills.

Sections, figures only (nothing here is a test):

- **Real clips** (``realgt/``: per-frame BlazePose references of three real videos): labels =
  the reference at ``uniform:B`` key frames; PCK@0.05 and mean error (% of body size) over the
  visible joints of the other frames, for linear, hpim, mv and hpim+mv.
- **Rendered validation clips, protocol A** (the default set of ``bench labels-efficiency``,
  exact ground truth): uniform key frames at 5/10/20/30 %, PCK@0.05 over the visible joints of
  all frames, as ``bench labels-efficiency`` counts it.
- **Speed**: plain decode, field extraction (no cache), propagation and the fills on a real
  clip, and the fills of 17 joints over a 10,000-frame track with its fields ready.
- **Cost** (``propagation_fields.py``): the extraction of each motion field against a plain
  decode.
- **DIS** (``--sections dis``, ``propagation_fields.py``): DIS's CPU time per setting and
  luma size on a real clip, and the step each reads on a known synthetic translation.
- **Render groups** (``--sections render-groups``, ``propagation_groups.py``): where ``mv``,
  ``hpim`` and ``hpim+mv`` miss on the rendered validation clips at 5/10/20 %, per joint group
  and by situation (distance to a key frame, speed, occlusion, limbs over the torso).
- **Ceiling** (``propagation_ceiling.py``): how far a smooth track can agree with the real
  clips' per-frame references, per joint group, beside ``hpim+mv``.
- **Follow** (``propagation_follow.py``): whether ``mv`` and ``hpim+mv`` follow a limb that
  swings away from its label on the real clips, or stay near the label, per motion field.
- **Tune** (``propagation_tune.py``): the walk and fusion settings varied one at a time on a
  rendered *training* set (``--set``), ``hpim+mv``'s PCK for each.

``--fields mv,dis,...``: the real and render sections once per motion field (the codec's
vectors or an optical flow, ``motion_store.FIELDS``), to compare walks on each.

``--sheet PNG`` draws propagated joints (hpim+mv, red) against the reference (green) and
linear (blue) on frames in the middle of gaps of a real clip.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.codes import Visibility
from annotator.core.framespec import parse_keep_frames, uniform_frames
from annotator.core.metrics import body_size, mean_error_pct, pck
from annotator.dynamics.fill import FillResult, fill_track, manual_of
from annotator.errors import UsageError
from annotator.propagation.fuse import fill_with
from annotator.propagation.registry import VideoSource
from annotator.video.motion import MotionFields, extract_motion
from annotator.video.motion_store import FIELDS, Field

REAL_CLIPS = ("hybrik_taiji", "mmpose_body3d_demo", "mmhuman3d_single_person_demo")
REAL_BUDGETS = ("0.05", "0.1", "0.2")  # uniform: values (fractions or key frame counts)
RENDER_BUDGETS = (0.05, 0.1, 0.2, 0.3)
FILLS = ("linear", "hpim", "mv", "hpim+mv")
REFINED = "hpim+mv+"  # + a refinement's name: hpim+mv with walks refined (``--refine``)
ALPHA = 0.05

FillFn = Callable[[NDArray[Any]], FillResult]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = Path(os.environ.get("ANNOTATOR_DATA", "../shared/data"))
    parser.add_argument("--data", type=Path, default=default, help="shared data folder")
    parser.add_argument(
        "--sections",
        default="real,render,speed",
        help="comma-separated: real, render, render-groups (where the fills miss on the "
        "renders), speed, store (run store alone: it prints the process's peak memory), cost, "
        "dis, ceiling, follow (whether the fills follow a swinging limb), tune (with --set: a "
        "training set)",
    )
    parser.add_argument(
        "--store-frames", type=int, default=100_000, help="frames of the store section's video"
    )
    parser.add_argument("--set", type=Path, help="rendered set folder (default: the default set)")
    parser.add_argument(
        "--budgets",
        default=",".join(REAL_BUDGETS),
        help="the real section's label budgets, comma-separated: fractions (0.02) or counts "
        "of key frames (3), as in --keep-frames uniform:B (default: 0.05,0.1,0.2)",
    )
    parser.add_argument(
        "--fields",
        default="mv",
        help="comma-separated motion fields the real and render sections walk on: mv (the "
        "codec's vectors), dis, dis-fast, farneback (optical flow on the decoded luma); the "
        "cost section times the extraction of each (default: mv)",
    )
    parser.add_argument(
        "--cell",
        type=int,
        default=8,
        help="cell of the fields the real and render sections walk on, px (default 8)",
    )
    parser.add_argument(
        "--refine",
        default="none",
        help="comma-separated refinements of the walks on the decoded luma: lk (the joint's "
        "square matched, then Lucas-Kanade), lk-pyr (pyramidal Lucas-Kanade); the real, render "
        "and ceiling sections also fill hpim+mv+NAME for each, and their cost is printed "
        "(default: none)",
    )
    parser.add_argument("--sheet", type=Path, help="write a contact sheet of propagated joints")
    parser.add_argument("--sheet-clip", default="hybrik_taiji", help="real clip for --sheet")


def _fill_fn(
    method: str,
    fields: MotionFields,
    fps: float | None,
    cuts: Sequence[int] = (),
    luma: NDArray[np.uint8] | None = None,
) -> FillFn:
    source = VideoSource(fields=fields, cuts=tuple(cuts))

    def fill(manual: NDArray[Any]) -> FillResult:
        if method.startswith(REFINED):
            from annotator.propagation.lk import REFINES, LkPropagator

            if luma is None:
                raise UsageError(f"{method} needs the video's decoded luma")
            how = LkPropagator(luma, refine=REFINES[method[len(REFINED) :]])
            return fill_with(manual, source, "hpim+mv", fps=fps, propagator=how)
        if method in ("mv", "hpim+mv"):
            return fill_with(manual, source, method, fps=fps)
        return fill_track(manual, method, scene_cuts=cuts, fps=fps)

    return fill


def _keep_only(manual: NDArray[Any], keep: NDArray[np.int64]) -> NDArray[np.float64]:
    man = np.array(manual, dtype=np.float64)
    drop = np.ones(len(man), dtype=bool)
    drop[keep] = False
    man[drop] = np.nan
    man[drop, :, 2] = Visibility.UNLABELLED
    return man


def labels_at(
    ps: Any, visible: NDArray[np.bool_], budget: str
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]:
    """A real clip's reference (``ps``, a pose set) kept as labels on the key frames of
    ``uniform:budget`` only: (key frames, the labels, the joints scored: ``visible`` ones on
    the other frames)."""
    keep = parse_keep_frames(f"uniform:{budget}", ps.frame_count)
    scored = visible.copy()
    scored[keep] = False
    return keep, _keep_only(manual_of(ps.instances[0]), keep), scored


def _budget_label(budget: str) -> str:
    return budget if budget.isdigit() else f"{100 * float(budget):g} %"


def parse_budgets(spec: str) -> list[str]:
    """``--budgets``: each a ``uniform:`` value (a fraction or a count), checked here."""
    budgets = [b.strip() for b in spec.split(",") if b.strip()]
    if not budgets:
        raise UsageError("--budgets: give at least one budget (0.1 or a count like 3)")
    for b in budgets:
        try:
            parse_keep_frames(f"uniform:{b}", 1000)
        except UsageError as err:
            raise UsageError(f"--budgets: {err}") from None
    return budgets


def parse_fields(spec: str) -> list[Field]:
    """``--fields``: motion fields by name, checked here."""
    fields = [f.strip() for f in spec.split(",") if f.strip()]
    bad = [f for f in fields if f not in FIELDS]
    if bad or not fields:
        raise UsageError(f"--fields: use one or more of {', '.join(FIELDS)}, not {spec!r}")
    return [f for f in FIELDS if f in fields]


def parse_refines(spec: str) -> list[str]:
    """``--refine``: none, or refinements of the walks by name (``lk.REFINES``)."""
    from annotator.propagation.lk import REFINES

    names = [r.strip() for r in spec.split(",") if r.strip() and r.strip() != "none"]
    bad = [r for r in names if r not in REFINES]
    if bad:
        raise UsageError(f"--refine: use none or one or more of {', '.join(REFINES)}")
    return names


def _fills(refine: Sequence[str]) -> tuple[str, ...]:
    return (*FILLS, *(REFINED + r for r in refine))


def _luma(video: Path, refine: Sequence[str]) -> NDArray[np.uint8] | None:
    from annotator.propagation.lk import decode_luma

    return decode_luma(video) if refine else None


def reference_clips(data: Path) -> Iterator[tuple[str, Path, Any]]:
    """The real clips with a per-frame reference under ``data``: (name, video, the reference's
    pose set); a clip whose video or reference is missing prints a table row saying so."""
    from annotator.formats import registry

    for name in REAL_CLIPS:
        mat = data / "realgt" / f"{name}.mat"
        video = data / "videos" / f"{name}.mp4"
        if not mat.is_file() or not video.is_file():
            print(f"| {name} | missing ({mat} or {video}) |")
            continue
        yield name, video, registry.guess(mat).read(mat)


def real_section(
    data: Path,
    budgets: Sequence[str] = REAL_BUDGETS,
    field: Field = "mv",
    cell: int = 8,
    refine: Sequence[str] = (),
) -> None:

    fills = _fills(refine)

    print(f"Real clips, field {field} ({cell} px cells): labels = the reference at uniform:B,")
    print("scored on the other frames")
    print("(PCK@0.05 in % / mean error in % of body size, visible joints)\n")
    head = " | ".join(f"{m} {_budget_label(b)}" for b in budgets for m in fills)
    print(f"| clip | {head} |")
    print("|---" * (1 + len(fills) * len(budgets)) + "|")
    for name, video, ps in reference_clips(data):
        inst = ps.instances[0]
        gt = np.asarray(inst.poses, dtype=np.float64)
        vis = gt[:, :, 2] == Visibility.VISIBLE
        body = body_size(gt[:, :, :2], boxes=inst.boxes)
        fields = extract_motion(video, field=field, cell=cell)
        luma = _luma(video, refine)
        cells = []
        for budget in budgets:
            _keep, man, scored = labels_at(ps, vis, budget)
            for method in fills:
                res = _fill_fn(method, fields, ps.fps, luma=luma)(man)
                p = res.poses[:, :, :2]
                cells.append(
                    f"{100 * pck(p, gt[:, :, :2], scored, body, ALPHA):.1f} / "
                    f"{mean_error_pct(p, gt[:, :, :2], scored, body):.2f}"
                )
        print(f"| {name} | " + " | ".join(cells) + " |")


def render_folder(data: Path, folder: Path | None) -> Path:
    """``folder``, or the default validation set (rendered from ``data``'s labels once)."""
    from annotator.bench.efficiency_data import default_set

    if folder is not None:
        return folder
    labels = data / "penn_action" / "labels"
    if not labels.is_dir():
        raise UsageError(f"labels folder not found: {labels} (pass --data or --set)")
    return default_set(labels)


def render_section(
    data: Path,
    folder: Path | None,
    field: Field = "mv",
    cell: int = 8,
    refine: Sequence[str] = (),
) -> None:
    from annotator.bench.efficiency_data import load_set
    from annotator.bench.efficiency_oneshot import budget_for

    folder = render_folder(data, folder)
    clips = load_set(folder)
    frames = sum(c.frame_count for c in clips)
    print(f"\nRendered clips, field {field} ({cell} px cells), protocol A (uniform key frames;")
    print(f"PCK@0.05 in %, visible joints of all frames): {len(clips)} clips, {frames} frames")
    print(f"({folder})\n")
    print("| fill | " + " | ".join(f"{int(b * 100)} %" for b in RENDER_BUDGETS) + " |")
    print("|---" * (1 + len(RENDER_BUDGETS)) + "|")
    fields = {c.name: extract_motion(c.video, field=field, cell=cell) for c in clips}
    lumas = {c.name: _luma(c.video, refine) for c in clips}
    calibration: dict[str, list[float]] = {}
    for method in _fills(refine):
        cells = []
        err2: list[NDArray[np.float64]] = []
        var: list[NDArray[np.float64]] = []
        for budget in RENDER_BUDGETS:
            pred, gt, vis, body = [], [], [], []
            for clip in clips:
                keep = uniform_frames(clip.frame_count, budget_for(clip.frame_count, budget))
                fill = _fill_fn(method, fields[clip.name], clip.fps, clip.cuts, lumas[clip.name])
                res = fill(clip.manual(keep))
                p = res.poses[:, :, :2].astype(np.float64)
                pred.append(p)
                gt.append(clip.gt_xy)
                vis.append(clip.visible)
                body.append(clip.body)
                if res.variance is not None:
                    # squared error per coordinate against the variance, unlabelled frames
                    scored = clip.visible & np.isfinite(res.variance) & (res.variance > 0)
                    err2.append(((p - clip.gt_xy) ** 2).sum(axis=2)[scored] / 2.0)
                    var.append(res.variance[scored].astype(np.float64))
            p, g = np.concatenate(pred), np.concatenate(gt)
            cells.append(f"{100 * pck(p, g, np.concatenate(vis), np.concatenate(body), ALPHA):.1f}")
        print(f"| {method} | " + " | ".join(cells) + " |")
        if var:
            e, v = np.concatenate(err2), np.concatenate(var)
            top = v >= np.quantile(v, 0.9)
            calibration[method] = [
                float(e.mean() / v.mean()),
                float(np.median(e / v)),
                float(e[top].sum() / max(e.sum(), 1e-12)),
            ]
    print("\nVariance calibration on the same fills (filled frames, visible joints, all budgets):")
    print("squared error per coordinate / variance, mean over mean and median of the ratio;")
    print("share of the squared error on the tenth of joints with the highest variance")
    for method, (mean_ratio, median_ratio, top_share) in calibration.items():
        print(
            f"  {method}: {mean_ratio:.2f}, {median_ratio:.2f}; top tenth {100 * top_share:.0f} %"
        )


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    """Fastest wall time of ``repeat`` runs (s)."""
    return _best_both(fn, repeat)[0]


def _best_both(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """Fastest wall time and fastest process CPU time of ``repeat`` runs (s): on a shared
    machine the CPU time says what the work costs."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu


def speed_section(data: Path) -> None:
    import av

    from annotator.core.framespec import uniform_count
    from annotator.formats import registry
    from annotator.propagation.mv import propagate
    from annotator.propagation.walk import warm_up
    from annotator.video.motion_kernels import warm_up as warm_motion

    warm_up()
    warm_motion()
    print(f"\nSpeed ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; best of 3)\n")
    print(
        "| clip | decode ms wall / CPU | fields ms (no cache) | propagation ms (10 %) wall / CPU "
        "| propagation / decode, wall / CPU |"
    )
    print("|---|---|---|---|---|")
    for name in REAL_CLIPS:
        video = data / "videos" / f"{name}.mp4"
        mat = data / "realgt" / f"{name}.mat"
        if not video.is_file() or not mat.is_file():
            continue

        def decode(video: Path = video) -> None:
            with av.open(str(video)) as container:
                for _ in container.decode(video=0):
                    pass

        t_decode, c_decode = _best_both(decode)
        t_fields = _best(partial(extract_motion, video, use_cache=False), 1)
        fields = extract_motion(video)
        ps = registry.guess(mat).read(mat)
        keep = uniform_frames(ps.frame_count, uniform_count(ps.frame_count, 0.1))
        man = _keep_only(manual_of(ps.instances[0]), keep)
        t_prop, c_prop = _best_both(partial(propagate, man, fields))
        print(
            f"| {name} ({ps.frame_count} frames) | {1e3 * t_decode:.0f} / {1e3 * c_decode:.0f} "
            f"| {1e3 * t_fields:.0f} | {1e3 * t_prop:.0f} / {1e3 * c_prop:.0f} "
            f"| {t_prop / t_decode:.2f} / {c_prop / c_decode:.2f} |"
        )
    long_track_speed()
    drag_speed(data)
    from annotator.bench.propagation_scale import drag_long_section, gate_speed_section

    drag_long_section()
    gate_speed_section()


def drag_speed(data: Path, clip: str = "hybrik_taiji", steps: int = 30) -> None:
    """A drag: one label moved a pixel at a time, ``LiveFill.update`` after each move."""
    from annotator.core.framespec import uniform_count
    from annotator.formats import registry
    from annotator.propagation.fuse import LiveFill

    mat = data / "realgt" / f"{clip}.mat"
    video = data / "videos" / f"{clip}.mp4"
    if not mat.is_file() or not video.is_file():
        return
    ps = registry.guess(mat).read(mat)
    keep = uniform_frames(ps.frame_count, uniform_count(ps.frame_count, 0.1))
    man = _keep_only(manual_of(ps.instances[0]), keep)
    live = LiveFill("hpim+mv", VideoSource(fields=extract_motion(video)), fps=ps.fps)
    live.reset(man)
    frame = int(keep[len(keep) // 2])
    times, cpus = [], []
    for step in range(steps):
        man[frame, 5, 0] += 1.0 if step % 2 == 0 else -1.0
        t, c = time.perf_counter(), time.process_time()
        live.update(man, (frame, frame))
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    print(
        f"\ndrag on {clip} (hpim+mv, labels at 10 %), LiveFill.update over {steps} moves: "
        f"median {1e3 * float(np.median(times)):.1f} ms wall, "
        f"{1e3 * float(np.median(cpus)):.1f} ms CPU; max {1e3 * max(times):.1f} ms wall"
    )


def long_track_speed(frames: int = 10_000, joints: int = 17, fraction: float = 0.1) -> None:
    """The fills of a long track whose fields are ready: a smooth random walk of 17 joints
    on a 1280x720 frame, its exact motion as the field (8 px cells, 160x90), labels at 10 %."""
    from annotator.propagation.fuse import hpim_mv_filler
    from annotator.propagation.mv import propagate

    rng = np.random.default_rng(0)
    gh, gw, cell = 90, 160, 8
    vel = np.cumsum(rng.normal(0, 0.2, (frames, 2)), axis=0) * 0.1
    dx = np.repeat(vel[:, 0], gh * gw).reshape(frames, gh, gw).astype(np.float32)
    dy = np.repeat(vel[:, 1], gh * gw).reshape(frames, gh, gw).astype(np.float32)
    fields = MotionFields(
        dx=dx,
        dy=dy,
        valid=np.ones(dx.shape, dtype=bool),
        residual=np.zeros(dx.shape, dtype=np.float32),
        picture_types=("P",) * frames,
        times=np.arange(frames) / 30.0,
        derived=np.zeros(frames, dtype=bool),
        kind="mv",
        cell=cell,
        width=gw * cell,
        height=gh * cell,
        codec="synthetic",
    )
    base = rng.uniform(300, 420, (joints, 2)) + np.array([340.0, 0.0])
    truth = np.empty((frames, joints, 3))
    truth[:, :, :2] = base[None] + np.cumsum(vel, axis=0)[:, None, :]
    truth[:, :, 2] = Visibility.VISIBLE
    keep = uniform_frames(frames, int(np.ceil(fraction * frames)))
    man = _keep_only(truth, keep)
    obs = propagate(man, fields)
    filler = hpim_mv_filler(30.0)
    rows: list[tuple[str, Callable[[], object]]] = [
        ("propagation (mv walks and blend)", partial(propagate, man, fields)),
        ("hpim", partial(fill_track, man, "hpim", fps=30.0)),
        ("hpim+mv, propagation ready", partial(fill_track, man, filler, observations=obs)),
        ("hpim+mv from the fields", partial(fill_with, man, VideoSource(fields=fields), fps=30.0)),
    ]
    print(f"\n{frames} frames x {joints} joints, labels at {int(fraction * 100)} %, fields ready")
    print("\n| step | wall ms | CPU ms |\n|---|---|---|")
    for label, fn in rows:
        wall, cpu = _best_both(fn)
        print(f"| {label} | {1e3 * wall:.0f} | {1e3 * cpu:.0f} |")


def contact_sheet(data: Path, clip: str, out_png: Path, budget: float = 0.1) -> Path:
    """Frames in the middle of gaps of ``clip``: reference green, linear blue, hpim+mv red."""
    import av
    import cv2

    from annotator.core.framespec import uniform_count
    from annotator.core.skeleton import PENN_ACTION
    from annotator.formats import registry

    mat = data / "realgt" / f"{clip}.mat"
    video = data / "videos" / f"{clip}.mp4"
    ps = registry.guess(mat).read(mat)
    inst = ps.instances[0]
    keep = uniform_frames(ps.frame_count, uniform_count(ps.frame_count, budget))
    man = _keep_only(manual_of(inst), keep)
    fields = extract_motion(video)
    fused = _fill_fn("hpim+mv", fields, ps.fps)(man).poses
    linear = fill_track(man, "linear").poses
    mids = ((keep[:-1] + keep[1:]) // 2)[1 :: max(1, len(keep) // 12)][:12]
    want = set(int(m) for m in mids)
    tiles = []
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i not in want:
                continue
            img = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
            for poses, colour in (
                (inst.poses[i], (40, 220, 40)),
                (linear[i], (60, 120, 255)),
                (fused[i], (255, 40, 40)),
            ):
                for a, b in PENN_ACTION.edges:
                    pa, pb = poses[a, :2], poses[b, :2]
                    if np.isfinite(pa).all() and np.isfinite(pb).all():
                        cv2.line(img, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), colour, 2)
            # crop to the body (the reference's extent, padded) so the joints are visible
            ref = inst.poses[i, :, :2]
            ref = ref[np.isfinite(ref).all(axis=1)]
            lo = np.maximum(ref.min(axis=0) - 0.15 * np.ptp(ref, axis=0).max(), 0).astype(int)
            hi = (ref.max(axis=0) + 0.15 * np.ptp(ref, axis=0).max()).astype(int)
            img = img[lo[1] : hi[1], lo[0] : hi[0]]
            scale = 360 / img.shape[0]
            small = cv2.resize(img, (int(img.shape[1] * scale), 360), interpolation=cv2.INTER_AREA)
            small = cv2.copyMakeBorder(
                small, 0, 0, 0, max(0, 300 - small.shape[1]), cv2.BORDER_CONSTANT
            )[:, :300]
            cv2.putText(small, f"f{i}", (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2)
            tiles.append(small)
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    sheet = np.vstack([np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)])
    out_png.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_png), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return out_png


def run(args: argparse.Namespace) -> int:
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    known = (
        "real",
        "render",
        "render-groups",
        "speed",
        "store",
        "cost",
        "dis",
        "ceiling",
        "follow",
        "tune",
    )
    unknown = set(sections) - set(known)
    if unknown:
        raise UsageError(f"unknown sections {', '.join(sorted(unknown))}: use {', '.join(known)}")
    if "tune" in sections and args.set is None:
        raise UsageError("--sections tune needs --set: a rendered training set (bench render)")
    fields = parse_fields(args.fields)
    refine = parse_refines(args.refine)
    data: Path = args.data
    needs_real = {"real", "speed", "cost", "dis", "ceiling", "follow"} & set(sections)
    if (needs_real or args.sheet) and not (data / "realgt").is_dir():
        raise UsageError(f"no realgt folder under {data} (pass --data)")
    start = time.perf_counter()
    if "real" in sections:
        for field in fields:
            real_section(data, parse_budgets(args.budgets), field, args.cell, refine)
        if fields == ["mv"] and args.cell == 8:
            from annotator.bench.propagation_scale import store_accuracy_section

            store_accuracy_section(data)
    if "render" in sections:
        for field in fields:
            render_section(data, args.set, field, args.cell, refine)
    if "render-groups" in sections:
        from annotator.bench.propagation_groups import render_groups_section

        for field in fields:
            render_groups_section(data, args.set, field, args.cell)
    if "ceiling" in sections:
        from annotator.bench.propagation_ceiling import ceiling_section

        for budget in parse_budgets(args.budgets):
            ceiling_section(data, budget, fields[0], args.cell, refine)
    if "follow" in sections:
        from annotator.bench.propagation_follow import follow_section

        for budget in parse_budgets(args.budgets):
            follow_section(data, budget, fields, args.cell)
    if "tune" in sections:
        from annotator.bench.propagation_tune import tune_section

        for field in fields:
            tune_section(args.set, field, args.cell)
    if "cost" in sections:
        from annotator.bench.propagation_fields import cost_section

        cost_section(data, fields)
    if "dis" in sections:
        from annotator.bench.propagation_fields import dis_section

        dis_section(data)
    if "speed" in sections:
        speed_section(data)
    if refine and needs_real:
        from annotator.bench.propagation_refine import refine_cost_section

        refine_cost_section(data, refine, fields[0], args.cell)
    if "store" in sections:
        from annotator.bench.propagation_scale import store_section

        store_section(args.store_frames)
    if args.sheet:
        print(f"\ncontact sheet: {contact_sheet(data, args.sheet_clip, args.sheet)}")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0
