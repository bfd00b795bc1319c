"""A person-like figure drawn from 13 Penn Action joints: shaded, textured capsules with depth.

Every body part is a (possibly tapered) capsule between two points. For the pixels of its
bounding box we compute the position along the part (``u``) and across it (``v``), which gives
the part's mask, a cylinder-like shading and a clothing texture that moves with the limb (so
motion in the video is the body's motion, not a pattern sliding over it). Parts are merged with a
depth buffer: limbs whose joints the labels mark as not visible sit behind the torso, the others
in front, so self-occlusion follows the labels where they say something.

The figure is drawn into its own RGBA layer plus a part-id buffer; the scene composites it. The
id buffer is what decides whether a joint is seen in the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Penn Action joint indices (annotator.core.skeleton.PENN_ACTION order).
HEAD, L_SH, R_SH, L_EL, R_EL, L_WR, R_WR, L_HIP, R_HIP, L_KN, R_KN, L_AN, R_AN = range(13)

# Part ids in the id buffer (0 = no body).
TORSO, NECK, HEAD_P = 1, 2, 3
L_UARM, R_UARM, L_FARM, R_FARM, L_HAND, R_HAND = 4, 5, 6, 7, 8, 9
L_THIGH, R_THIGH, L_SHIN, R_SHIN, L_FOOT, R_FOOT = 10, 11, 12, 13, 14, 15

# Parts a joint belongs to: the joint counts as seen when one of them is on top at its pixel.
JOINT_OWNERS: tuple[frozenset[int], ...] = (
    frozenset({HEAD_P}),
    frozenset({TORSO, L_UARM, NECK}),
    frozenset({TORSO, R_UARM, NECK}),
    frozenset({L_UARM, L_FARM}),
    frozenset({R_UARM, R_FARM}),
    frozenset({L_FARM, L_HAND}),
    frozenset({R_FARM, R_HAND}),
    frozenset({TORSO, L_THIGH}),
    frozenset({TORSO, R_THIGH}),
    frozenset({L_THIGH, L_SHIN}),
    frozenset({R_THIGH, R_SHIN}),
    frozenset({L_SHIN, L_FOOT}),
    frozenset({R_SHIN, R_FOOT}),
)

Rgb = tuple[float, float, float]
FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class Material:
    """A cloth or skin: base colour, a second colour and a pattern in body-size units."""

    base: Rgb
    second: Rgb
    pattern: str  # "plain", "stripes", "checks", "noise"
    period: float  # pattern period as a fraction of the torso length


@dataclass(frozen=True)
class Outfit:
    """Everything that makes one rendered person look like themselves across a video."""

    skin: Material
    hair: Rgb
    shirt: Material
    trousers: Material
    shoes: Material
    long_sleeves: bool
    long_trousers: bool
    build: float  # limb width multiplier
    light_dir: tuple[float, float, float]  # (x, y, z) unit vector towards the light
    ambient: float


_SKINS: tuple[Rgb, ...] = (
    (241, 194, 167),
    (224, 172, 105),
    (198, 134, 66),
    (141, 85, 36),
    (92, 58, 38),
    (255, 219, 172),
)
_HAIR: tuple[Rgb, ...] = ((30, 22, 18), (70, 45, 25), (120, 80, 40), (200, 170, 110), (90, 90, 90))


def random_outfit(rng: np.random.Generator) -> Outfit:
    """Clothing-like colours and patterns, drawn from ``rng`` (deterministic for a seed)."""

    def colour(dark: bool = False) -> Rgb:
        hue_base = rng.uniform(0, 1, 3)
        level = rng.uniform(20, 90) if dark else rng.uniform(40, 235)
        c = level * (0.55 + 0.9 * hue_base / hue_base.max())
        return (float(min(c[0], 255)), float(min(c[1], 255)), float(min(c[2], 255)))

    def cloth(dark: bool = False) -> Material:
        pattern = str(rng.choice(["plain", "stripes", "checks", "noise"], p=[0.3, 0.3, 0.2, 0.2]))
        return Material(colour(dark), colour(), pattern, float(rng.uniform(0.08, 0.25)))

    skin = _SKINS[int(rng.integers(len(_SKINS)))]
    az = rng.uniform(0, 2 * np.pi)
    elev = rng.uniform(0.4, 0.9)
    light = (float(np.cos(az) * (1 - elev)), float(np.sin(az) * (1 - elev)), float(elev))
    norm = float(np.linalg.norm(light))
    return Outfit(
        skin=Material(skin, skin, "noise", 0.3),
        hair=_HAIR[int(rng.integers(len(_HAIR)))],
        shirt=cloth(),
        trousers=cloth(dark=bool(rng.random() < 0.6)),
        shoes=Material(colour(dark=True), (20, 20, 20), "plain", 0.2),
        long_sleeves=bool(rng.random() < 0.6),
        long_trousers=bool(rng.random() < 0.75),
        build=float(rng.uniform(0.85, 1.2)),
        light_dir=(light[0] / norm, light[1] / norm, light[2] / norm),
        ambient=float(rng.uniform(0.35, 0.55)),
    )


@dataclass
class FigureLayer:
    """The drawn figure: colour (premultiplied by ``alpha``), coverage and part ids."""

    rgb: FloatArray  # (H, W, 3)
    alpha: FloatArray  # (H, W) in [0, 1]
    part: NDArray[np.uint8]  # (H, W) part id on top, 0 where no body
    depth: FloatArray  # (H, W) depth of the part on top (smaller is nearer)


def new_layer(height: int, width: int) -> FigureLayer:
    return FigureLayer(
        np.zeros((height, width, 3), np.float32),
        np.zeros((height, width), np.float32),
        np.zeros((height, width), np.uint8),
        np.full((height, width), np.inf, np.float32),
    )


def _pattern(mat: Material, u: FloatArray, v: FloatArray, tile: FloatArray) -> FloatArray:
    """Blend weight of the second colour at body coordinates (u, v), in torso lengths."""
    p = mat.period
    if mat.pattern == "stripes":
        return np.asarray(np.sin(2 * np.pi * u / p) > 0.3, dtype=np.float32)
    if mat.pattern == "checks":
        return np.asarray((np.floor(u / p) + np.floor(v / p)) % 2, dtype=np.float32)
    n = tile.shape[0]
    iu = (np.abs(u) * n / (3 * p)).astype(np.int64) % n
    iv = (np.abs(v) * n / (3 * p)).astype(np.int64) % n
    amount = 0.35 if mat.pattern == "noise" else 0.08
    return np.asarray(tile[iu, iv] * amount, dtype=np.float32)


def draw_part(
    layer: FigureLayer,
    part_id: int,
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    radius_a: float,
    radius_b: float,
    depth: float,
    mat: Material,
    outfit: Outfit,
    scale: float,
    tile: FloatArray,
    hair_from: NDArray[np.float64] | None = None,
    cap: float = 1.0,
) -> None:
    """Draw one tapered capsule from ``a`` to ``b`` (pixels) into ``layer`` with a z-test.

    ``hair_from``: for the head, the neck point; pixels facing away from it get the hair colour.
    ``cap``: how far the ends reach past ``a`` and ``b``, as a fraction of the radius there
    (1: round ends; less: flatter ends, as for the torso at the shoulders and hips).
    """
    h, w = layer.alpha.shape
    rmax = max(radius_a, radius_b) + 1.5
    x0 = int(np.floor(min(a[0], b[0]) - rmax))
    x1 = int(np.ceil(max(a[0], b[0]) + rmax)) + 1
    y0 = int(np.floor(min(a[1], b[1]) - rmax))
    y1 = int(np.ceil(max(a[1], b[1]) + rmax)) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = (b - a).astype(np.float32)
    length2 = float(d @ d)
    px, py = xs - np.float32(a[0]), ys - np.float32(a[1])
    if length2 < 1e-6:
        t = np.zeros_like(px)
        beyond = np.zeros_like(px)
        axis = np.array([0.0, 1.0], np.float32)
    else:
        t_raw = (px * d[0] + py * d[1]) / length2
        t = np.clip(t_raw, 0.0, 1.0)
        beyond = np.abs(t_raw - t) * np.float32(np.sqrt(length2))  # past an end, in pixels
        axis = d / np.sqrt(length2)
    normal = np.array([-axis[1], axis[0]], np.float32)
    ex, ey = px - t * d[0], py - t * d[1]
    dist = np.sqrt(ex * ex + ey * ey)
    radius = np.float32(radius_a) + t * np.float32(radius_b - radius_a)
    cover = np.clip(radius - dist + 0.5, 0.0, 1.0)  # one-pixel soft edge
    if cap < 1.0:
        cover = np.minimum(cover, np.clip(cap * radius - beyond + 0.5, 0.0, 1.0))
    inside = cover > 0
    if not inside.any():
        return
    side = np.sign(ex * normal[0] + ey * normal[1])
    v = side * np.minimum(dist / np.maximum(radius, 1e-3), 1.0)
    bulge = np.sqrt(np.maximum(1.0 - v * v, 0.0))
    z = np.float32(depth) - 0.3 * bulge
    lx, ly, lz = outfit.light_dir
    lit = np.clip(v * (normal[0] * lx + normal[1] * ly) + bulge * lz, 0.0, 1.0)
    shade = outfit.ambient + (1.0 - outfit.ambient) * lit
    u_body = t * np.float32(np.sqrt(length2) / scale)
    v_body = v * radius / np.float32(scale)
    mix = _pattern(mat, u_body, v_body, tile)[..., None]
    colour = (1 - mix) * np.array(mat.base, np.float32) + mix * np.array(mat.second, np.float32)
    if hair_from is not None:
        up = (a - hair_from).astype(np.float32)
        up /= max(float(np.linalg.norm(up)), 1e-3)
        facing = (px * up[0] + py * up[1]) / max(radius_a, 1e-3)
        hair = (facing > -0.1)[..., None]
        colour = np.where(hair, np.array(outfit.hair, np.float32), colour)
    colour = colour * shade[..., None]
    win = inside & (z < layer.depth[y0:y1, x0:x1])
    solid = win & (cover >= 0.5)
    roi_rgb = layer.rgb[y0:y1, x0:x1]
    roi_alpha = layer.alpha[y0:y1, x0:x1]
    # Premultiplied "over" for the pixels this part wins, so soft edges blend with parts behind.
    c = np.where(win, cover, 0.0)
    roi_rgb[...] = colour * c[..., None] + roi_rgb * (1 - c[..., None])
    roi_alpha[...] = c + roi_alpha * (1 - c)
    layer.part[y0:y1, x0:x1][solid] = part_id
    layer.depth[y0:y1, x0:x1][solid] = z[solid]


def complete_torso(
    joints: NDArray[np.float64], present: NDArray[np.bool_], scale: float
) -> NDArray[np.float64]:
    """Joints with stand-ins for missing shoulders and hips, so a person cut by the frame edge
    (Penn Action's upper-body shots) still has a torso that runs out of the picture."""
    j: NDArray[np.float64] = joints.copy()
    down = np.array([0.0, 1.0])
    # A lone shoulder (hip) gets its partner mirrored from the other pair when that is whole.
    for (a, b), (c, d) in (((L_SH, R_SH), (L_HIP, R_HIP)), ((L_HIP, R_HIP), (L_SH, R_SH))):
        if present[a] != present[b]:
            other = (j[c] - j[d]) if present[c] and present[d] else np.zeros(2)
            j[a if not present[a] else b] = j[b] + other if not present[a] else j[a] - other
    if not (present[L_SH] or present[R_SH]):
        top = j[HEAD] + 0.35 * scale * down if present[HEAD] else j[L_HIP] - scale * down
        j[L_SH] = j[R_SH] = top
    if not (present[L_HIP] or present[R_HIP]):
        j[L_HIP] = j[R_HIP] = (j[L_SH] + j[R_SH]) / 2 + 1.1 * scale * down
    return j


def draw_figure(
    layer: FigureLayer,
    joints: NDArray[np.float64],
    label_visible: NDArray[np.bool_],
    outfit: Outfit,
    scale: float,
    tile: FloatArray,
    present: NDArray[np.bool_] | None = None,
) -> None:
    """Draw a whole person from 13 joints (pixels); ``scale`` is the torso length in pixels.

    ``present``: False for joints the labels say are not in the picture; parts that need them
    are left out (the torso gets stand-in ends, see :func:`complete_torso`).
    """
    has = np.ones(len(joints), bool) if present is None else present
    torso_known = has[[L_SH, R_SH, L_HIP, R_HIP]].any() or has[HEAD]
    if not torso_known:
        return
    j = complete_torso(joints, has, scale)
    s = scale * outfit.build
    mid_sh = (j[L_SH] + j[R_SH]) / 2
    mid_hip = (j[L_HIP] + j[R_HIP]) / 2

    def depth_of(*idx: int) -> float:
        # Labelled-visible limbs in front of the torso, hidden ones behind it.
        return float(np.mean([-0.6 if label_visible[i] else 0.6 for i in idx]))

    shoulder_r = max(0.5 * float(np.linalg.norm(j[L_SH] - j[R_SH])) + 0.06 * s, 0.24 * s)
    hip_r = max(0.5 * float(np.linalg.norm(j[L_HIP] - j[R_HIP])) + 0.06 * s, 0.22 * s)
    o = outfit
    draw_part(
        layer, TORSO, mid_sh, mid_hip, shoulder_r, hip_r, 0.0, o.shirt, o, scale, tile, cap=0.35
    )
    head_r = 0.24 * scale
    if has[HEAD]:
        neck_top = mid_sh + 0.7 * (j[HEAD] - mid_sh)
        draw_part(layer, NECK, mid_sh, neck_top, 0.1 * s, 0.09 * s, 0.1, o.skin, o, scale, tile)
        head_z = -0.2 if label_visible[HEAD] else 0.2
        draw_part(
            layer, HEAD_P, j[HEAD], j[HEAD], head_r, head_r, head_z, o.skin, o, scale, tile,
            hair_from=mid_sh,
        )  # fmt: skip
    forearm = o.shirt if o.long_sleeves else o.skin
    shin = o.trousers if o.long_trousers else o.skin
    for sh, el, wr, ua, fa, hand in (
        (L_SH, L_EL, L_WR, L_UARM, L_FARM, L_HAND),
        (R_SH, R_EL, R_WR, R_UARM, R_FARM, R_HAND),
    ):
        if not has[el]:
            continue
        z = depth_of(sh, el)
        draw_part(layer, ua, j[sh], j[el], 0.11 * s, 0.09 * s, z, o.shirt, o, scale, tile)
        if not has[wr]:
            continue
        z = depth_of(el, wr)
        draw_part(layer, fa, j[el], j[wr], 0.085 * s, 0.07 * s, z, forearm, o, scale, tile)
        direction = j[wr] - j[el]
        tip = j[wr] + 0.16 * scale * direction / max(float(np.linalg.norm(direction)), 1e-3)
        z = depth_of(wr) - 0.05
        draw_part(layer, hand, j[wr], tip, 0.07 * s, 0.06 * s, z, o.skin, o, scale, tile)
    for hip, kn, an, th, sh_p, foot in (
        (L_HIP, L_KN, L_AN, L_THIGH, L_SHIN, L_FOOT),
        (R_HIP, R_KN, R_AN, R_THIGH, R_SHIN, R_FOOT),
    ):
        if not has[kn]:
            continue
        z = depth_of(hip, kn) + 0.05
        draw_part(layer, th, j[hip], j[kn], 0.15 * s, 0.11 * s, z, o.trousers, o, scale, tile)
        if not has[an]:
            continue
        z = depth_of(kn, an) + 0.05
        draw_part(layer, sh_p, j[kn], j[an], 0.105 * s, 0.08 * s, z, shin, o, scale, tile)
        # Toes point the way the knee leans (walking and standing people bend knees forwards).
        toe = 1.0 if j[kn][0] >= j[an][0] else -1.0
        tip = j[an] + np.array([toe * 0.26 * scale, 0.04 * scale])
        z = depth_of(an) + 0.04
        draw_part(layer, foot, j[an], tip, 0.075 * s, 0.06 * s, z, o.shoes, o, scale, tile)


def joint_seen(layer: FigureLayer, joints: NDArray[np.float64]) -> NDArray[np.bool_]:
    """(13,) True where the part on top at the joint's pixel is one of the joint's own parts."""
    h, w = layer.part.shape
    seen = np.zeros(len(joints), dtype=bool)
    for i, (x, y) in enumerate(joints):
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        xi, yi = round(float(x)), round(float(y))
        if 0 <= xi < w and 0 <= yi < h:
            seen[i] = int(layer.part[yi, xi]) in JOINT_OWNERS[i]
    return seen
