"""The desktop application: the only package that imports PySide6 and pyqtgraph. Views observe\nthe document's events and edit it through history commands."""
