"""Running this checkout's Python as a new process, the way a user or CI would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from tests.conftest import REPO_ROOT


def run_python(
    *args: str, drop: Callable[[str], bool] = lambda _: False, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the repository root, with the environment variables ``drop`` names
    removed and ``env`` added; output captured as text."""
    environ = {k: v for k, v in os.environ.items() if not drop(k)}
    environ.update(env)
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environ,
        timeout=300,
    )
