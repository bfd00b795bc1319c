"""The annotation model: pure Python + NumPy (SciPy allowed).

Nothing here imports PySide6, pyqtgraph, torch or av (a test enforces it), so the document,
its history and the project file can be used and tested without a window, a GPU or a codec.
"""
