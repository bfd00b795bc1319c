"""Pose annotation for videos.

Key frame proposals (K-FPN), live fill between labelled frames (HPIM and baselines),
motion-vector propagation, and import/export to the formats other tools read.
Sub-packages are layered (docs/architecture.md, enforced by tests/test_architecture.py):
``core`` (pure Python + NumPy) at the bottom; ``video``, ``dynamics`` and ``formats`` above it;
``proposal`` and ``propagation`` above those; ``gui`` (the only Qt importer) and ``cli`` (every
command) on top; ``bench`` beside them, reached only from ``cli``.
"""

__version__ = "0.1.0"
