"""Editing a skeleton template: the logic behind the skeleton editor dialog, without Qt.

A ``SkeletonDraft`` is a mutable copy of a ``Skeleton``: joints can be added, renamed and
deleted, edges and left/right pairs added and deleted. Each edit checks its arguments first
and raises ``SkeletonError`` with one readable sentence (a duplicate name, an edge to a joint
that does not exist...) without changing the draft, so a refused edit never leaves it half
changed. Deleting a joint re-numbers the edges and pairs of the joints after it and drops the
ones that touched it. ``to_skeleton`` gives the immutable template (validated once more);
``save`` writes it as a JSON template (``resources/skeletons/README.md``) atomically.

The editor edits templates, never an open project: a project keeps the skeleton its labels
were made with, so no edit here can drop a label. A saved template is chosen for a new
project when a video is opened (*From JSON…*).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core.safeio import atomic_write_text
from annotator.core.skeleton import MAX_JOINTS, Skeleton, default_color
from annotator.errors import SkeletonError

Pair = tuple[int, int]


def _key(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


@dataclass
class SkeletonDraft:
    """A skeleton being edited; see the module docstring."""

    name: str
    joints: list[str] = field(default_factory=list)
    edges: list[Pair] = field(default_factory=list)
    symmetry: list[Pair] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, skeleton: Skeleton) -> SkeletonDraft:
        return cls(
            skeleton.name,
            list(skeleton.joints),
            [tuple(e) for e in skeleton.edges],  # type: ignore[misc]
            [tuple(s) for s in skeleton.symmetry],  # type: ignore[misc]
            list(skeleton.colors),
        )

    @classmethod
    def load(cls, path: str | Path) -> SkeletonDraft:
        """A draft of the JSON template at ``path`` (``SkeletonError`` if it is invalid)."""
        return cls.of(Skeleton.from_json(path))

    # -- joints --------------------------------------------------------------------------
    def _check_name(self, name: str, ignore: int | None = None) -> str:
        clean = name.strip()
        if not clean:
            raise SkeletonError("a joint needs a name")
        for k, other in enumerate(self.joints):
            if k != ignore and other == clean:
                raise SkeletonError(f"there is already a joint named {clean!r}")
        return clean

    def _check_joint(self, joint: int) -> None:
        if not 0 <= joint < len(self.joints):
            raise SkeletonError(
                f"joint {joint} does not exist (the skeleton has {len(self.joints)} joints)"
            )

    def add_joint(self, name: str) -> int:
        """Append a joint; returns its index."""
        clean = self._check_name(name)
        if len(self.joints) >= MAX_JOINTS:
            raise SkeletonError(f"a skeleton has at most {MAX_JOINTS} joints")
        self.joints.append(clean)
        self.colors.append(default_color(clean))
        return len(self.joints) - 1

    def rename_joint(self, joint: int, name: str) -> None:
        """Rename a joint; a colour that followed the old name's side follows the new one."""
        self._check_joint(joint)
        clean = self._check_name(name, ignore=joint)
        if self.colors[joint] == default_color(self.joints[joint]):
            self.colors[joint] = default_color(clean)
        self.joints[joint] = clean

    def delete_joint(self, joint: int) -> None:
        """Delete a joint with its edges and pair; later joints move down by one."""
        self._check_joint(joint)
        if len(self.joints) == 1:
            raise SkeletonError("a skeleton keeps at least one joint")

        def renumber(pairs: list[Pair]) -> list[Pair]:
            shift = [(a - (a > joint), b - (b > joint)) for a, b in pairs if joint not in (a, b)]
            return [(int(a), int(b)) for a, b in shift]

        self.edges = renumber(self.edges)
        self.symmetry = renumber(self.symmetry)
        del self.joints[joint]
        del self.colors[joint]

    # -- edges and pairs -----------------------------------------------------------------
    def _check_pair(self, a: int, b: int, what: str) -> Pair:
        n = len(self.joints)
        for j in (a, b):
            if not 0 <= j < n:
                raise SkeletonError(f"{what} to joint {j}, which does not exist (0..{n - 1})")
        if a == b:
            raise SkeletonError(f"{what} must join two different joints")
        return (int(a), int(b))

    def add_edge(self, a: int, b: int) -> None:
        pair = self._check_pair(a, b, "an edge")
        if _key(*pair) in {_key(*e) for e in self.edges}:
            raise SkeletonError(
                f"{self.joints[a]} and {self.joints[b]} are already joined by an edge"
            )
        self.edges.append(pair)

    def delete_edge(self, index: int) -> None:
        if not 0 <= index < len(self.edges):
            raise SkeletonError(f"edge {index} does not exist")
        del self.edges[index]

    def add_pair(self, left: int, right: int) -> None:
        """A left/right pair, swapped by "flip left/right"; a joint is in one pair at most."""
        pair = self._check_pair(left, right, "a left/right pair")
        for a, b in self.symmetry:
            for j in pair:
                if j in (a, b):
                    raise SkeletonError(
                        f"{self.joints[j]} is already paired with {self.joints[b if j == a else a]}"
                    )
        self.symmetry.append(pair)

    def delete_pair(self, index: int) -> None:
        if not 0 <= index < len(self.symmetry):
            raise SkeletonError(f"left/right pair {index} does not exist")
        del self.symmetry[index]

    def set_name(self, name: str) -> None:
        clean = name.strip()
        if not clean:
            raise SkeletonError("the skeleton needs a name")
        self.name = clean

    # -- result ----------------------------------------------------------------------------
    def to_skeleton(self) -> Skeleton:
        """The immutable template (``SkeletonError`` when it is not a valid one)."""
        return Skeleton(
            name=self.name,
            joints=tuple(self.joints),
            edges=tuple(self.edges),
            symmetry=tuple(self.symmetry),
            colors=tuple(self.colors),
        )

    def save(self, path: str | Path) -> Path:
        """Write the template as JSON (atomically); returns the path written."""
        skeleton = self.to_skeleton()
        out = Path(path)
        if out.suffix.lower() != ".json":
            out = out.with_name(out.name + ".json")
        text = json.dumps(skeleton.to_dict(), indent=2) + "\n"
        atomic_write_text(out, text, SkeletonError)
        return out
