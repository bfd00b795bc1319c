#!/usr/bin/env bash
# Build the Linux x86-64 desktop build from a clean checkout: a PyInstaller one-folder bundle
# (dist/annotator/) and the tarball made from it (dist/annotator-VERSION-linux-x86_64.tar.gz,
# with packaging/install.sh inside). Runs packaging/smoke.sh on the tarball with --smoke.
#
# Everything is installed into a build environment of its own ($ANNOTATOR_BUILD_VENV, default
# build/venv), never into the one you develop in, so the bundle holds exactly the package's
# dependencies. Torch: $ANNOTATOR_TORCH (default the CPU build torch==2.13.0+cpu), from
# $ANNOTATOR_TORCH_INDEX when set (e.g. https://download.pytorch.org/whl/cpu, or a CUDA index
# for a CUDA build: see docs/packaging.md). A torch already in that environment is kept.
#
#   bash packaging/build.sh [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${ANNOTATOR_BUILD_VENV:-$ROOT/build/venv}"
TORCH="${ANNOTATOR_TORCH:-torch==2.13.0+cpu}"
SMOKE=0
for arg in "$@"; do
    case "$arg" in
        --smoke) SMOKE=1 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "build: unknown argument $arg" >&2; exit 2 ;;
    esac
done
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
    echo "build: creating the build environment $VENV"
    python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), "the build needs Python 3.11 or newer"'
if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "build: installing $TORCH"
    "$PY" -m pip install -q ${ANNOTATOR_TORCH_INDEX:+--index-url "$ANNOTATOR_TORCH_INDEX"} "$TORCH"
fi
echo "build: installing PyInstaller and this checkout (not editable) into $VENV"
"$PY" -m pip install -q "pyinstaller>=6.10,<7"
"$PY" -m pip install -q --force-reinstall --no-deps .
"$PY" -m pip install -q .
rm -rf build/lib build/bdist.* ./*.egg-info  # setuptools' leftovers from building the wheel

VERSION="$("$PY" -c 'import annotator; print(annotator.__version__)')"
echo "build: PyInstaller one-folder build of annotator $VERSION"
rm -rf dist/annotator
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --workpath build/pyinstaller --distpath dist packaging/annotator.spec

BUNDLE=dist/annotator/_internal
# Bytecode for our package (shipped as .py for numba's cache): the frozen program then does not
# compile it at every start. Unchecked hashes stay valid whatever the files' times become.
"$PY" -m compileall -q --invalidation-mode unchecked-hash "$BUNDLE/annotator"
# Symbol tables of the largest native libraries are of no use to users (about 100 MB).
for lib in "$BUNDLE"/torch/lib/libtorch_cpu.so "$BUNDLE"/torch/lib/libtorch_python.so \
    "$BUNDLE"/llvmlite/binding/libllvmlite.so; do
    if [ -f "$lib" ] && command -v strip >/dev/null; then strip --strip-unneeded "$lib"; fi
done

NAME="annotator-$VERSION-linux-x86_64"
STAGE="build/tarball/$NAME"
echo "build: tarball dist/$NAME.tar.gz"
rm -rf build/tarball && mkdir -p "$STAGE"
cp -a dist/annotator "$STAGE/annotator"
cp packaging/install.sh "$STAGE/install.sh"
cp packaging/TARBALL-README.txt "$STAGE/README.txt"
chmod +x "$STAGE/install.sh"
tar -C build/tarball -czf "dist/$NAME.tar.gz" "$NAME"
rm -rf build/tarball

echo "build: done in $(( $(date +%s) - start )) s"
du -sh dist/annotator | sed 's/^/build: bundle /'
du -h "dist/$NAME.tar.gz" | sed 's/^/build: tarball /'
if [ "$SMOKE" = 1 ]; then
    bash packaging/smoke.sh "dist/$NAME.tar.gz"
fi
