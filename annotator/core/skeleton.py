"""Skeleton templates: joint names, drawing edges, left/right pairs and colours.

Built-in templates cover the datasets the app imports (Penn Action, JHMDB, COCO, MPII). Custom
skeletons are JSON files (see ``resources/skeletons/``)::

    {"name": "mouse", "joints": ["nose", "tail"], "edges": [[0, 1]],
     "symmetry": [], "colors": ["#e6194b", "#3cb44b"]}

``symmetry`` and ``colors`` are optional. Invalid templates raise ``SkeletonError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.core.paths import shipped_dir
from annotator.errors import SkeletonError

_LEFT = "#2f80ed"  # blue for the subject's left side
_RIGHT = "#eb5757"  # red for the right side
_CENTRE = "#f2c94c"  # yellow for joints on the midline
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_JOINTS = 256


@dataclass(frozen=True)
class Skeleton:
    """An immutable skeleton template."""

    name: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = ()
    symmetry: tuple[tuple[int, int], ...] = ()
    colors: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _validate(self)
        if not self.colors:
            object.__setattr__(self, "colors", tuple(default_color(j) for j in self.joints))

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        try:
            return self.joints.index(joint)
        except ValueError:
            raise SkeletonError(f"skeleton {self.name!r} has no joint named {joint!r}") from None

    def flip_permutation(self) -> tuple[int, ...]:
        """Joint order after swapping every left/right pair (for the flip command)."""
        perm = list(range(self.num_joints))
        for a, b in self.symmetry:
            perm[a], perm[b] = b, a
        return tuple(perm)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "joints": list(self.joints),
            "edges": [list(e) for e in self.edges],
            "symmetry": [list(s) for s in self.symmetry],
            "colors": list(self.colors),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Skeleton:
        if not isinstance(data, Mapping):
            raise SkeletonError("a skeleton must be a JSON object")
        try:
            name = data["name"]
            joints = data["joints"]
        except KeyError as missing:
            raise SkeletonError(f"skeleton is missing the {missing.args[0]!r} field") from None
        if not isinstance(name, str) or not name.strip():
            raise SkeletonError("skeleton 'name' must be a non-empty string")
        if not isinstance(joints, list) or not all(isinstance(j, str) for j in joints):
            raise SkeletonError("skeleton 'joints' must be a list of names")
        colors = data.get("colors", [])
        if not isinstance(colors, list) or not all(isinstance(c, str) for c in colors):
            raise SkeletonError("skeleton 'colors' must be a list of '#rrggbb' strings")
        return cls(
            name=name,
            joints=tuple(joints),
            edges=_pairs(data.get("edges", []), "edges"),
            symmetry=_pairs(data.get("symmetry", []), "symmetry"),
            colors=tuple(colors),
        )

    @classmethod
    def from_json(cls, path: str | Path) -> Skeleton:
        path = Path(path)
        from annotator.core.safeio import parse_json, read_text

        if not path.exists() and not path.is_symlink():
            raise SkeletonError(f"skeleton file not found: {path}")
        text = read_text(path, 4 << 20, SkeletonError)
        return cls.from_dict(parse_json(text, path.name, SkeletonError))


def _pairs(value: Any, what: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        raise SkeletonError(f"skeleton {what!r} must be a list of [i, j] pairs")
    out = []
    for pair in value:
        if (
            not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in pair)
        ):
            raise SkeletonError(f"skeleton {what!r} must be a list of [i, j] integer pairs")
        out.append((int(pair[0]), int(pair[1])))
    return tuple(out)


def _validate(s: Skeleton) -> None:
    n = len(s.joints)
    if n == 0 or n > MAX_JOINTS:
        raise SkeletonError(f"skeleton {s.name!r} must have 1 to {MAX_JOINTS} joints, not {n}")
    if len(set(s.joints)) != n:
        raise SkeletonError(f"skeleton {s.name!r} has duplicate joint names")
    if any(not j.strip() for j in s.joints):
        raise SkeletonError(f"skeleton {s.name!r} has an empty joint name")
    for what, pairs in (("edge", s.edges), ("symmetry pair", s.symmetry)):
        for a, b in pairs:
            if not (0 <= a < n and 0 <= b < n) or a == b:
                raise SkeletonError(
                    f"skeleton {s.name!r}: {what} ({a}, {b}) must join two different joints 0..{n - 1}"
                )
    seen: set[int] = set()
    for a, b in s.symmetry:
        if a in seen or b in seen:
            raise SkeletonError(f"skeleton {s.name!r}: joint in more than one symmetry pair")
        seen.update((a, b))
    if s.colors:
        if len(s.colors) != n:
            raise SkeletonError(f"skeleton {s.name!r}: {len(s.colors)} colours for {n} joints")
        bad = [c for c in s.colors if not _HEX.match(c)]
        if bad:
            raise SkeletonError(f"skeleton {s.name!r}: colour {bad[0]!r} is not '#rrggbb'")


def default_color(joint: str) -> str:
    """The colour a joint gets by its name: blue for left, red for right, yellow otherwise."""
    low = joint.lower()
    if low.startswith(("l-", "l_", "left")):
        return _LEFT
    if low.startswith(("r-", "r_", "right")):
        return _RIGHT
    return _CENTRE


def _sym(joints: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Pair every left joint with its right twin by name."""
    pairs = []
    for i, name in enumerate(joints):
        for lp, rp in (("L-", "R-"), ("left_", "right_"), ("l_", "r_")):
            if name.startswith(lp):
                twin = rp + name[len(lp) :]
                if twin in joints:
                    pairs.append((i, joints.index(twin)))
    return tuple(pairs)


