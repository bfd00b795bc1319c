"""One export path for ``annotator export`` and the app's export dialog.

``write_export`` turns the few choices a user makes (format, manual or all frames, frame
images or not) into the options of the format's writer, opens the video when images are
wanted, and writes. The command line and the GUI only gather the choices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotator.core.poseset import PoseSet
from annotator.errors import FormatError, UsageError
from annotator.formats import registry
from annotator.formats._frames import IMAGE_TYPES

FRAME_CHOICES = ("manual", "all")
# Formats that can write frame images beside the labels, and the image type each defaults to.
IMAGE_FORMATS = {"coco": "jpg", "dlc": "png"}


def image_types(name: str) -> tuple[str, ...]:
    """The image types format ``name`` can write (empty: none); DeepLabCut writes PNG only."""
    if name == "coco":
        return tuple(IMAGE_TYPES)
    if name == "dlc":
        return ("png",)
    return ()


def write_export(
    ps: PoseSet,
    name: str,
    out: str | Path,
    *,
    frames: str = "manual",
    images: str | None = None,
    scorer: str = "annotator",
    video_path: str | None = None,
) -> None:
    """Write ``ps`` as format ``name`` to ``out``.

    ``frames``: 'manual' (manual labels only) or 'all' (every frame with a value, each value
    with its source and held flag where the format has room). ``images``: an image type of
    ``image_types(name)`` to write the frame images too (read from ``video_path``, else the
    labels' video), or None for none.
    """
    adaptor = registry.get(name)
    if frames not in FRAME_CHOICES:
        raise UsageError(f"frames must be one of {', '.join(FRAME_CHOICES)}, not {frames!r}")
    if images is not None and images not in image_types(name):
        allowed = image_types(name)
        if not allowed:
            raise UsageError(f"{name} cannot write frame images")
        raise UsageError(f"{name} writes {' or '.join(allowed)} images, not {images!r}")
    options: dict[str, Any] = {"frames": frames}
    if name == "coco":
        options["images"] = images
    if name == "dlc":
        options["images"] = images is not None
    if name in ("dlc", "dlc-csv"):
        options["scorer"] = scorer
    video = _open(video_path or ps.video_path or "") if images is not None else None
    try:
        adaptor.write(ps, Path(out), video=video, **options)
    finally:
        if video is not None:
            video.close()


def _open(path: str) -> Any:
    from annotator.video import open_video

    if not path or not Path(path).is_file():
        raise FormatError(
            f"frame images need the project's video, which was not found: {path or '(none)'}"
        )
    return open_video(path)
