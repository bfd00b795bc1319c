"""Several people in one video: their colours, the people bar, the dimmed others on the frame.

Each person (a document instance) has a track id and a colour from a fixed palette keyed by
that id, so a person keeps their colour across sessions and exports. One person is *active*:
clicks, drags, the joint keys, copy, accept and the timeline act on them (``Session.instance``).
The others are drawn dimmed in their own colour and cannot be picked; with two people or more
each one carries a ``#track`` tag above their head.

The bar in the transport row (beside the current joint) chooses the active person and adds or removes one; the same
actions are in the Edit and Navigate menus (``keymap.py``: ``Ctrl+Shift+N``, ``Tab`` /
``Shift+Tab``). Adding and removing are history commands (``AddInstance``, ``RemoveInstance``),
so one undo takes either back; removing a person who has labels asks first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core.codes import Visibility
from annotator.core.skeleton import Skeleton
from annotator.gui.overlay import PoseView
from annotator.gui.wording import plural

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow
    from annotator.gui.session import Session

# Distinct, saturated colours that read on dark and light frames; track id t gets
# PALETTE[t % len(PALETTE)].
PALETTE: tuple[str, ...] = (
    "#f2994a", "#27ae60", "#bb6bd9", "#2d9cdb", "#eb5757", "#f2c94c", "#56ccf2", "#6fcf97",
    "#e0569b", "#9b51e0",
)  # fmt: skip
OTHER_ALPHA = 130  # how strongly the people not being edited are drawn (0..255)


def person_color(track_id: int) -> QtGui.QColor:
    """The colour of the person with ``track_id`` (stable: the palette is keyed by it)."""
    return QtGui.QColor(PALETTE[int(track_id) % len(PALETTE)])


def person_name(track_id: int) -> str:
    return f"person #{track_id}"


@dataclass(frozen=True)
class PersonPose:
    """One person's pose on the current frame, as the overlay draws it."""

    track_id: int
    pose: PoseView
    active: bool


def tag_point(pose: PoseView) -> tuple[float, float] | None:
    """Where a person's tag goes (image pixels): above the highest drawn joint, centred on
    the drawn joints; None when nothing is drawn."""
    shown = pose.shown()
    if not shown.any():
        return None
    xy = pose.xy[shown]
    return float((xy[:, 0].min() + xy[:, 0].max()) / 2), float(xy[:, 1].min())


def paint_others(
    painter: QtGui.QPainter,
    transform: QtGui.QTransform,
    skeleton: Skeleton,
    people: Sequence[PersonPose],
    radius: float,
) -> None:
    """The people not being edited: edges and joints in their colour, dimmed (device
    pixels; ``transform`` maps image pixels to the device)."""
    for person in people:
        if person.active:
            continue
        base = person_color(person.track_id)
        color = QtGui.QColor(base.red(), base.green(), base.blue(), OTHER_ALPHA)
        pose = person.pose
        shown = pose.shown().tolist()
        pts = [
            transform.map(QtCore.QPointF(float(x), float(y))) if ok else None
            for (x, y), ok in zip(pose.xy.tolist(), shown, strict=True)
        ]
        painter.setPen(QtGui.QPen(color, 1.5))
        for a, b in skeleton.edges:
            pa, pb = pts[a], pts[b]
            if pa is not None and pb is not None:
                painter.drawLine(pa, pb)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(color)
        occluded = (pose.visibility == Visibility.OCCLUDED).tolist()
        for p, occ in zip(pts, occluded, strict=True):
            if p is not None:
                painter.drawEllipse(
                    p, radius * (0.5 if occ else 0.7), radius * (0.5 if occ else 0.7)
                )


def paint_tags(
    painter: QtGui.QPainter, transform: QtGui.QTransform, people: Sequence[PersonPose]
) -> None:
    """``#track`` above each person (only with two people or more); the active one bold."""
    if len(people) < 2:
        return
    font = painter.font()
    for person in people:
        at = tag_point(person.pose)
        if at is None:
            continue
        p = transform.map(QtCore.QPointF(*at))
        font.setBold(person.active)
        painter.setFont(font)
        text = f"#{person.track_id}"
        width = painter.fontMetrics().horizontalAdvance(text)
        color = person_color(person.track_id)
        if not person.active:
            color.setAlpha(OTHER_ALPHA + 60)
        height = painter.fontMetrics().height()
        box = QtCore.QRectF(p.x() - width / 2 - 3, p.y() - 16 - height, width + 6, height + 2)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(0, 0, 0, 120))  # legible on a light frame too
        painter.drawRoundedRect(box, 3, 3)
        painter.setPen(color)
        painter.drawText(box, QtCore.Qt.AlignmentFlag.AlignCenter, text)


