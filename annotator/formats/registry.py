"""The format registry: one ``FormatAdaptor`` per import/export format, looked up by name.

The GUI builds its file dialogs from :func:`dialog_filters` (and maps the chosen entry back
with :func:`for_filter`); the ``import`` and ``export`` commands use :func:`get` and
:func:`guess`. Adaptor modules are imported here once, and hold no Qt.

Options adaptors understand (each ignores the ones that do not apply to it): writers take
``frames`` ('manual' or 'all'), ``video`` (a frame source for images), ``images`` (COCO:
'jpg'/'png'; DeepLabCut: bool) and ``scorer`` (DeepLabCut); readers of files that do not name
their joints (NPZ, CSV) take ``skeleton``.
"""

from __future__ import annotations

from pathlib import Path

from annotator.errors import FormatError
from annotator.formats.adaptor import FormatAdaptor

_REGISTRY: dict[str, FormatAdaptor] = {}


def register(adaptor: FormatAdaptor) -> FormatAdaptor:
    if adaptor.name in _REGISTRY:
        raise ValueError(f"format {adaptor.name!r} is registered twice")
    _REGISTRY[adaptor.name] = adaptor
    return adaptor


def _load() -> None:
    if _REGISTRY:
        return
    # Import order is guessing order: specific layouts before the generic CSV.
    from annotator.formats import coco, cvat, dlc, matlab, npz, table

    for module in (coco, cvat, dlc, table, npz, matlab):
        for adaptor in module.ADAPTORS:
            register(adaptor)


def all_formats() -> tuple[FormatAdaptor, ...]:
    _load()
    return tuple(_REGISTRY.values())


def names(mode: str | None = None) -> tuple[str, ...]:
    """Format names, optionally only those that can ``read`` or ``write``."""
    return tuple(a.name for a in _filter(mode))


def get(name: str) -> FormatAdaptor:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise FormatError(f"unknown format {name!r}; choose from {', '.join(_REGISTRY)}") from None


def guess(path: str | Path, advice: str = "give --format") -> FormatAdaptor:
    """The readable format ``path`` is in, judged from its name and first bytes; ``advice``:
    what the refusal tells the user to do (the command line names a flag)."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"file not found: {p}")
    if p.is_file() and p.stat().st_size == 0:
        raise FormatError(f"{p.name} is empty (0 bytes)")
    found = recognise(p)
    if found is not None:
        return found
    readable = _filter("read")
    # Nothing recognised the content: if the extension names one format, let its reader say
    # precisely what is wrong with the file.
    by_ext = [a for a in readable if p.suffix.lower() in a.extensions]
    if len(by_ext) == 1 and p.is_file():
        return by_ext[0]
    raise FormatError(f"cannot tell the format of {p.name}; {advice} ({', '.join(names('read'))})")


def recognise(path: str | Path) -> FormatAdaptor | None:
    """The readable format whose sniffer knows ``path``'s name and first bytes, or None (no
    guess from the extension alone, unlike :func:`guess`)."""
    p = Path(path)
    return next((a for a in _filter("read") if a.sniff(p)), None)


def dialog_filters(mode: str = "read") -> list[str]:
    """Qt file-dialog filters such as ``"COCO keypoints (*.json)"`` for file formats.

    Folder formats (``is_folder``) need a directory dialog and are listed by
    :func:`all_formats`, not here. In ``read`` mode the first entry covers every readable
    extension.
    """
    filters = [a.dialog_filter() for a in _filter(mode) if not a.is_folder]
    if mode == "read":
        exts = sorted(extensions("read"))
        filters.insert(0, f"All supported labels ({' '.join('*' + e for e in exts)})")
    return filters


def extensions(mode: str = "read") -> set[str]:
    """The file extensions (lower case, with the dot) of the formats that can ``mode``."""
    return {e for a in _filter(mode) if not a.is_folder for e in a.extensions}


def for_filter(text: str) -> FormatAdaptor:
    """The adaptor behind one of :func:`dialog_filters`' entries (as the dialog returns it)."""
    for adaptor in all_formats():
        if adaptor.dialog_filter() == text:
            return adaptor
    raise FormatError(f"no format matches the file type {text!r}")


def _filter(mode: str | None) -> list[FormatAdaptor]:
    _load()
    if mode not in (None, "read", "write"):
        raise ValueError(f"mode must be 'read' or 'write', not {mode!r}")
    return [
        a
        for a in _REGISTRY.values()
        if mode is None or (a.can_read if mode == "read" else a.can_write)
    ]
