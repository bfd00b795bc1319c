"""The window's action handlers and its dynamic menus, kept apart so the window's layout and
wiring read in one sitting. ``HANDLERS`` at the end is the one action table: each
``keymap.ACTIONS`` id and the function the window calls for it (some live with their feature:
people, review, the skeleton editor).
Handlers gather input (dialogs, the current frame and joint) and call the session, which
turns every edit into a history command.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from annotator.core import commands as cmd
from annotator.core.codes import Visibility
from annotator.gui import next_label, opening, people, proposal_panel, review, skeleton_editor
from annotator.gui.dialogs import ShortcutsDialog
from annotator.gui.keymap import menu_text

if TYPE_CHECKING:
    from annotator.gui.main_window import MainWindow


def joint_menu(window: MainWindow, joint: int | None, screen_pos: QtCore.QPoint) -> None:
    session = window.session
    if session is None:
        return
    menu = QtWidgets.QMenu(window)
    shortcuts = window.settings.shortcuts  # the user's keys (Settings > Shortcuts)

    def text_of(action_id: str) -> str:
        return menu_text(action_id, shortcuts.keys(action_id))

    if joint is not None:
        session.set_joint(joint)
        name = session.skeleton.joints[joint]
        menu.addSection(name)
        for text, fn in (
            (text_of("toggle_occluded"), lambda: session.toggle_occluded(joint)),
            (text_of("mark_absent"), lambda: session.mark_absent(joint)),
            (text_of("delete_joint"), lambda: session.delete(joint)),
        ):
            menu.addAction(text, functools.partial(window.guarded, fn))
    choose = menu.addMenu("Current joint")
    for j, jname in enumerate(session.skeleton.joints):
        act = choose.addAction(jname, functools.partial(session.set_joint, j))
        act.setCheckable(True)
        act.setChecked(j == session.joint)
    menu.addSeparator()
    menu.addAction(text_of("copy_pose"), functools.partial(act_copy_pose, window))
    menu.addAction(text_of("fit"), window.frame_view.fit)
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
        window.export_menu.addAction(f"{description}…", functools.partial(window.guarded, export))


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
    opening.save(window, window.need_session(), ask_path=False)


def act_save_as(window: MainWindow) -> None:
    opening.save(window, window.need_session(), ask_path=True)


def act_import_labels(window: MainWindow) -> None:
    opening.import_labels(window)


def act_export(window: MainWindow) -> None:
    opening.export_dialog(window, None)


def act_close_window(window: MainWindow) -> None:
    window.close()


def act_undo(window: MainWindow) -> None:
    window.need_session().undo()


def act_redo(window: MainWindow) -> None:
    window.need_session().redo()


def act_copy_pose(window: MainWindow) -> None:
    session = window.need_session()
    if (session.manual()[session.frame, :, 2] != Visibility.UNLABELLED).all():
        window.show_status(
            f"every joint of frame {session.frame} is labelled: nothing to copy into", 4000
        )
        return
    source = session.copy_from_nearest()
    if source is None:
        window.show_status("no labelled frame to copy from", 3000)
    else:
        window.show_status(f"copied the pose of frame {source}", 3000)


def act_accept_fill(window: MainWindow) -> None:
    if not window.need_session().accept_fill():
        window.show_status("no filled joint to accept on this frame", 3000)


def act_scene_cut(window: MainWindow) -> None:
    """Ctrl+K: mark the current frame as the first of a new shot, or take that cut away. The
    fill, the walks and the proposals already keep to the shots; a hard cut in the video
    was otherwise filled across."""
    session = window.need_session()
    frame = session.frame
    if frame == 0:
        window.show_status("frame 0 starts the video: a scene cut goes before a later frame", 4000)
        return
    cut = frame not in session.doc.scene_cuts
    session.push(cmd.SetSceneCut(frame, cut))
    session.history.seal()
    said = "scene cut before" if cut else "no scene cut before"
    keys = window.settings.shortcuts.keys("undo")
    undo = f" ({keys[0]} undoes)" if keys else ""
    window.show_status(f"{said} frame {frame}{undo}", 4000)


def act_next_method(window: MainWindow) -> None:
    """M: the next fill method of the Fill panel's list, from the keyboard (it took a
    mouse)."""
    from annotator.gui.session import available_methods

    session = window.need_session()
    methods = list(available_methods())
    at = methods.index(session.method) if session.method in methods else -1
    method = methods[(at + 1) % len(methods)]
    session.set_method(method)
    window.show_status(f"fill method: {method}", 3000)


def act_flip(window: MainWindow) -> None:
    session = window.need_session()
    if not session.flip():
        window.show_status(f"frame {session.frame} has no labels to swap left and right", 4000)


def act_clear_frame(window: MainWindow) -> None:
    window.need_session().clear_frame()


def act_next_frame(window: MainWindow) -> None:
    window.need_session().step(1)


def act_prev_frame(window: MainWindow) -> None:
    window.need_session().step(-1)


def act_next_10(window: MainWindow) -> None:
    window.need_session().step(10)


def act_prev_10(window: MainWindow) -> None:
    window.need_session().step(-10)


def act_next_labelled(window: MainWindow) -> None:
    if not window.need_session().jump_labelled(True):
        window.show_status("no labelled frame after this one", 2000)


def act_prev_labelled(window: MainWindow) -> None:
    if not window.need_session().jump_labelled(False):
        window.show_status("no labelled frame before this one", 2000)


def act_next_proposed(window: MainWindow) -> None:
    if not window.need_session().jump_proposed(True):
        window.show_status("no proposed frame after this one", 2000)


def act_prev_proposed(window: MainWindow) -> None:
    if not window.need_session().jump_proposed(False):
        window.show_status("no proposed frame before this one", 2000)


def act_first_frame(window: MainWindow) -> None:
    window.need_session().go_to(0)


def act_last_frame(window: MainWindow) -> None:
    session = window.need_session()
    session.go_to(session.frame_count - 1)


def act_goto(window: MainWindow) -> None:
    """Ctrl+G: a frame number typed; one past the end goes to the last frame, as in the frame
    box (a number box refused the keystroke there, so 999 went to frame 99)."""
    session = window.need_session()
    last = session.frame_count - 1
    text = window.reporter.ask_text(f"Frame (0 to {last}):", "Go to frame", str(session.frame))
    if text is None:
        return
    try:
        frame = int(text)
    except ValueError:
        window.show_status(f"{text!r} is not a frame number (0 to {last})", 4000)
        return
    session.go_to(min(max(frame, 0), last))


def act_play(window: MainWindow) -> None:
    window.set_playing(not window.playing)


def act_next_joint(window: MainWindow) -> None:
    session = window.need_session()
    session.set_joint(session.joint + 1)


def act_prev_joint(window: MainWindow) -> None:
    session = window.need_session()
    session.set_joint(session.joint - 1)


def _joint_said(window: MainWindow, done: bool, why: str) -> None:
    """A joint key that changed nothing says why (it looked like a key that did not work)."""
    session = window.need_session()
    if not done:
        name = session.skeleton.joints[session.joint]
        window.show_status(f"{name} {why} on frame {session.frame}: nothing changed", 4000)


def act_toggle_occluded(window: MainWindow) -> None:
    done = window.need_session().toggle_occluded()
    _joint_said(window, done, "has no position to show as occluded (place it with a click)")


def act_mark_absent(window: MainWindow) -> None:
    _joint_said(window, window.need_session().mark_absent(), "is absent already")


def act_delete_joint(window: MainWindow) -> None:
    _joint_said(window, window.need_session().delete(), "has no label to delete")


def act_fit(window: MainWindow) -> None:
    window.frame_view.fit()


def act_zoom_in(window: MainWindow) -> None:
    window.frame_view.zoom(1.25)


def act_zoom_out(window: MainWindow) -> None:
    window.frame_view.zoom(0.8)


def act_timeline_all(window: MainWindow) -> None:
    window.timeline.zoom_to(0, window.need_session().frame_count)


def act_uncertainty(window: MainWindow) -> None:
    overlay = window.frame_view.overlay
    if overlay is not None:
        overlay.spread_all = window.actions_by_id["uncertainty"].isChecked()
        overlay.update()


def act_next_gated(window: MainWindow) -> None:
    if not window.need_session().jump_gated(True):
        window.show_status("no gated frame after this one", 2000)


def act_prev_gated(window: MainWindow) -> None:
    if not window.need_session().jump_gated(False):
        window.show_status("no gated frame before this one", 2000)


def act_next_uncertain(window: MainWindow) -> None:
    if not window.need_session().jump_uncertain(True):
        window.show_status("no uncertain stretch after this one", 2000)


def act_prev_uncertain(window: MainWindow) -> None:
    if not window.need_session().jump_uncertain(False):
        window.show_status("no uncertain stretch before this one", 2000)


def _toggle_row(window: MainWindow) -> None:
    window.apply_row_toggles()


def act_propose(window: MainWindow) -> None:
    proposal_panel.propose(window, window.need_session())


def act_proposals_panel(window: MainWindow) -> None:
    window.proposals.show()


def act_run_proposals(window: MainWindow) -> None:
    window.proposals.run_panel()


def act_accept_proposals(window: MainWindow) -> None:
    window.proposals.accept()


def act_extend_proposals(window: MainWindow) -> None:
    window.proposals.extend()


def act_clear_proposals(window: MainWindow) -> None:
    window.proposals.clear()


def act_prefill(window: MainWindow) -> None:
    from annotator.gui import prefill

    prefill.start(window, window.need_session(), span=window.timeline.span)


def act_extract_motion(window: MainWindow) -> None:
    from annotator.gui import motion

    session = window.need_session()
    if motion.running(window):
        window.show_status("the motion fields are being extracted already", 3000)
        return
    motion.start(window, session)


def act_cancel_tasks(window: MainWindow) -> None:
    """Esc: drop the timeline's span selection if there is one, else stop background work
    (one Esc did both: clearing a selection also cancelled the motion fields being
    extracted)."""
    if window.timeline.span is not None:
        window.timeline.clear_span()
        window.show_status("selection cleared (Esc again cancels background work)", 3000)
        return
    window.tasks.cancel_all()


def act_shortcuts(window: MainWindow) -> None:
    dialog = ShortcutsDialog(window, window.settings.shortcuts.as_dict())
    dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


def act_settings(window: MainWindow) -> None:
    from annotator.gui.settings_dialog import open_settings

    open_settings(window)


def act_about(window: MainWindow) -> None:
    from annotator import __version__

    QtWidgets.QMessageBox.about(
        window,
        "About annotator",
        f"annotator {__version__}: pose annotation for videos that labels fewer frames.",
    )


# -- the action table: every keymap id and its handler, in one place ------------------------
Handler = Callable[["MainWindow"], None]

HANDLERS: dict[str, Handler] = {
    "open_video": act_open_video,
    "open_project": act_open_project,
    "save": act_save,
    "save_as": act_save_as,
    "import_labels": act_import_labels,
    "export": act_export,
    "close_window": act_close_window,
    "undo": act_undo,
    "redo": act_redo,
    "copy_pose": act_copy_pose,
    "accept_fill": act_accept_fill,
    "flip": act_flip,
    "next_method": act_next_method,
    "scene_cut": act_scene_cut,
    "clear_frame": act_clear_frame,
    "next_frame": act_next_frame,
    "prev_frame": act_prev_frame,
    "next_10": act_next_10,
    "prev_10": act_prev_10,
    "next_labelled": act_next_labelled,
    "prev_labelled": act_prev_labelled,
    "next_proposed": act_next_proposed,
    "prev_proposed": act_prev_proposed,
    "next_gated": act_next_gated,
    "prev_gated": act_prev_gated,
    "next_uncertain": act_next_uncertain,
    "prev_uncertain": act_prev_uncertain,
    "next_to_label": next_label.act_next_to_label,  # N again: the next suggestion
    "first_frame": act_first_frame,
    "last_frame": act_last_frame,
    "goto": act_goto,
    "play": act_play,
    "next_joint": act_next_joint,
    "prev_joint": act_prev_joint,
    "toggle_occluded": act_toggle_occluded,
    "mark_absent": act_mark_absent,
    "delete_joint": act_delete_joint,
    "fit": act_fit,
    "zoom_in": act_zoom_in,
    "zoom_out": act_zoom_out,
    "timeline_all": act_timeline_all,
    "uncertainty": act_uncertainty,
    "row_scores": _toggle_row,
    "row_gate": _toggle_row,
    "row_residual": _toggle_row,
    "row_uncertainty": _toggle_row,
    "row_spans": _toggle_row,
    "review_mode": review.act_review_mode,
    "review_next": review.act_review_next,
    "review_prev": review.act_review_prev,
    "mark_reviewed": review.act_mark_reviewed,
    "flag_frame": review.act_flag_frame,
    "joint_trail": review.act_joint_trail,
    "joint_plot": review.act_joint_plot,
    "export_overlay": review.act_export_overlay,
    "export_contact_sheet": review.act_export_contact_sheet,
    "propose": act_propose,
    "extract_motion": act_extract_motion,
    "cancel_tasks": act_cancel_tasks,
    "prefill": act_prefill,
    "shortcuts": act_shortcuts,
    "about": act_about,
    "add_person": people.act_add_person,
    "remove_person": people.act_remove_person,
    "next_person": people.act_next_person,
    "prev_person": people.act_prev_person,
    "skeleton_editor": skeleton_editor.act_skeleton_editor,
    "proposals_panel": act_proposals_panel,
    "run_proposals": act_run_proposals,
    "accept_proposals": act_accept_proposals,
    "extend_proposals": act_extend_proposals,
    "clear_proposals": act_clear_proposals,
    "settings": act_settings,
}