class PeopleBar(QtWidgets.QWidget):
    """The active person (a combo of every person, in their colour) with add and remove."""

    person_chosen = QtCore.Signal(int)  # instance index
    add_requested = QtCore.Signal()
    remove_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 12, 0)
        self.combo = QtWidgets.QComboBox()
        self.combo.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # keys belong to the frame
        self.combo.setToolTip("the person being labelled (Tab / Shift+Tab)")
        self.combo.activated.connect(self.person_chosen.emit)
        self.combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        # Its whole text when there is room; in a narrow window it gives up the labelled-frame
        # count, never the person's name (which person clicks go to).
        name = self.combo.fontMetrics().horizontalAdvance(f"{person_name(88)}  (")
        self.combo.setMinimumWidth(name + 12 + 48)  # + the colour icon, arrow and margins
        layout.addWidget(self.combo)
        self.add_button = QtWidgets.QToolButton()
        self.add_button.setText("+")
        self.add_button.setToolTip("add a person")  # the window adds the user's key
        self.add_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.add_button.clicked.connect(self.add_requested.emit)
        layout.addWidget(self.add_button)
        self.remove_button = QtWidgets.QToolButton()
        self.remove_button.setText("−")
        self.remove_button.setToolTip("remove the active person and their labels (undoable)")
        self.remove_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.remove_button.clicked.connect(self.remove_requested.emit)
        layout.addWidget(self.remove_button)
        self.set_people([], 0)

    def set_people(self, people: Sequence[tuple[int, int]], active: int) -> None:
        """``people``: (track id, labelled frames) of each person in document order."""
        self.combo.blockSignals(True)
        self.combo.clear()
        for track, frames in people:
            icon = QtGui.QPixmap(12, 12)
            icon.fill(person_color(track))
            text = f"{person_name(track)}  ({frames} labelled {plural(frames, 'frame')})"
            self.combo.addItem(QtGui.QIcon(icon), text, track)
        if people:
            self.combo.setCurrentIndex(active)
        self.combo.blockSignals(False)
        self.setEnabled(bool(people))
        self.remove_button.setEnabled(len(people) > 1)

    def tracks(self) -> list[int]:
        return [int(self.combo.itemData(k)) for k in range(self.combo.count())]


# -- the window's side -----------------------------------------------------------------------
def connect(window: MainWindow) -> None:
    """Wire the people bar to the window's actions (once, when the window is built)."""
    bar = window.people_bar
    bar.person_chosen.connect(
        lambda k: window.guarded(lambda: window.need_session().set_instance(k))
    )
    bar.add_requested.connect(lambda: window.guarded(lambda: act_add_person(window)))
    bar.remove_requested.connect(lambda: window.guarded(lambda: act_remove_person(window)))


def show_people(window: MainWindow) -> None:
    """The people bar and the drawn people follow the session (people added, removed, or
    another made active)."""
    session = window.session
    update_enabled(window)
    if session is None:
        window.people_bar.set_people([], 0)
        return
    counts = [
        (inst.track_id, int(np.count_nonzero(session.doc.labelled_joint_counts(k))))
        for k, inst in enumerate(session.doc.instances)
    ]
    window.people_bar.set_people(counts, session.instance)
    draw_people(window, session)


def update_enabled(window: MainWindow) -> None:
    """Remove Person only while there is someone else to keep (a project keeps one person;
    it stayed enabled with one and only said so when chosen)."""
    session = window.session
    several = session is not None and len(session.doc.instances) > 1
    window.actions_by_id["remove_person"].setEnabled(several)


def draw_people(window: MainWindow, session: Session) -> None:
    """Hand the overlay every person's pose on the current frame (the active one editable)."""
    overlay = window.frame_view.overlay
    if overlay is None:
        return
    people = []
    for k, inst in enumerate(session.doc.instances):
        active = k == session.instance
        pose = overlay.pose if active else session.pose_view(instance=k)
        people.append(PersonPose(inst.track_id, pose, active))
    overlay.set_people(people)


def act_add_person(window: MainWindow) -> None:
    session = window.need_session()
    session.add_person()
    window.show_status(
        f"added {person_name(session.active_track)}: clicks now label them "
        "(Tab / Shift+Tab switch people)",
        6000,
    )


def act_remove_person(window: MainWindow) -> None:
    session = window.need_session()
    k = session.instance
    track = session.active_track
    frames = int(np.count_nonzero(session.doc.labelled_joint_counts(k)))
    if len(session.doc.instances) > 1 and frames:
        question = (
            f"Remove {person_name(track)} and their labels on {frames} "
            f"{plural(frames, 'frame')}? Edit > Undo brings them back."
        )
        if not window.reporter.ask(question, "Remove person"):
            return
    session.remove_person(k)


def act_next_person(window: MainWindow) -> None:
    session = window.need_session()
    session.set_instance(session.instance + 1)


def act_prev_person(window: MainWindow) -> None:
    session = window.need_session()
    session.set_instance(session.instance - 1)
