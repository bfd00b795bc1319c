"""Every action of the window with its menu, label and shortcuts, in one table.

The window builds its ``QAction``s from this table, the Help > Shortcuts dialog lists it, and
``docs/gui.md`` documents the same table, so the three cannot drift apart (a test checks the
document against it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSpec:
    """One action: a stable id (its handler: ``window_actions.HANDLERS[id]``), menu, text, keys."""

    id: str
    menu: str
    text: str
    keys: tuple[str, ...] = ()
    tip: str = ""
    icon: str = ""  # file stem in resources/icons/


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open_video", "File", "Open &Video…", ("Ctrl+O",), icon="open"),
    ActionSpec("open_project", "File", "Open &Project…", ("Ctrl+Shift+O",)),
    ActionSpec("save", "File", "&Save Project", ("Ctrl+S",), icon="save"),
    ActionSpec("save_as", "File", "Save Project &As…", ("Ctrl+Shift+S",)),
    ActionSpec(
        "import_labels",
        "File",
        "&Import Labels…",
        ("Ctrl+I",),
        "import labels or an estimator's poses from a file into this project",
    ),
    ActionSpec("export", "File", "&Export…", ("Ctrl+E",), "export the labels and fill", "export"),
    ActionSpec("close_window", "File", "&Quit", ("Ctrl+Q",)),
    ActionSpec("undo", "Edit", "&Undo", ("Ctrl+Z",), icon="undo"),
    ActionSpec("redo", "Edit", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), icon="redo"),
    ActionSpec(
        "copy_pose", "Edit", "&Copy Pose from Nearest Labelled Frame", ("C",), icon="copy_pose"
    ),
    ActionSpec(
        "accept_fill",
        "Edit",
        "&Accept Filled Pose on This Frame",
        ("Ctrl+Return",),
        "filled joints of this frame become manual labels",
    ),
    ActionSpec("flip", "Edit", "&Flip Left/Right on This Frame", ("H",)),
    ActionSpec("clear_frame", "Edit", "Clear &Labels on This Frame", ("Ctrl+Backspace",)),
    ActionSpec(
        "scene_cut",
        "Edit",
        "Scene Cu&t Before This Frame",
        ("Ctrl+K",),
        "a new shot starts here: the fill never crosses it (again: no cut; undoable)",
    ),
    ActionSpec(
        "next_method",
        "Edit",
        "Next Fill &Method",
        ("M",),
        "the next method of the Fill panel's list (saved with the project, undoable)",
    ),
    ActionSpec("next_frame", "Navigate", "&Next Frame", ("Right", "D")),
    ActionSpec("prev_frame", "Navigate", "&Previous Frame", ("Left", "A")),
    ActionSpec("next_10", "Navigate", "Forward 10 Frames", ("Shift+Right", "Shift+D")),
    ActionSpec("prev_10", "Navigate", "Back 10 Frames", ("Shift+Left", "Shift+A")),
    ActionSpec("next_labelled", "Navigate", "Next &Labelled Frame", (".",), icon="next"),
    ActionSpec("prev_labelled", "Navigate", "Previous L&abelled Frame", (",",), icon="prev"),
    ActionSpec("next_proposed", "Navigate", "Next P&roposed Frame", ("]",)),
    ActionSpec("prev_proposed", "Navigate", "Previous Pr&oposed Frame", ("[",)),
    ActionSpec(
        "next_gated", "Navigate", "Next Gat&ed Frame", ("G",), "next frame the gate accepted"
    ),
    ActionSpec("prev_gated", "Navigate", "Previous Gated Frame", ("Shift+G",)),
    ActionSpec(
        "next_uncertain",
        "Navigate",
        "Next &Uncertain Frame",
        ("J",),
        "the most uncertain frame of the next unlabelled stretch",
    ),
    ActionSpec("prev_uncertain", "Navigate", "Previous Uncertain Frame", ("Shift+J",)),
    ActionSpec(
        "next_to_label",
        "Navigate",
        "Next Frame &to Label",
        ("N",),
        "the unlabelled frame whose label would most reduce the fill's uncertainty",
    ),
    ActionSpec("first_frame", "Navigate", "First Frame", ("Home",)),
    ActionSpec("last_frame", "Navigate", "Last Frame", ("End",)),
    ActionSpec("goto", "Navigate", "&Go to Frame…", ("Ctrl+G",)),
    ActionSpec("play", "Navigate", "Pla&y / Pause", ("Space",), icon="play"),
    ActionSpec("next_joint", "Joint", "&Next Joint", ("E",)),
    ActionSpec("prev_joint", "Joint", "&Previous Joint", ("Q",)),
    ActionSpec("toggle_occluded", "Joint", "Toggle &Visible / Occluded", ("V",)),
    ActionSpec("mark_absent", "Joint", "Mark &Absent", ("X",)),
    ActionSpec("delete_joint", "Joint", "&Delete Label", ("Delete",)),
    ActionSpec("fit", "View", "&Fit Frame to Window", ("F",), icon="fit"),
    ActionSpec("zoom_in", "View", "Zoom &In", ("Ctrl+=", "Ctrl++")),
    ActionSpec("zoom_out", "View", "Zoom &Out", ("Ctrl+-",)),
    ActionSpec("timeline_all", "View", "Show &Whole Timeline", ("Ctrl+0",)),
    ActionSpec(
        "uncertainty",
        "View",
        "Show Fill &Uncertainty of All Joints",
        ("U",),
        "2-sigma circles of every filled joint (else only the current joint's)",
    ),
    ActionSpec("row_scores", "View", "Timeline: Proposal &Score Row"),
    ActionSpec("row_gate", "View", "Timeline: &Gate Row", tip="the gate's decisions, when any"),
    ActionSpec(
        "row_residual",
        "View",
        "Timeline: &Residual Energy Row",
        tip="per frame, the motion the codec's vectors did not explain",
    ),
    ActionSpec("row_uncertainty", "View", "Timeline: Fill Un&certainty Row"),
    ActionSpec("row_spans", "View", "Timeline: &Held / Flagged Spans Row"),
    ActionSpec(
        "review_mode",
        "Review",
        "&Review Mode",
        ("Ctrl+R",),
        "step through flagged and uncertain frames, with the reason for each",
    ),
    ActionSpec("review_next", "Review", "&Next Frame to Review", ("K",)),
    ActionSpec("review_prev", "Review", "&Previous Frame to Review", ("Shift+K",)),
    ActionSpec(
        "mark_reviewed",
        "Review",
        "&Mark Frame Reviewed",
        ("R",),
        "records who and when, saved with the project",
    ),
    ActionSpec(
        "joint_trail",
        "Review",
        "Show Joint &Trail",
        ("T",),
        "the current joint over the neighbouring frames, drawn on the image",
    ),
    ActionSpec(
        "flag_frame",
        "Review",
        "&Flag This Frame…",
        ("Shift+F",),
        "asks why; the frame joins the review queue (undoable)",
    ),
    ActionSpec("joint_plot", "Review", "Joint P&lot", (), "the current joint's x and y over time"),
    ActionSpec(
        "export_overlay",
        "Review",
        "Export &Overlay Video…",
        (),
        "the frames with the skeleton drawn, to share a review",
    ),
    ActionSpec(
        "export_contact_sheet",
        "Review",
        "Export &Contact Sheet…",
        (),
        "a grid of the labelled and most uncertain frames, as a PNG",
    ),
    ActionSpec("propose", "Tools", "&Propose Frames to Label…", ("Ctrl+P",), icon="propose"),
    ActionSpec(
        "extract_motion",
        "Tools",
        "Extract &Motion Fields",
        (),
        "the video's motion, for the mv and hpim+mv fills (starts by itself on open)",
    ),
    ActionSpec("cancel_tasks", "Tools", "&Cancel Background Work", ("Esc",)),
    ActionSpec(
        "prefill",
        "Tools",
        "Pre&fill Poses with the Estimator",
        ("Ctrl+Shift+P",),
        "the pose estimator's joints on the proposed frames (else the current frame), to correct",
        "prefill",
    ),
    ActionSpec("shortcuts", "Help", "&Keyboard Shortcuts", ("F1",)),
    ActionSpec("about", "Help", "&About", ()),
    ActionSpec(
        "add_person",
        "Edit",
        "Add &Person",
        ("Ctrl+Shift+N",),
        "a new person with their own track id and colour; clicks then label them",
    ),
    ActionSpec(
        "remove_person",
        "Edit",
        "Rem&ove Person…",
        (),
        "remove the active person and their labels (undoable)",
    ),
    ActionSpec("next_person", "Navigate", "Next Person", ("Tab",), "label the next person"),
    ActionSpec("prev_person", "Navigate", "Previous Person", ("Shift+Tab",)),
    ActionSpec(
        "skeleton_editor",
        "Tools",
        "&Skeleton Editor…",
        (),
        "edit, load and save skeleton templates (JSON) for new projects",
    ),
    ActionSpec(
        "proposals_panel",
        "View",
        "&Proposals Panel",
        ("F3",),
        "the proposal method and budget; Run, Accept, Clear, Extend",
    ),
    ActionSpec(
        "run_proposals",
        "Tools",
        "&Run Proposals (Panel's Method and Budget)",
        ("Ctrl+Shift+R",),
        "propose frames with the Proposals panel's method and budget",
    ),
    ActionSpec(
        "accept_proposals",
        "Tools",
        "Acc&ept Proposals as Frames to Label",
        (),
        "N visits the unlabelled proposed frames first",
    ),
    ActionSpec(
        "extend_proposals",
        "Tools",
        "E&xtend Proposals",
        (),
        "add proposed frames up to the panel's budget, keeping the others and every label",
    ),
    ActionSpec("clear_proposals", "Tools", "C&lear Proposals", (), "the labels stay"),
    ActionSpec("settings", "Tools", "Se&ttings…", ("Ctrl+,",), "device, fill, theme, shortcuts"),
)

# The toolbar, left to right ("|" separates groups); each action needs an icon.
TOOLBAR: tuple[str, ...] = (
    "open_video", "save", "export", "|", "undo", "redo", "|",
    "prev_labelled", "play", "next_labelled", "|", "copy_pose", "|", "fit", "propose", "prefill",
)  # fmt: skip

# The timeline rows' toggles, by row name (``timeline_state.ROWS``); checked = shown.
ROW_ACTIONS: dict[str, str] = {
    "scores": "row_scores",
    "gate": "row_gate",
    "residual": "row_residual",
    "uncertainty": "row_uncertainty",
    "spans": "row_spans",
}

CHECKABLE: frozenset[str] = frozenset(
    {"uncertainty", "review_mode", "joint_trail", "joint_plot", *ROW_ACTIONS.values()}
)

MENUS: tuple[str, ...] = ("File", "Edit", "Navigate", "Joint", "View", "Review", "Tools", "Help")


def by_id(action_id: str) -> ActionSpec:
    for spec in ACTIONS:
        if spec.id == action_id:
            return spec
    raise KeyError(action_id)


def menu_text(action_id: str, keys: Sequence[str] | None = None) -> str:
    """An action's text for a context menu: its label, a tab, its first key. ``keys``: the
    keys the user bound (Settings > Shortcuts); None: this table's defaults, as it writes
    them (``Delete``, not Qt's ``Del``)."""
    spec = by_id(action_id)
    text = spec.text.replace("&", "").replace("…", "")
    shown = spec.keys if keys is None else keys
    return f"{text}\t{shown[0]}" if shown else text


def shortcuts_markdown() -> str:
    """The shortcut table as Markdown (pasted into ``docs/gui.md``; a test compares)."""
    lines = ["| Menu | Action | Keys |", "|---|---|---|"]
    for spec in ACTIONS:
        if spec.keys:
            text = spec.text.replace("&", "").replace("…", "")
            keys = " / ".join(f"`{k}`" for k in spec.keys)
            lines.append(f"| {spec.menu} | {text} | {keys} |")
    return "\n".join(lines)
