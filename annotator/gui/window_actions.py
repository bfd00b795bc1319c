"""The window's action handlers (``act_<id>(window)`` for each ``keymap.ACTIONS`` entry) and
its dynamic menus, kept apart so the window's layout and wiring read in one sitting.
Handlers gather input (dialogs, the current frame and joint) and call the session, which
turns every edit into a history command.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from annotator.gui import opening
from annotator.gui.dialogs import ShortcutsDialog

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow


def joint_menu(window: MainWindow, joint: int | None, screen_pos: QtCore.QPoint) -> None:
    session = window.session
    if session is None:
        return
    menu = QtWidgets.QMenu(window)
    if joint is not None:
        session.set_joint(joint)
        name = session.skeleton.joints[joint]
        menu.addSection(name)
        for text, fn in (
            ("Toggle visible / occluded\tV", lambda: session.toggle_occluded(joint)),
            ("Mark absent\tX", lambda: session.mark_absent(joint)),
            ("Delete label\tDel", lambda: session.delete(joint)),
        ):
            menu.addAction(text, functools.partial(window._guarded, fn))
    choose = menu.addMenu("Current joint")
    for j, jname in enumerate(session.skeleton.joints):
        act = choose.addAction(jname, functools.partial(session.set_joint, j))
        act.setCheckable(True)
        act.setChecked(j == session.joint)
    menu.addSeparator()
    menu.addAction(
        "Copy pose from nearest labelled frame\tC", functools.partial(act_copy_pose, window)
    )
    menu.addAction("Fit frame to window\tF", window.frame_view.fit)
    menu.popup(screen_pos)
    window.context_menu = menu


def fill_recent_menu(window: MainWindow) -> None:
    window.recent_menu.clear()
    paths = opening.recent_paths()
    if not paths:
        window.recent_menu.addAction("(none)").setEnabled(False)
    for path in paths:
        window.recent_menu.addAction(str(path), functools.partial(window.open_path, path))


def fill_export_menu(window: MainWindow) -> None:
    window.export_menu.clear()
    for name, description in opening.export_formats():
        export = functools.partial(opening.export_dialog, window, name)
        window.export_menu.addAction(f"{description}…", functools.partial(window._guarded, export))


# -- actions (keymap ids) ------------------------------------------------------------------
def act_open_video(window: MainWindow) -> None:
    path = opening.ask_open_video(window, window.session)
    if path:
        window.open_path(path)


def act_open_project(window: MainWindow) -> None:
    path = opening.ask_open_project(window, window.session)
    if path:
        window.open_path(path)


def act_save(window: MainWindow) -> None:
    opening.save(window, window._need(), ask_path=False)


def act_save_as(window: MainWindow) -> None:
    opening.save(window, window._need(), ask_path=True)


def act_export(window: MainWindow) -> None:
    opening.export_dialog(window, None)


def act_close_window(window: MainWindow) -> None:
    window.close()


def act_undo(window: MainWindow) -> None:
    window._need().undo()


def act_redo(window: MainWindow) -> None:
    window._need().redo()


def act_copy_pose(window: MainWindow) -> None:
    source = window._need().copy_from_nearest()
    if source is None:
        window.statusBar().showMessage("no labelled frame to copy from", 3000)
    else:
        window.statusBar().showMessage(f"copied the pose of frame {source}", 3000)


def act_accept_fill(window: MainWindow) -> None:
    if not window._need().accept_fill():
        window.statusBar().showMessage("no filled joint to accept on this frame", 3000)


def act_flip(window: MainWindow) -> None:
    window._need().flip()


def act_clear_frame(window: MainWindow) -> None:
    window._need().clear_frame()


def act_next_frame(window: MainWindow) -> None:
    window._need().step(1)


def act_prev_frame(window: MainWindow) -> None:
    window._need().step(-1)


def act_next_10(window: MainWindow) -> None:
    window._need().step(10)


def act_prev_10(window: MainWindow) -> None:
    window._need().step(-10)


def act_next_labelled(window: MainWindow) -> None:
    if not window._need().jump_labelled(True):
        window.statusBar().showMessage("no labelled frame after this one", 2000)


def act_prev_labelled(window: MainWindow) -> None:
    if not window._need().jump_labelled(False):
        window.statusBar().showMessage("no labelled frame before this one", 2000)


def act_next_proposed(window: MainWindow) -> None:
    if not window._need().jump_proposed(True):
        window.statusBar().showMessage("no proposed frame after this one", 2000)


def act_prev_proposed(window: MainWindow) -> None:
    if not window._need().jump_proposed(False):
        window.statusBar().showMessage("no proposed frame before this one", 2000)


def act_next_to_label(window: MainWindow) -> None:
    session = window._need()
    problem = session.ranking_problem()
    if problem is not None:
        window.statusBar().showMessage(problem, 5000)
        return
    ranked = session.rank_to_label(top=1)
    window.show_suggestion(ranked[0][0] if ranked else None)
    if not ranked:
        window.statusBar().showMessage("no filled frame is left to label", 4000)
        return
    frame, gain = ranked[0]
    session.go_to(frame)
    if session.held_on(frame):
        why = "before the first or after the last label the pose is only held"
    else:
        why = f"the fill is least sure there (score {gain:.0f} px²" + (
            ", weighted by the video's changes)" if session.video_descriptors is not None else ")"
        )
    window.statusBar().showMessage(f"frame {frame} is next to label: {why}", 6000)


def act_first_frame(window: MainWindow) -> None:
    window._need().go_to(0)


def act_last_frame(window: MainWindow) -> None:
    session = window._need()
    session.go_to(session.frame_count - 1)


def act_goto(window: MainWindow) -> None:
    session = window._need()
    frame, ok = QtWidgets.QInputDialog.getInt(
        window, "Go to frame", "Frame (0-based):", session.frame, 0, session.frame_count - 1
    )
    if ok:
        session.go_to(frame)


def act_play(window: MainWindow) -> None:
    window._set_playing(not window._play_timer.isActive())


def act_next_joint(window: MainWindow) -> None:
    session = window._need()
    session.set_joint(session.joint + 1)


def act_prev_joint(window: MainWindow) -> None:
    session = window._need()
    session.set_joint(session.joint - 1)


def act_toggle_occluded(window: MainWindow) -> None:
    window._need().toggle_occluded()


def act_mark_absent(window: MainWindow) -> None:
    window._need().mark_absent()


def act_delete_joint(window: MainWindow) -> None:
    window._need().delete()


def act_fit(window: MainWindow) -> None:
    window.frame_view.fit()


def act_zoom_in(window: MainWindow) -> None:
    window.frame_view.zoom(1.25)


def act_zoom_out(window: MainWindow) -> None:
    window.frame_view.zoom(0.8)


def act_timeline_all(window: MainWindow) -> None:
    window.timeline.zoom_to(0, window._need().frame_count)


def act_uncertainty(window: MainWindow) -> None:
    overlay = window.frame_view.overlay
    if overlay is not None:
        overlay.spread_all = window.actions_by_id["uncertainty"].isChecked()
        overlay.update()


def act_next_gated(window: MainWindow) -> None:
    if not window._need().jump_gated(True):
        window.statusBar().showMessage("no gated frame after this one", 2000)


def act_prev_gated(window: MainWindow) -> None:
    if not window._need().jump_gated(False):
        window.statusBar().showMessage("no gated frame before this one", 2000)


def act_next_uncertain(window: MainWindow) -> None:
    if not window._need().jump_uncertain(True):
        window.statusBar().showMessage("no uncertain stretch after this one", 2000)


def act_prev_uncertain(window: MainWindow) -> None:
    if not window._need().jump_uncertain(False):
        window.statusBar().showMessage("no uncertain stretch before this one", 2000)


def _toggle_row(window: MainWindow) -> None:
    window.apply_row_toggles()


act_row_scores = act_row_gate = act_row_residual = _toggle_row
act_row_uncertainty = act_row_spans = _toggle_row


def act_propose(window: MainWindow) -> None:
    opening.propose(window, window._need())


def act_extract_motion(window: MainWindow) -> None:
    from annotator.gui import motion

    session = window._need()
    if motion.running(window):
        window.statusBar().showMessage("the motion fields are being extracted already", 3000)
        return
    motion.start(window, session)


def act_cancel_tasks(window: MainWindow) -> None:
    window.tasks.cancel_all()


def act_shortcuts(window: MainWindow) -> None:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


def act_about(window: MainWindow) -> None:
    from annotator import __version__

    QtWidgets.QMessageBox.about(
        window,
        "About annotator",
        f"annotator {__version__}: pose annotation for videos that labels fewer frames.",
    )
