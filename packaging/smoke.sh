#!/usr/bin/env bash
# Smoke test of the desktop tarball, as a user without Python would run it:
#
#   bash packaging/smoke.sh dist/annotator-VERSION-linux-x86_64.tar.gz
#
# Unpacks it into a temporary folder, installs it with its install.sh into a temporary HOME,
# and runs the installed program with a cleared environment (env -i: only HOME and a PATH made
# of /usr/bin and /bin with every python* left out) under Xvfb:
#   1. the GUI on the sample video with --screenshot: exit code 0 and a 1280x800 PNG of
#      the window with the frame in it (copied to $SMOKE_OUT, default dist/smoke-screenshot.png);
#   2. the headless commands: --version, info --json;
#   3. selftest: motion extraction through the numba kernels, twice, and numba's cache must
#      be in the per-user cache folder ($HOME/.cache/annotator/numba) after the first;
#   4. a K-FPN proposal on the sample (torch, the bundled models and backbone weights), and
#      the pose estimator on 4 key frames (LiteRT and the BlazePose models);
#   5. start-up time to the first frame, median of 5 (annotator bench startup);
#   6. install.sh --uninstall removes the program.
# Needs Xvfb (apt xvfb) and xauth. Takes a few minutes on 2 cores (the first selftest compiles
# the kernels; the proposal runs K-FPN on the CPU).
set -euo pipefail
TARBALL="$(realpath "${1:?usage: smoke.sh TARBALL}")"
cd "$(dirname "$0")/.."
OUT="${SMOKE_OUT:-$PWD/dist/smoke-screenshot.png}"
WORK="$(mktemp -d /tmp/annotator-smoke.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
step() { echo "smoke: $*"; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }

step "unpacking $(basename "$TARBALL") ($(du -h "$TARBALL" | cut -f1))"
tar -xzf "$TARBALL" -C "$WORK"
TOP="$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'annotator-*' | head -1)"
[ -n "$TOP" ] || fail "no annotator-* folder in the tarball"

# A PATH with the system's tools and no Python at all.
mkdir -p "$WORK/bin" "$WORK/home"
for dir in /bin /usr/bin; do
    for tool in "$dir"/*; do
        name="${tool##*/}"
        case "$name" in python*|pip*|pydoc*|2to3*) continue ;; esac
        [ -e "$WORK/bin/$name" ] || ln -s "$tool" "$WORK/bin/$name"
    done
done
clean() { env -i HOME="$WORK/home" PATH="$WORK/bin" "$@"; }
if clean sh -c 'command -v python3 || command -v python' >/dev/null; then
    fail "the cleared PATH still has a python"
fi
step "cleared environment: env -i HOME=$WORK/home PATH=$WORK/bin (no python on it)"

clean sh "$TOP/install.sh" --prefix "$WORK/home/.local"
PROGRAM="$WORK/home/.local/bin/annotator"
SAMPLE="$WORK/home/.local/lib/annotator/_internal/resources/samples/taiji.mp4"
[ -x "$PROGRAM" ] && [ -f "$SAMPLE" ] || fail "install.sh did not install the program and sample"
xvfb() { clean xvfb-run -a -s "-screen 0 1280x800x24" "$@"; }

step "1. GUI screenshot of the sample video under Xvfb"
status=0
xvfb "$PROGRAM" "$SAMPLE" --screenshot "$WORK/shot.png" || status=$?
[ "$status" = 0 ] || fail "the GUI screenshot run exited $status"
[ -s "$WORK/shot.png" ] || fail "no screenshot written"
[ "$(head -c 8 "$WORK/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    || fail "the screenshot is not a PNG"
size="$(od -An -tu1 -j16 -N8 "$WORK/shot.png" | awk '{print $3*256+$4 "x" $7*256+$8}')"
[ "$size" = 1280x800 ] || fail "the screenshot is $size, not 1280x800"
bytes="$(stat -c %s "$WORK/shot.png")"
# An empty window compresses to a few kB; one showing the video frame to far more.
[ "$bytes" -gt 100000 ] || fail "the screenshot is $bytes bytes: no frame in it?"
mkdir -p "$(dirname "$OUT")" && cp "$WORK/shot.png" "$OUT"
step "   exit 0, $size PNG of $bytes bytes -> $OUT"

step "2. headless commands"
clean "$PROGRAM" --version
clean "$PROGRAM" info "$SAMPLE" --json | grep -q '"frame_count": 240' || fail "info"

step "3. motion extraction (numba) in the frozen build, twice"
for run in 1 2; do
    start=$(date +%s)
    clean "$PROGRAM" selftest > "$WORK/selftest.json" || fail "selftest run $run"
    step "   run $run: $(( $(date +%s) - start )) s; $(grep -E '"(motion_seconds|numba_cached_kernels)"' "$WORK/selftest.json" | tr -d '\n ')"
done
grep -q "\"numba_cache_dir\": \"$WORK/home/.cache/annotator/numba\"" "$WORK/selftest.json" \
    || fail "numba's cache is not in the per-user cache folder"
ls "$WORK"/home/.cache/annotator/numba/*/*.nbi >/dev/null 2>&1 || ls -R "$WORK/home/.cache/annotator/numba" | grep -q '\.nbi$' \
    || fail "no cached kernels in $WORK/home/.cache/annotator/numba"

step "4. K-FPN proposal on the CPU (torch and the bundled models)"
clean "$PROGRAM" propose "$SAMPLE" --out "$WORK/proposals.json" --budget 0.1
grep -q '"method": "kfpn"' "$WORK/proposals.json" || fail "the proposal did not use K-FPN"

step "4b. pose estimator (BlazePose on LiteRT) on 4 key frames, the rest filled"
clean "$PROGRAM" estimate "$SAMPLE" --out "$WORK/estimate.npz" --keyframes uniform --budget 4
[ -s "$WORK/estimate.npz" ] || fail "the estimator wrote nothing"

step "5. start-up to the first frame"
xvfb "$PROGRAM" bench startup "$SAMPLE" --runs 5

step "6. uninstall"
clean sh "$TOP/install.sh" --prefix "$WORK/home/.local" --uninstall
[ ! -e "$PROGRAM" ] || fail "uninstall left $PROGRAM"
step "passed"
