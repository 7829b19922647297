#!/usr/bin/env bash
# One large mesh in little memory: wall time, peak RSS and the ratio to
# `cat` of the same file, at several memory limits, side by side.
#
#   bash bench/large_bench.sh [--nodes N] [--timesteps T] [--repeat R]
#                             [--limits "96M 256M 2G"] [--no-check]
#                             [--orders "ordered edges nodes"]
#
# Generates (or reuses) bench/out/large-N-T.h5, one sample of N nodes
# (default 2,000,000: 2,002,224 nodes and 5,994,001 edges) and T timesteps
# (default 12).  With the page cache warm it runs, interleaved, R times
# (default 5): `cat FILE` and the full pass at each memory limit.  It
# prints the median wall time, the ratio to cat and the peak RSS of each,
# checks that the JSON is byte-identical at every limit, and checks it
# against a float64 reference streamed a timestep at a time
# (bench/large_reference.py: within 1e-10, min and max exact).  For
# 20,000,000 nodes use --nodes 20000000 --limits "1G 2G 4G" (an 8.6 GB
# file: the positions of one timestep alone are 480 MB).  --orders adds
# the same mesh numbered otherwise (bench/shuffle_mesh.py): "edges", its
# edge list shuffled; "nodes", its nodes numbered at random and its edges
# sorted; "relabel", its nodes numbered at random and its edges left where
# they were; "gzip", the ordered mesh as `meshstats generate --chunked
# --gzip` writes it (deflate and shuffle, a chunk a row of a timestep: a
# chunk spans every node); each is timed at the first limit and its
# statistics compared with the ordered mesh's (1e-12).  Never part of
# meson test.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=2000000 timesteps=12 repeat=5 limits="96M 256M 2G" check=1 orders=ordered
while (($#)); do
    case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --timesteps) timesteps=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --limits) limits=$2; shift 2 ;;
    --no-check) check=0; shift ;;
    --orders) orders=$2; shift 2 ;;
    *) sed -n '2,26p' "$0" >&2; exit 2 ;;
    esac
done
out=bench/out
mkdir -p "$out"
# shellcheck source=common.sh
source bench/common.sh
data=$out/large-$nodes-$timesteps.h5
[ -f "$data" ] || "$exe" generate "$data" -q --samples 1 \
    --timesteps "$timesteps" --nodes "$nodes"
csv=$out/large.csv
echo "command,run,wall_s,peak_rss_kib" >"$csv"
for order in $orders; do
    file="${data%.h5}-$order.h5"
    if [ "$order" = gzip ] && [ ! -f "$file" ]; then
        "$exe" generate "$file" -q --samples 1 --timesteps "$timesteps" \
            --nodes "$nodes" --chunked --gzip
    fi
    [ "$order" = ordered ] || [ -f "$file" ] ||
        /usr/bin/python3 bench/shuffle_mesh.py "$data" "$file" "$order"
done
cat "$data" >/dev/null # warm the page cache
for i in $(seq "$repeat"); do
    measure "$out/time.txt" cat "$data" >/dev/null
    read -r wall rss <"$out/time.txt"
    echo "cat,$i,$wall,$rss" >>"$csv"
    for limit in $limits; do
        measure "$out/time.txt" "$exe" -q \
            --memory-limit "$limit" --json "$out/large-$limit.json" "$data"
        read -r wall rss <"$out/time.txt"
        echo "meshstats $limit,$i,$wall,$rss" >>"$csv"
    done
    for order in $orders; do
        [ "$order" != ordered ] || continue
        limit=${limits%% *}
        file="${data%.h5}-$order.h5"
        cat "$file" >/dev/null
        measure "$out/time.txt" "$exe" -q \
            --memory-limit "$limit" --json "$out/large-$order.json" "$file"
        read -r wall rss <"$out/time.txt"
        echo "$order $limit,$i,$wall,$rss" >>"$csv"
    done
done

first=""
for limit in $limits; do
    if [ -z "$first" ]; then
        first=$out/large-$limit.json
    elif ! cmp -s "$first" "$out/large-$limit.json"; then
        echo "large bench: the JSON at $limit differs from $first" >&2
        exit 1
    fi
done

size=$(stat -L -c %s "$data")
/usr/bin/python3 - "$csv" "$data" "$size" "$limits" <<'PY'
import csv, datetime, statistics, sys
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["command"], []).append(
        (float(r["wall_s"]), int(r["peak_rss_kib"])))
med = {k: (statistics.median(w for w, _ in v),
           max(m for _, m in v) / 1024) for k, v in rows.items()}
cat = med["cat"][0]
print(f"large bench, {datetime.date.today()}: {sys.argv[2]} "
      f"({int(sys.argv[3]) / 1e6:.0f} MB), median of {len(rows['cat'])} runs")
print(f"{'command':<22} {'wall s':>8} {'peak RSS MiB':>13} {'vs cat':>8}")
for k, (w, m) in med.items():
    print(f"{k:<22} {w:>8.3f} {m:>13.1f} {w / cat:>7.1f}x")
print("the JSON is byte-identical at every memory limit:", sys.argv[4])
PY
for order in $orders; do
    [ "$order" != ordered ] || continue
    /usr/bin/python3 - "$first" "$out/large-$order.json" "$order" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
worst = 0.0
for g in ("node", "edge", "delta"):
    assert a[g]["count"] == b[g]["count"], g
    for key in ("mean", "std", "min", "max"):
        for x, y, s in zip(a[g][key], b[g][key], a[g]["std"]):
            worst = max(worst, abs(x - y) / max(s, 1e-300))
print(f"{sys.argv[3]}: worst difference from the ordered mesh "
      f"{worst:.1e} of a std", "(within 1e-12)" if worst <= 1e-12 else
      "(NOT within 1e-12)")
PY
done
if ((check)); then
    echo "against a float64 reference (bench/large_reference.py):"
    /usr/bin/python3 bench/large_reference.py "$data" "$first"
fi