def _template(name: str, joints: Sequence[str], edges: Sequence[tuple[int, int]]) -> Skeleton:
    return Skeleton(name=name, joints=tuple(joints), edges=tuple(edges), symmetry=_sym(joints))


_PENN_JOINTS = (
    "head", "L-shoulder", "R-shoulder", "L-elbow", "R-elbow", "L-wrist", "R-wrist",
    "L-hip", "R-hip", "L-knee", "R-knee", "L-ankle", "R-ankle",
)  # fmt: skip
_JHMDB_JOINTS = (
    "neck", "belly", "face", "R-shoulder", "L-shoulder", "R-hip", "L-hip", "R-elbow",
    "L-elbow", "R-knee", "L-knee", "R-wrist", "L-wrist", "R-ankle", "L-ankle",
)  # fmt: skip
_COCO_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
_MPII_JOINTS = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
    "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow",
    "l_wrist",
)  # fmt: skip

PENN_ACTION = _template(
    "penn_action",
    _PENN_JOINTS,
    [(0, 1), (0, 2), (1, 2), (1, 3), (3, 5), (2, 4), (4, 6), (1, 7), (2, 8), (7, 8),
     (7, 9), (9, 11), (8, 10), (10, 12)],
)  # fmt: skip
JHMDB = _template(
    "jhmdb",
    _JHMDB_JOINTS,
    [(2, 0), (0, 1), (0, 3), (0, 4), (3, 7), (7, 11), (4, 8), (8, 12), (1, 5), (1, 6),
     (5, 9), (9, 13), (6, 10), (10, 14)],
)  # fmt: skip
# COCO's own 1-based skeleton, made 0-based.
COCO = _template(
    "coco",
    _COCO_JOINTS,
    [(a - 1, b - 1) for a, b in (
        (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8),
        (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
    )],
)  # fmt: skip
MPII = _template(
    "mpii",
    _MPII_JOINTS,
    [(0, 1), (1, 2), (2, 6), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9), (10, 11),
     (11, 12), (12, 7), (7, 13), (13, 14), (14, 15)],
)  # fmt: skip

BUILTIN: dict[str, Skeleton] = {s.name: s for s in (PENN_ACTION, JHMDB, COCO, MPII)}


def builtin(name: str) -> Skeleton:
    """A built-in template by name (``penn_action``, ``jhmdb``, ``coco``, ``mpii``)."""
    try:
        return BUILTIN[name]
    except KeyError:
        raise SkeletonError(
            f"no built-in skeleton {name!r}; choose from {', '.join(sorted(BUILTIN))}"
        ) from None


# Custom templates shipped with the app (``resources/skeletons/*.json``).
TEMPLATE_DIR = shipped_dir("resources") / "skeletons"


def templates(folder: str | Path | None = None) -> dict[str, Skeleton]:
    """Built-in skeletons plus every valid JSON template in ``folder`` (default: the shipped
    ``resources/skeletons``), by name; built-in names win over files."""
    found: dict[str, Skeleton] = {}
    root = Path(folder) if folder is not None else TEMPLATE_DIR
    for path in sorted(root.glob("*.json")) if root.is_dir() else []:
        try:
            skeleton = Skeleton.from_json(path)
        except SkeletonError:
            continue  # a broken user file must not hide the others; load_skeleton reports it
        found.setdefault(skeleton.name, skeleton)
    return {**found, **BUILTIN}


def load_skeleton(spec: str | Path) -> Skeleton:
    """A skeleton from a built-in name, a shipped template name or a JSON file path."""
    text = str(spec)
    if text in BUILTIN:
        return BUILTIN[text]
    shipped = TEMPLATE_DIR / f"{text}.json"
    if not text.endswith(".json") and shipped.is_file():
        return Skeleton.from_json(shipped)
    path = Path(text)
    if path.suffix.lower() == ".json" or path.exists():
        return Skeleton.from_json(path)
    raise SkeletonError(
        f"no skeleton {text!r}: give a JSON file or one of {', '.join(sorted(templates()))}"
    )
