"""Which command an editing action makes, decided without Qt.

The window's session (``gui/session.py``) gathers the input (current frame, joint, person,
the fill shown) and pushes what these functions return; returning None means the action has
nothing to change (no undo step). Kept here so the rules are tested with no window at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from annotator.core import commands as cmd
from annotator.core.codes import Visibility
from annotator.core.document import Document, Proposals
from annotator.core.proposal_plan import ACCEPTED
from annotator.errors import AnnotatorError


def toggle_occluded(
    frame: int, joint: int, shown: Visibility, xy: tuple[float, float], instance: int
) -> cmd.Command | None:
    """Visible <-> occluded for a joint shown with visibility ``shown`` at ``xy`` (a filled
    joint becomes a manual label there); None for a joint without a position."""
    if not shown.has_position:
        return None
    target = Visibility.VISIBLE if shown == Visibility.OCCLUDED else Visibility.OCCLUDED
    return cmd.SetVisibility(frame, joint, target, instance, float(xy[0]), float(xy[1]))


def delete_label(
    manual: NDArray[np.float32], frame: int, joint: int, instance: int
) -> cmd.Command | None:
    """Delete a manual label; None when the joint has none on ``frame``."""
    if manual[frame, joint, 2] == Visibility.UNLABELLED:
        return None
    return cmd.DeleteJoint(frame, joint, instance)


def clear_frame(manual: NDArray[np.float32], frame: int, instance: int) -> cmd.Command | None:
    """Delete every manual label of ``frame``; None when it has none."""
    if not (manual[frame, :, 2] != Visibility.UNLABELLED).any():
        return None
    return cmd.ClearFrame(frame, instance)


def copy_from_nearest(doc: Document, frame: int, instance: int) -> cmd.CopyPose | None:
    """Copy the nearest labelled frame's pose onto the joints of ``frame`` without a label
    (the earlier frame on a tie); None when no other frame is labelled or every joint of
    ``frame`` is."""
    if not (doc.manual(instance)[frame, :, 2] == Visibility.UNLABELLED).any():
        return None
    before = doc.nearest_labelled(frame, "previous", instance)
    after = doc.nearest_labelled(frame, "next", instance)
    if before is None and after is None:
        return None
    if after is None or (before is not None and frame - before <= after - frame):
        return cmd.CopyPose(frame, "previous", instance)
    return cmd.CopyPose(frame, "next", instance)


def accept_fill(
    manual_frame: NDArray[np.float32], shown: NDArray[np.float32], frame: int, instance: int
) -> cmd.Command | None:
    """Filled and predicted joints of ``frame`` become manual labels. ``manual_frame``:
    (J, 3) its manual labels; ``shown``: (J, 3) what the fill shows there. None when no
    unlabelled joint has a value."""
    values = np.array(shown)[None]
    if not ((manual_frame[:, 2] == Visibility.UNLABELLED) & (values[0, :, 2] != 0)).any():
        return None
    return cmd.AcceptFill(frame, values, instance)


def accept_proposals(
    doc: Document,
    frames: Sequence[int] | NDArray[np.int64],
    scores: Sequence[float] | NDArray[np.float64] | None,
    method: str,
    instance: int,
    gate: Sequence[int] | NDArray[np.integer] | None = None,
    keep_plan: bool = False,
) -> cmd.Command:
    """A proposer's result as one command: the proposals, the gate's per-frame 0/1 decisions
    (``gate``, checked: one per frame), and the accepted plan dropped unless ``keep_plan``."""
    proposals = Proposals(
        tuple(int(f) for f in frames),
        None if scores is None else tuple(float(s) for s in scores),
        method,
    )
    accept = cmd.AcceptProposals(proposals, instance=instance)
    steps: list[cmd.Command] = [accept]
    if gate is not None:
        decisions = np.asarray(gate).reshape(-1)
        count = doc.video.frame_count
        if decisions.size != count or not np.isin(decisions, (0, 1)).all():
            raise AnnotatorError(
                f"the {method} proposals carry {decisions.size} gate decisions, not one 0 "
                f"or 1 for each of the {count} frames"
            )
        steps.append(cmd.SetGate(0, decisions.astype(np.int8)))
    if not keep_plan and doc.settings.get(ACCEPTED):
        steps.append(cmd.SetSetting(ACCEPTED, None))
    return accept if len(steps) == 1 else cmd.Batch(accept.text, steps)
