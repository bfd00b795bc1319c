"""The annotation model: pure Python + NumPy (SciPy allowed).

Nothing here imports PySide6, pyqtgraph, torch or av (a test enforces it), so the document,
its history and the project file can be used and tested without a window, a GPU or a codec.

- ``document``: the ``Document`` (manual labels per instance, frame states, change events)
- ``commands`` and ``history``: every edit as an undoable command; the undo/redo stack
- ``schema``, ``store``: the ``.annot.json`` project file (docs/project-format.md)
- ``journal``: autosave to a recovery journal and crash recovery
- ``retime``: carrying a project over to a re-indexed video
- ``skeleton``, ``codes``, ``poseset``: shared types (skeleton templates, enums, arrays)
"""
