#!/usr/bin/env bash
# Times meshstats against the seed's algorithm on one generated dataset.
#
#   bash bench/core_bench.sh [--repeat N] [--data FILE]
#
# Generates FILE (default bench/out/plate-100x400x1300.h5, about 1.6 GB:
# 100 samples x 400 timesteps x 1,300 nodes x 8 rows) unless it exists,
# warms the page cache, then runs each command N times (default 3):
# `cat FILE > /dev/null`, the seed's numpy pass (50 sampled timesteps),
# meshstats -s 50 and meshstats in full mode.  Prints a table of median wall
# time and peak RSS and writes bench/out/core.csv.  It also reports how far
# the seed's float32 statistics are from meshstats' exact -s 50 ones.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=3
data=bench/out/plate-100x400x1300.h5
while (($#)); do
    case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "usage: bash bench/core_bench.sh [--repeat N] [--data FILE]" >&2
       exit 2 ;;
    esac
done
mkdir -p bench/out "$(dirname "$data")"
if [ ! -x /usr/bin/time ]; then
    apt-get install -y -qq time >/dev/null
fi
if [ ! -f build-release/build.ninja ]; then
    meson setup build-release --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C build-release >/dev/null
exe=build-release/src/meshstats
if [ ! -f "$data" ]; then
    "$exe" generate "$data" --samples 100 --timesteps 400 --nodes 1300
fi
cat "$data" >/dev/null # warm the page cache
py=/usr/bin/python3
out=bench/out
csv=$out/core.csv
echo "command,run,wall_s,peak_rss_kib" >"$csv"

# run NAME CMD...: time CMD $repeat times, append to the CSV.
run() {
    local name=$1
    shift
    for i in $(seq "$repeat"); do
        /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >/dev/null
        read -r wall rss <"$out/time.txt"
        echo "$name,$i,$wall,$rss" >>"$csv"
    done
}

run cat sh -c "cat '$data' >/dev/null"
run seed_s50 "$py" bench/seed_stats.py "$data" --json "$out/seed.json"
run meshstats_s50 "$exe" -q -s 50 --json "$out/ms50.json" "$data"
run meshstats_full "$exe" -q --json "$out/full.json" "$data"

"$py" - "$csv" "$out" "$data" <<'PY'
import csv, json, statistics, sys, datetime, os, platform
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["command"], []).append(r)
med = {k: (statistics.median(float(r["wall_s"]) for r in v),
           max(int(r["peak_rss_kib"]) for r in v) / 1024) for k, v in rows.items()}
seed = med["seed_s50"][0]
size = os.path.getsize(sys.argv[3]) / 1e6
print(f"meshstats core bench, {datetime.date.today()}, {os.cpu_count()} cores, "
      f"{sys.argv[3]} ({size:.0f} MB), median of {len(rows['cat'])} runs")
print(f"{'command':<16} {'wall s':>8} {'peak RSS MiB':>13} {'vs seed':>9} {'MB/s':>8}")
for k in ("cat", "seed_s50", "meshstats_s50", "meshstats_full"):
    w, m = med[k]
    print(f"{k:<16} {w:>8.2f} {m:>13.1f} {seed / w:>8.1f}x {size / w:>8.0f}")
s = json.load(open(f"{sys.argv[2]}/seed.json"))
e = json.load(open(f"{sys.argv[2]}/ms50.json"))
print("seed (float32) vs meshstats -s 50 (exact), worst |difference| / std:")
for g in ("node", "edge", "delta"):
    worst_mean = max(abs(a - b) / sd for a, b, sd in zip(s[g]["mean"], e[g]["mean"], e[g]["std"]) if sd > 0)
    worst_std = max(abs(a - b) / sd for a, b, sd in zip(s[g]["std"], e[g]["std"], e[g]["std"]) if sd > 0)
    print(f"  {g:<6} mean {worst_mean:.2e}  std {worst_std:.2e}")
PY
