"""Colours, marker styles and the style sheet: one place for how the app looks.

Manual values are solid discs; filled values are rings whose inner dot shows the fill's
source (the legend dock lists them). The style sheet lives in ``resources/style/``.
"""

from __future__ import annotations

import itertools

from PySide6 import QtCore, QtGui, QtWidgets

from annotator.core.codes import Source
from annotator.core.paths import shipped_dir
from annotator.gui.timeline_state import FrameStatus

RESOURCES = shipped_dir("resources")

WINDOW_BG = QtGui.QColor("#1e2127")
PANEL_BG = QtGui.QColor("#252931")
FRAME_BG = QtGui.QColor("#15171b")
TEXT = QtGui.QColor("#d7dae0")
TEXT_DIM = QtGui.QColor("#8b93a1")
PLAYHEAD_COLOR = QtGui.QColor("#ffffff")
PROPOSED_COLOR = QtGui.QColor("#f2994a")
SUGGESTED_COLOR = QtGui.QColor("#ff6fae")  # the next frame to label (N)
SCORE_COLOR = QtGui.QColor("#f2c94c")  # the proposer's per-frame score curve
RESIDUAL_COLOR = QtGui.QColor("#bb6bd9")  # the residual energy curve (motion the codec missed)
GATE_COLOR = QtGui.QColor("#6fcf97")  # frames the gate accepted (worth labelling)
GATE_REJECTED_COLOR = QtGui.QColor("#4a5160")
HELD_COLOR = QtGui.QColor("#8b93a1")  # held spans (before the first / after the last label)
FLAG_COLOR = QtGui.QColor("#eb5757")  # frames flagged for review
REVIEWED_COLOR = QtGui.QColor("#27ae60")  # frames marked reviewed
CUT_COLOR = QtGui.QColor("#56ccf2")  # scene cuts: the fill never crosses them
SPAN_COLOR = QtGui.QColor(86, 156, 214, 60)  # the frames selected on the timeline (Shift+drag)
HELD_STYLE = QtCore.Qt.PenStyle.DotLine  # held values (before the first / after the last label)
CURRENT_JOINT = QtGui.QColor("#ffffff")

STATUS_COLORS: dict[FrameStatus, QtGui.QColor] = {
    FrameStatus.EMPTY: QtGui.QColor(0, 0, 0, 0),
    FrameStatus.FILLED: QtGui.QColor("#3d7a8c"),
    FrameStatus.PREDICTED: QtGui.QColor("#c0504d"),
    FrameStatus.PARTIAL: QtGui.QColor("#c9a227"),
    FrameStatus.LABELLED: QtGui.QColor("#4fbf73"),
}
STATUS_NAMES: dict[FrameStatus, str] = {
    FrameStatus.LABELLED: "labelled frame",
    FrameStatus.PARTIAL: "partly labelled frame",
    FrameStatus.FILLED: "filled span",
}

# Inner dot of a filled joint, per source of the value.
SOURCE_COLORS: dict[Source, QtGui.QColor] = {
    Source.MANUAL: QtGui.QColor("#ffffff"),
    Source.LINEAR: QtGui.QColor("#bdbdbd"),
    Source.PCHIP: QtGui.QColor("#9b51e0"),
    Source.HPIM: QtGui.QColor("#56ccf2"),
    Source.EQ17: QtGui.QColor("#6fcf97"),
    Source.FISTA: QtGui.QColor("#27ae60"),
    Source.MV: QtGui.QColor("#f2994a"),
    Source.HPIM_MV: QtGui.QColor("#f2c94c"),
    Source.PREDICTED: QtGui.QColor("#eb5757"),
    Source.NONE: QtGui.QColor(0, 0, 0, 0),
}


def heat_color(level: int, levels: int = 12) -> QtGui.QColor:
    """The uncertainty strip's colour for ``level`` (1..levels): dark teal for small, through
    amber, to red for the largest; 0 (nothing filled) is transparent."""
    if level <= 0:
        return QtGui.QColor(0, 0, 0, 0)
    t = min(1.0, level / levels)
    stops = ((0.0, (38, 70, 83)), (0.5, (233, 196, 106)), (1.0, (231, 76, 60)))
    for (t0, c0), (t1, c1) in itertools.pairwise(stops):
        if t <= t1:
            u = (t - t0) / (t1 - t0)
            return QtGui.QColor(*(round(a + u * (b - a)) for a, b in zip(c0, c1, strict=True)))
    return QtGui.QColor(*stops[-1][1])


JOINT_RADIUS = 5.5  # device-independent pixels
PICK_RADIUS = 10.0


def style_sheet(scheme: str = "dark") -> str:
    """The application style sheet for ``scheme`` (light or dark), or an empty string when the
    resources are not installed."""
    path = RESOURCES / "style" / f"{scheme}.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def app_icon() -> QtGui.QIcon:
    """The application's icon (``resources/desktop/icons``), at every size shipped."""
    folder = RESOURCES / "desktop" / "icons"
    icon = QtGui.QIcon()
    for png in sorted(folder.glob("annotator-*.png")):
        icon.addFile(str(png))
    return icon


