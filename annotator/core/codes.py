"""The two enums every part of the app shares (CONTRACTS.md): joint visibility and value source.

Their integer values are the codes stored in ``.npz`` fills and exports; do not reorder.
"""

from __future__ import annotations

from enum import IntEnum


class Visibility(IntEnum):
    """State of one joint on one frame; the value is the contract's npz code."""

    UNLABELLED = 0  # nothing known
    VISIBLE = 1
    OCCLUDED = 2  # position known or estimated, not seen
    ABSENT = 3  # outside the frame or not present: no position

    @property
    def has_position(self) -> bool:
        return self in (Visibility.VISIBLE, Visibility.OCCLUDED)

    def to_coco(self) -> int:
        """COCO's v: absent/unlabelled -> 0, occluded -> 1, visible -> 2."""
        return _TO_COCO[self]

    @classmethod
    def from_coco(cls, v: int) -> Visibility:
        """Inverse of :meth:`to_coco`; COCO's 0 becomes ``UNLABELLED`` (COCO cannot say absent)."""
        try:
            return _FROM_COCO[int(v)]
        except KeyError:
            raise ValueError(f"COCO visibility must be 0, 1 or 2, not {v!r}") from None


_TO_COCO = {
    Visibility.UNLABELLED: 0,
    Visibility.ABSENT: 0,
    Visibility.OCCLUDED: 1,
    Visibility.VISIBLE: 2,
}
_FROM_COCO = {0: Visibility.UNLABELLED, 1: Visibility.OCCLUDED, 2: Visibility.VISIBLE}


class Source(IntEnum):
    """Where a value comes from; the value is the int8 index stored in ``source`` arrays."""

    MANUAL = 0
    LINEAR = 1
    PCHIP = 2
    HPIM = 3
    EQ17 = 4
    FISTA = 5
    MV = 6
    HPIM_MV = 7
    PREDICTED = 8
    NONE = 9

    @property
    def label(self) -> str:
        """The contract's name (``hpim+mv`` for ``HPIM_MV``)."""
        return SOURCE_NAMES[self.value]

    @classmethod
    def from_label(cls, name: str) -> Source:
        try:
            return cls(SOURCE_NAMES.index(name))
        except ValueError:
            raise ValueError(
                f"unknown source {name!r}; expected one of {', '.join(SOURCE_NAMES)}"
            ) from None


SOURCE_NAMES: tuple[str, ...] = (
    "manual",
    "linear",
    "pchip",
    "hpim",
    "eq17",
    "fista",
    "mv",
    "hpim+mv",
    "predicted",
    "none",
)
