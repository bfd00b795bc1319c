"""The user's keyboard shortcuts: the keymap's defaults with the user's changes on top.

A ``Shortcuts`` maps every action id of ``keymap.ACTIONS`` to its keys. Changing an action's
keys is refused with one readable sentence when a key is not a key Qt knows or is already
another action's; the window's ``QAction``s, its toolbar tips and the Help listing all read
the same mapping. Only the changes from the defaults are stored (``QSettings`` group
``shortcuts``, one JSON list per action), so a new default reaches users who kept theirs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from PySide6 import QtCore, QtGui

from annotator.core.preferences import SettingError
from annotator.gui.keymap import ACTIONS, ActionSpec, by_id

GROUP = "shortcuts"
_PORTABLE = QtGui.QKeySequence.SequenceFormat.PortableText


def normalise(key: str) -> str:
    """``key`` in Qt's portable spelling ("ctrl+o" -> "Ctrl+O"); ``SettingError`` when Qt
    does not read it as one key combination."""
    text = key.strip()
    sequence = QtGui.QKeySequence(text)
    spelled = sequence.toString(_PORTABLE)
    if not text or not spelled or sequence.count() != 1 or "\ufffd" in spelled:
        raise SettingError(f"{key!r} is not a key combination (e.g. Ctrl+Shift+K or F5)")
    return spelled


def label(spec: ActionSpec) -> str:
    """How an action is named in messages: "File > Open Video"."""
    return f"{spec.menu} > {spec.text.replace('&', '').replace('…', '')}"


class Shortcuts:
    """Every action's keys (the defaults, then the user's changes)."""

    def __init__(self, keys: Mapping[str, Iterable[str]] | None = None) -> None:
        """The defaults with ``keys`` (action id -> keys) taken all at once, then checked:
        taken one by one, a key moved to an action listed before the one it left clashed with
        that one's old keys (``SettingError`` on a real conflict)."""
        self._keys: dict[str, tuple[str, ...]] = {spec.id: spec.keys for spec in ACTIONS}
        for action_id, chosen in (keys or {}).items():
            _spec(action_id)
            self._keys[action_id] = tuple(k.strip() for k in chosen)
        for spec in ACTIONS:
            problem = self.conflict(spec.id, self._keys[spec.id])
            if problem is not None:
                raise SettingError(f"{label(spec)}: {problem}")

    def keys(self, action_id: str) -> tuple[str, ...]:
        return self._keys[action_id]

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self._keys)

    def owner(self, key: str) -> str | None:
        """The action bound to ``key`` (any spelling), or None."""
        wanted = normalise(key)
        for action_id, keys in self._keys.items():
            if any(normalise(k) == wanted for k in keys):
                return action_id
        return None

    def conflict(self, action_id: str, keys: Iterable[str]) -> str | None:
        """Why ``keys`` cannot become ``action_id``'s, or None when they can."""
        seen: set[str] = set()
        for key in keys:
            spelled = normalise(key)
            if spelled in seen:
                return f"{spelled} is listed twice"
            seen.add(spelled)
            owner = self.owner(spelled)
            if owner is not None and owner != action_id:
                return f"{spelled} is already the shortcut of {label(by_id(owner))}"
        return None

    def set(self, action_id: str, keys: Iterable[str]) -> None:
        """Give ``action_id`` exactly ``keys`` (none clears it); ``SettingError`` on a
        conflict or an unknown action, leaving everything as it was."""
        spec = _spec(action_id)
        keys = tuple(keys)
        problem = self.conflict(action_id, keys)
        if problem is not None:
            raise SettingError(f"{label(spec)}: {problem}")
        # Kept as spelled (the keymap's "Delete", not Qt's "Del"); compared normalised.
        self._keys[action_id] = tuple(k.strip() for k in keys)

    def reset(self, action_id: str) -> None:
        """Back to the keymap's keys (refused if another action took one of them since)."""
        self.set(action_id, by_id(action_id).keys)

    def changed(self) -> dict[str, tuple[str, ...]]:
        """The actions whose keys differ from the keymap's."""
        return {
            a: k
            for a, k in self._keys.items()
            if [normalise(x) for x in k] != [normalise(x) for x in by_id(a).keys]
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shortcuts) and self._keys == other._keys

    __hash__ = None  # type: ignore[assignment]  # mutable


def _spec(action_id: str) -> ActionSpec:
    try:
        return by_id(action_id)
    except KeyError:
        raise SettingError(f"unknown action {action_id!r}") from None


def load(settings: QtCore.QSettings) -> tuple[Shortcuts, list[str]]:
    """The stored shortcuts; a stored value that is unreadable or conflicts is refused (the
    default stays) and listed."""
    shortcuts = Shortcuts()
    problems: list[str] = []
    settings.beginGroup(GROUP)
    try:
        stored = {name: settings.value(name) for name in settings.childKeys()}
    finally:
        settings.endGroup()
    readable: dict[str, list[str]] = {}
    for action_id, raw in sorted(stored.items()):
        try:
            keys = json.loads(str(raw))
        except ValueError:
            keys = None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            problems.append(f"shortcut of {action_id!r} is not a list of keys; keeping the default")
        else:
            readable[action_id] = keys
    try:  # all at once: a key moved from one action to another is no conflict
        return Shortcuts(readable), problems
    except SettingError:
        pass
    refused: dict[str, str] = {}
    for _ in range(2):  # one by one; a second pass takes those a key freed later allows
        for action_id, keys in readable.items():
            try:
                shortcuts.set(action_id, keys)
                refused.pop(action_id, None)
            except SettingError as err:
                refused[action_id] = str(err)
    problems += [f"{message}; keeping the default" for message in refused.values()]
    return shortcuts, problems


def save(settings: QtCore.QSettings, shortcuts: Shortcuts) -> None:
    settings.remove(GROUP)
    settings.beginGroup(GROUP)
    try:
        for action_id, keys in shortcuts.changed().items():
            settings.setValue(action_id, json.dumps(list(keys)))
    finally:
        settings.endGroup()


def apply(actions: Mapping[str, QtGui.QAction], shortcuts: Shortcuts) -> None:
    """Bind every action's keys; the toolbar's tips name the first key."""
    for action_id, action in actions.items():
        keys = shortcuts.keys(action_id)
        action.setShortcuts([QtGui.QKeySequence(k) for k in keys])
        action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        if not action.icon().isNull():  # on the toolbar: the tip names the key
            text = by_id(action_id).text.replace("&", "").replace("…", "")
            action.setToolTip(text + (f" ({keys[0]})" if keys else ""))
