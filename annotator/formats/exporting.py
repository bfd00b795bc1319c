"""One export path for ``annotator export`` and the app's export dialog.

``write_export`` turns the few choices a user makes (format, manual or all frames, frame
images or not) into the options of the format's writer and writes. The command line and the
GUI only gather the choices and, when images are wanted, open the video (formats never open
videos themselves).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotator.core.codes import Source
from annotator.core.document import Document
from annotator.core.poseset import PoseSet
from annotator.errors import FormatError, UsageError
from annotator.formats import registry
from annotator.formats._frames import IMAGE_TYPES

FRAME_CHOICES = ("manual", "all")
# Formats that can write frame images beside the labels, and the image type each defaults to.
IMAGE_FORMATS = {"coco": "jpg", "dlc": "png"}


def check_not_empty(ps: PoseSet, frames: str, doc: Document, all_frames: str) -> None:
    """Refuse an export of ``doc`` that would hold no frame (a file that no reader, ours
    included, takes back), saying what would export: the frames of the estimator's joints
    that a ``manual`` export leaves out, and ``all_frames``, how the caller's user asks for
    every frame (a flag, a button)."""
    if any((inst.source != Source.NONE).any() for inst in ps.instances):
        return
    predicted = sum(len(doc.predicted_frames(i)) for i in range(len(doc.instances)))
    if frames == "manual" and predicted:
        raise UsageError(
            f"nothing to export: no manual labels yet; the {predicted} "
            f"frame{'' if predicted == 1 else 's'} of predicted joints export with {all_frames}"
        )
    raise UsageError("nothing to export: no labels yet")


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
    video: Any = None,
) -> None:
    """Write ``ps`` as format ``name`` to ``out``.

    ``frames``: 'manual' (manual labels only) or 'all' (every frame with a value, each value
    with its source and held flag where the format has room). ``images``: an image type of
    ``image_types(name)`` to write the frame images too, read from ``video`` (an open reader
    the caller closes), or None for none.
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
    if adaptor.needs_video(**options) and video is None:
        raise FormatError("writing frame images needs the video; none was given")
    adaptor.write(ps, Path(out), video=video, **options)
