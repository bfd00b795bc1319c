"""Pose annotation for videos.

Key frame proposals (K-FPN), live fill between labelled frames (HPIM and baselines),
motion-vector propagation, and import/export to the formats other tools read.
Sub-packages are layered: ``core`` (pure Python + NumPy) at the bottom; ``video``,
``dynamics``, ``proposal``, ``propagation``, ``formats`` and ``bench`` above it; ``gui`` on
top, the only package that imports Qt.
"""

__version__ = "0.1.0"