def _tinted(pixmap: QtGui.QPixmap, color: QtGui.QColor) -> QtGui.QPixmap:
    """``pixmap``'s shape in ``color`` (the icons are drawn in one colour)."""
    out = QtGui.QPixmap(pixmap)
    painter = QtGui.QPainter(out)
    painter.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(out.rect(), color)
    painter.end()
    return out


def icon(name: str, scheme: str = "dark") -> QtGui.QIcon:
    """A toolbar icon from ``resources/icons`` (an empty icon when not installed); drawn in
    the light theme's text colour for ``scheme`` light (the files are light grey)."""
    path = RESOURCES / "icons" / f"{name}.svg"
    if not path.exists():
        return QtGui.QIcon()
    source = QtGui.QIcon(str(path))
    icon = source if scheme != "light" else QtGui.QIcon()
    # The style's grey "disabled" variant is hard to tell from our light-grey icons: fade it.
    for size in (20, 40):
        normal = source.pixmap(size, size)
        if scheme == "light":
            normal = _tinted(normal, LIGHT_TEXT)
            icon.addPixmap(normal, QtGui.QIcon.Mode.Normal)
        faded = QtGui.QPixmap(normal.size())
        faded.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(faded)
        painter.setOpacity(0.3)
        painter.drawPixmap(0, 0, normal)
        painter.end()
        icon.addPixmap(faded, QtGui.QIcon.Mode.Disabled)
    return icon


# The light theme's widget colours (the frame view and timeline keep their dark canvas).
LIGHT_WINDOW_BG = QtGui.QColor("#f3f4f6")
LIGHT_PANEL_BG = QtGui.QColor("#ffffff")
LIGHT_TEXT = QtGui.QColor("#1f2328")
LIGHT_TEXT_DIM = QtGui.QColor("#5c6470")


def palette(scheme: str = "dark") -> QtGui.QPalette:
    """A palette for ``scheme`` (light or dark) matching its style sheet (for widgets the
    sheet does not reach)."""
    light = scheme == "light"
    window, panel = (LIGHT_WINDOW_BG, LIGHT_PANEL_BG) if light else (WINDOW_BG, PANEL_BG)
    text, dim = (LIGHT_TEXT, LIGHT_TEXT_DIM) if light else (TEXT, TEXT_DIM)
    pal = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    pal.setColor(role.Window, window)
    pal.setColor(role.WindowText, text)
    pal.setColor(role.Base, panel)
    pal.setColor(role.AlternateBase, window)
    pal.setColor(role.Text, text)
    pal.setColor(role.Button, QtGui.QColor("#e9ebef") if light else PANEL_BG)
    pal.setColor(role.ButtonText, text)
    pal.setColor(role.Highlight, QtGui.QColor("#3d6fb6"))
    pal.setColor(role.HighlightedText, QtGui.QColor("#ffffff"))
    pal.setColor(role.ToolTipBase, panel)
    pal.setColor(role.ToolTipText, text)
    pal.setColor(role.PlaceholderText, dim)
    return pal


def text_colors(scheme: str) -> tuple[QtGui.QColor, QtGui.QColor]:
    """(text, dimmed text) of ``scheme``: manual and filled rows of the joint list."""
    return (LIGHT_TEXT, LIGHT_TEXT_DIM) if scheme == "light" else (TEXT, TEXT_DIM)


def system_scheme() -> str:
    """The desktop's colour scheme (Qt 6.5+), "dark" when it says none (the app's own look)."""
    hints = QtGui.QGuiApplication.styleHints()
    if hints is not None and hints.colorScheme() == QtCore.Qt.ColorScheme.Light:
        return "light"
    return "dark"


def resolve(choice: str) -> str:
    """The scheme a theme setting (system, light or dark) means now."""
    return system_scheme() if choice == "system" else choice


def apply(app: QtWidgets.QApplication, choice: str) -> str:
    """Style ``app`` for a theme setting; returns the scheme applied (light or dark)."""
    scheme = resolve(choice)
    sheet = style_sheet(scheme)
    app.setProperty("annotator_scheme", scheme)
    if app.styleSheet() == sheet and app.palette() == palette(scheme):
        return scheme  # already styled so (restyling every widget is not free)
    app.setStyle("Fusion")
    app.setPalette(palette(scheme))
    app.setStyleSheet(sheet)
    return scheme


def current_scheme() -> str:
    """The scheme ``apply`` last gave the application (dark before any)."""
    app = QtWidgets.QApplication.instance()
    scheme = app.property("annotator_scheme") if app is not None else None
    return scheme if scheme in ("light", "dark") else "dark"
