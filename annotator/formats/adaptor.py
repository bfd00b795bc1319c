"""What one import/export format is: ``FormatAdaptor``, the record each format module exports
in its ``ADAPTORS`` and the registry (``formats.registry``) collects.

It lives apart from the registry because every format module imports it while the registry
imports every format module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotator.core.poseset import PoseSet
from annotator.core.schema import check_pose_set
from annotator.errors import FormatError

Reader = Callable[..., PoseSet]
Writer = Callable[..., None]


@dataclass(frozen=True)
class FormatAdaptor:
    """How to read and/or write one format."""

    name: str  # the contract's --format name
    description: str  # shown in file dialogs
    extensions: tuple[str, ...]  # with the dot; empty for folder formats
    is_folder: bool
    can_read: bool
    can_write: bool
    reader: Reader | None
    writer: Writer | None
    sniffer: Callable[[Path], bool]
    # Whether the writer writes frame images when the ``images`` option is not given; None
    # for formats that never write images. The caller opens the video for those writes: the
    # formats package reads frames only through what it is handed.
    images_by_default: bool | None = None

    def read(self, path: str | Path, **options: Any) -> PoseSet:
        if self.reader is None:
            raise FormatError(f"format {self.name!r} cannot be imported")
        path = Path(path)
        ps = self.reader(path, **options)
        check_pose_set(ps, path.name, FormatError)  # what imports must save and load again
        return ps

    def write(self, ps: PoseSet, path: str | Path, **options: Any) -> None:
        if self.writer is None:
            raise FormatError(f"format {self.name!r} is import-only")
        self.writer(ps, Path(path), **options)

    def needs_video(self, **options: Any) -> bool:
        """True when writing with ``options`` reads frame images, so ``video`` must be given."""
        if self.images_by_default is None:
            return False
        return bool(options.get("images", self.images_by_default))

    def sniff(self, path: str | Path) -> bool:
        """True when ``path`` looks like this format (cheap; used by :func:`guess`)."""
        try:
            return bool(self.sniffer(Path(path)))
        except (OSError, ValueError, FormatError):
            return False

    def dialog_filter(self) -> str:
        if self.is_folder:
            return f"{self.description} (folder)"
        return f"{self.description} ({' '.join('*' + e for e in self.extensions)})"
