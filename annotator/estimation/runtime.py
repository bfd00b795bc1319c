"""The model files and the runtime that executes them (LiteRT, imported only when needed).

The two ``.tflite`` files ship in ``models/`` unchanged from the ``mediapipe==0.10.21`` wheel;
their sha256 is checked before first use, so a damaged or swapped file fails with one line
instead of giving quietly wrong poses. ``docs/estimation.md`` says why LiteRT
(``ai-edge-litert``) is the runtime.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.core.paths import model_path
from annotator.errors import FormatError, UsageError

DETECTOR = "pose_detection.tflite"
LANDMARKER = "pose_landmark_full.tflite"
SHA256 = {
    DETECTOR: "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    LANDMARKER: "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
}
_verified: set[Path] = set()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checked_model(name: str) -> Path:
    """The path of shipped model ``name`` after checking its sha256 (once per process)."""
    path = model_path(name)
    if path not in _verified:
        if sha256_of(path) != SHA256[name]:
            raise FormatError(f"model file {path} is damaged or not the shipped one (sha256)")
        _verified.add(path)
    return path


class LiteModel:
    """One ``.tflite`` model on the LiteRT interpreter: ``run(input)`` -> outputs by index."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise UsageError(
                "the pose estimator needs the ai-edge-litert package: pip install ai-edge-litert"
            ) from None
        self._interpreter: Any = Interpreter(model_path=str(path), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        # Outputs in the model's declared order (Identity, Identity_1, ...).
        details = sorted(self._interpreter.get_output_details(), key=lambda d: d["name"])
        self._outputs = [d["index"] for d in details]

    def run(self, tensor: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(i).copy() for i in self._outputs]
