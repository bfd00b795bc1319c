#!/usr/bin/env bash
# One-step set-up on a fresh Debian/Ubuntu machine: system libraries Qt needs, then the package.
# Re-running is harmless. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
        libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libxcb-cursor0 \
        libxkbcommon0 libxkbcommon-x11-0 libegl1 libgl1 libdbus-1-3 libfontconfig1 \
        fontconfig fonts-dejavu-core >/dev/null
fi
# torch first: an already-installed build (CPU or CUDA) that fits the range is kept.
python3 -m pip install -q "torch>=2.2,<3"
python3 -m pip install -q -e ".[test]"
