#!/usr/bin/env bash
# The picture of a report in docs/cli.md, made from a real pass: a
# throttled two-worker pass over a generated dataset, --report, and a
# screenshot of the page by headless Chromium into docs/report.png.
#
#   bash bench/report_picture.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=common.sh
source bench/common.sh
command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null
out=bench/out
mkdir -p "$out"
data=$out/report-8x40x2000.h5
[ -f "$data" ] || "$exe" generate "$data" -q --samples 8 --timesteps 40 \
    --nodes 2000
"$exe" -q -j 2 --throttle 40 --report "$out/report.html" "$data"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1000,2450 --screenshot="$PWD/docs/report.png" \
    "file://$PWD/$out/report.html" 2>/dev/null
echo "docs/report.png"
