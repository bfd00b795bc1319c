"""The user's app-wide preferences: their defaults, their allowed values, and validation.

Pure Python (no Qt): the GUI stores them with ``QSettings`` and shows them in the settings
dialog, but what a valid value is, and what the default is, lives here so it can be tested
without a window. Every refusal is an ``AnnotatorError`` with one readable sentence.

Values a setting may take that depend on the machine (the devices torch reports, the fill
methods whose models are installed) are passed in by the caller as ``choices``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from annotator.errors import AnnotatorError

AUTO = "auto"
DEVICES: tuple[str, ...] = (AUTO, "cpu", "cuda")
THEMES: tuple[str, ...] = ("system", "light", "dark")
FLOW_MOTION, CODEC_MOTION = "optical flow", "codec vectors"
FILL_MOTIONS: tuple[str, ...] = (FLOW_MOTION, CODEC_MOTION)
"""What the video fills walk once a video's motion is extracted: the optical flow (computed
after the codec vectors, more accurate, slower) or the codec's vectors alone (fast)."""


class SettingError(AnnotatorError):
    """A setting's value is refused (out of range, not a number, not offered here)."""


@dataclass(frozen=True)
class Preferences:
    """Every setting with its default (``Preferences()`` is the fresh install)."""

    device: str = AUTO  # where proposals run: auto (cuda when present), cpu or cuda
    fill_method: str = AUTO  # a new project's fill; auto: the app's choice for the video
    proposal_budget: float = 0.0  # percent of the frames to propose; 0: the method's own count
    frame_cache: int = 64  # decoded frames kept in memory per open video
    autosave_interval: float = 0.5  # seconds: an edit reaches the disk at most this late
    marker_size: float = 5.5  # joint marker radius, screen pixels
    overlay_opacity: float = 1.0  # of the skeleton drawn over the frame, 0.1..1
    theme: str = "system"  # light, dark, or following the system's colour scheme
    fill_motion: str = FLOW_MOTION  # what the video fills walk (FILL_MOTIONS)
    propose_on_open: bool = True  # K-FPN proposes when a video without proposals opens

    def budget_frames(self, frame_count: int) -> int | None:
        """The proposal budget as a frame count for a video (None: the method's own)."""
        if self.proposal_budget <= 0 or frame_count <= 0:
            return None
        return max(1, min(frame_count, math.ceil(self.proposal_budget / 100 * frame_count)))


@dataclass(frozen=True)
class Field:
    """How one setting is shown and checked."""

    name: str
    label: str
    kind: type  # str (a choice), bool (a switch), int or float
    low: float = 0.0
    high: float = 0.0
    choices: tuple[str, ...] = ()
    unit: str = ""
    tip: str = ""


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("device", "Device", str, choices=DEVICES, tip="where proposal networks run"),
        Field("fill_method", "Fill method", str, tip="the fill a newly opened video starts with"),
        Field(
            "proposal_budget",
            "Proposal budget",
            float,
            0.0,
            100.0,
            unit="% of frames",
            tip="how many frames Propose suggests; 0 lets the method choose",
        ),
        Field(
            "frame_cache",
            "Frame cache",
            int,
            8,
            4096,
            unit="frames",
            tip="decoded frames kept in memory (for videos opened from now on)",
        ),
        Field(
            "autosave_interval",
            "Autosave interval",
            float,
            0.1,
            60.0,
            unit="s",
            tip="every edit is journaled at once and on disk at most this long after",
        ),
        Field("marker_size", "Marker size", float, 2.0, 20.0, unit="px", tip="joint radius"),
        Field("overlay_opacity", "Overlay opacity", float, 0.1, 1.0, tip="of the skeleton"),
        Field("theme", "Theme", str, choices=THEMES, tip="system follows the desktop's scheme"),
        Field(
            "fill_motion",
            "Motion for the fill",
            str,
            choices=FILL_MOTIONS,
            tip="optical flow: more accurate, computed after the codec vectors (about 40 ms "
            "of CPU per 720p frame, once per video); codec vectors: fast (about 7 ms a frame)",
        ),
        Field(
            "propose_on_open",
            "Propose frames when a video opens",
            bool,
            tip="K-FPN proposes the frames worth labelling, in the background, when a video "
            "or a project without proposals opens (Propose Frames still runs on request)",
        ),
    )
}

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def check(name: str, value: Any, choices: Sequence[str] | None = None) -> Any:
    """``value`` converted to the setting's type, or ``SettingError`` saying why not.

    ``choices`` replaces the field's own choices (e.g. only the devices present here)."""
    field = FIELDS.get(name)
    if field is None:
        raise SettingError(f"unknown setting {name!r}")
    if field.kind is bool:
        return _switch(field, value)
    if field.kind is str:
        text = str(value).strip()
        allowed = tuple(choices) if choices is not None else field.choices
        if allowed and text not in allowed:
            raise SettingError(
                f"{field.label}: {text!r} is not offered here; choose one of {', '.join(allowed)}"
            )
        if not text:
            raise SettingError(f"{field.label}: an empty value is not allowed")
        return text
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingError(f"{field.label}: {value!r} is not a number") from None
    if not math.isfinite(number) or not field.low <= number <= field.high:
        unit = f" {field.unit}" if field.unit else ""
        raise SettingError(
            f"{field.label} must be between {field.low:g} and {field.high:g}{unit}, not {value}"
        )
    if field.kind is int:
        if number != int(number):
            raise SettingError(f"{field.label} must be a whole number, not {value}")
        return int(number)
    return number


def _switch(field: Field, value: Any) -> bool:
    """A switch's value: a bool, or the words a settings file stores (``true``, ``false``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingError(f"{field.label}: {value!r} is neither on (true) nor off (false)")


def validated(
    prefs: Preferences, choices: Mapping[str, Sequence[str]] | None = None
) -> Preferences:
    """``prefs`` with every value checked (``SettingError`` at the first bad one)."""
    choices = choices or {}
    values = {name: check(name, getattr(prefs, name), choices.get(name)) for name in FIELDS}
    return Preferences(**values)


def from_mapping(
    raw: Mapping[str, Any], choices: Mapping[str, Sequence[str]] | None = None
) -> tuple[Preferences, list[str]]:
    """Preferences from stored values; a missing value takes its default, a bad one is
    refused (the default is kept) and its reason listed."""
    choices = choices or {}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name in FIELDS:
        if name not in raw or raw[name] is None:
            continue
        try:
            values[name] = check(name, raw[name], choices.get(name))
        except SettingError as err:
            problems.append(f"{err}; using the default, {getattr(Preferences(), name)}")
    return Preferences(**values), problems


def to_mapping(prefs: Preferences) -> dict[str, Any]:
    return dataclasses.asdict(prefs)
