"""The desktop application: the only package that imports PySide6 and pyqtgraph. Views observe
the document's events and edit it through history commands."""

from annotator.gui import _none_guard

_none_guard.apply()  # before any other Qt call: see the module for the PySide6 defect
