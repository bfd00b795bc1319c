#!/usr/bin/env bash
# One-step set-up on a fresh Debian/Ubuntu machine: the system libraries Qt needs (apt), then
# torch and this checkout (editable, with the test extra) in a virtual environment.
#
# The environment is $ANNOTATOR_VENV when set (e.g. an already active one:
# ANNOTATOR_VENV="$VIRTUAL_ENV"), else .venv in the checkout; it is created when missing. Nothing
# is ever installed into the system Python. A torch already in that environment (a CUDA build,
# say) is kept when it fits the package's range. Re-running is harmless. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${ANNOTATOR_VENV:-.venv}"

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
    echo "setup: system libraries for Qt (apt)"
    # apt talks a lot on stderr even when all is well; show it only when it fails.
    apt_log="$(mktemp)"
    if ! { $SUDO apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
            python3-venv \
            xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
            libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libxcb-cursor0 \
            libxkbcommon0 libxkbcommon-x11-0 libegl1 libgl1 libdbus-1-3 libfontconfig1 \
            fontconfig fonts-dejavu-core; } >"$apt_log" 2>&1; then
        cat "$apt_log" >&2
        echo "setup: apt-get failed (above)" >&2
        exit 1
    fi
    rm -f "$apt_log"
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating the virtual environment $VENV"
    python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -c 'import sys; assert sys.version_info >= (3, 10), "annotator needs Python 3.10 or newer"'
echo "setup: installing into $VENV"
# torch first, on its own. A build already in the environment (CPU or CUDA, put there by the
# user) is kept when it fits the package's range. Otherwise the version this project is tested
# with: ANNOTATOR_TORCH overrides it (e.g. ANNOTATOR_TORCH="torch>=2.2,<3" for the newest).
if "$PY" -c 'import torch' >/dev/null 2>&1; then
    "$PY" -m pip install -q "torch>=2.2,<3"
else
    "$PY" -m pip install -q "${ANNOTATOR_TORCH:-torch==2.13.0}"
fi
"$PY" -m pip install -q -e ".[test]"
echo "setup: done; activate it with: . $VENV/bin/activate"
