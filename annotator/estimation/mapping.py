"""BlazePose's 33 landmarks as the joints of the built-in skeletons.

Each target joint is the mean of a tuple of landmarks: one landmark where the definitions
agree, two where the target joint is by definition their midpoint (MPII's pelvis and
thorax, JHMDB's neck), none where BlazePose has no counterpart (MPII's upper neck and head
top, JHMDB's belly): such a joint is reported missing, never invented. Left and right are the
subject's own sides in both BlazePose and the skeletons (checked on real frames, see
``docs/estimation.md``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from annotator.core.skeleton import builtin

# BlazePose landmark indices (names in ``blazepose.LANDMARK_NAMES``).
NOSE, L_EYE, R_EYE, L_EAR, R_EAR = 0, 2, 5, 7, 8
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28

Source = tuple[int, ...]
MAPPINGS: dict[str, tuple[Source, ...]] = {
    # head = nose, as in the realgt reference
    "penn_action": (
        (NOSE,), (L_SHOULDER,), (R_SHOULDER,), (L_ELBOW,), (R_ELBOW,), (L_WRIST,), (R_WRIST,),
        (L_HIP,), (R_HIP,), (L_KNEE,), (R_KNEE,), (L_ANKLE,), (R_ANKLE,),
    ),
    "coco": (
        (NOSE,), (L_EYE,), (R_EYE,), (L_EAR,), (R_EAR,), (L_SHOULDER,), (R_SHOULDER,),
        (L_ELBOW,), (R_ELBOW,), (L_WRIST,), (R_WRIST,), (L_HIP,), (R_HIP,), (L_KNEE,),
        (R_KNEE,), (L_ANKLE,), (R_ANKLE,),
    ),
    # r_ankle r_knee r_hip l_hip l_knee l_ankle pelvis thorax upper_neck head_top
    # r_wrist r_elbow r_shoulder l_shoulder l_elbow l_wrist
    "mpii": (
        (R_ANKLE,), (R_KNEE,), (R_HIP,), (L_HIP,), (L_KNEE,), (L_ANKLE,), (L_HIP, R_HIP),
        (L_SHOULDER, R_SHOULDER), (), (), (R_WRIST,), (R_ELBOW,), (R_SHOULDER,),
        (L_SHOULDER,), (L_ELBOW,), (L_WRIST,),
    ),
    # neck belly face R-shoulder L-shoulder R-hip L-hip R-elbow L-elbow R-knee L-knee
    # R-wrist L-wrist R-ankle L-ankle
    "jhmdb": (
        (L_SHOULDER, R_SHOULDER), (), (NOSE,), (R_SHOULDER,), (L_SHOULDER,), (R_HIP,),
        (L_HIP,), (R_ELBOW,), (L_ELBOW,), (R_KNEE,), (L_KNEE,), (R_WRIST,), (L_WRIST,),
        (R_ANKLE,), (L_ANKLE,),
    ),
}  # fmt: skip


def mapping(skeleton: str) -> tuple[Source, ...]:
    """The landmark sources of each joint of built-in ``skeleton`` (checked against it)."""
    joints = builtin(skeleton).joints  # raises a one-line SkeletonError for unknown names
    if skeleton not in MAPPINGS:
        raise ValueError(f"no BlazePose mapping for skeleton {skeleton!r}")
    table = MAPPINGS[skeleton]
    assert len(table) == len(joints), f"mapping for {skeleton} is out of date"
    return table


def missing_joints(skeleton: str) -> list[str]:
    """Joints of ``skeleton`` that BlazePose has no counterpart for."""
    joints = builtin(skeleton).joints
    return [joints[j] for j, src in enumerate(mapping(skeleton)) if not src]


def to_skeleton(
    xy: NDArray[np.floating], confidence: NDArray[np.floating], skeleton: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Landmarks (K, 33, 2) and their confidence (K, 33) as (K, J, 2) joints of
    ``skeleton`` and (K, J) confidence; NaN for missing joints. A midpoint joint gets the
    lower confidence of its two landmarks."""
    table = mapping(skeleton)
    pts = np.asarray(xy, dtype=np.float64)
    conf = np.asarray(confidence, dtype=np.float64)
    out = np.full((pts.shape[0], len(table), 2), np.nan)
    out_conf = np.full((pts.shape[0], len(table)), np.nan)
    for j, src in enumerate(table):
        if src:
            out[:, j] = pts[:, list(src)].mean(axis=1)
            out_conf[:, j] = conf[:, list(src)].min(axis=1)
    return out, out_conf
