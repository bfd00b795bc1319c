#!/usr/bin/env bash
# Render the application icon's PNG sizes from resources/desktop/icons/annotator.svg
# (needs rsvg-convert: apt librsvg2-bin). The PNGs are committed; run this after editing the SVG.
set -euo pipefail
cd "$(dirname "$0")/../resources/desktop/icons"
for size in 16 24 32 48 64 128 256 512; do
    rsvg-convert -w "$size" -h "$size" annotator.svg -o "annotator-$size.png"
done
