#!/usr/bin/env bash
# Many small samples: wall time, peak RSS and the ratio to `cat` of the
# same file, side by side with the seed's algorithm, for the two shapes of
# docs/performance.md "Many samples":
#
#   bash bench/many_bench.sh [--repeat R] [--no-seed] [--mpi]
#
# Generates (or reuses) bench/out/many-5000x1x2000.h5 (a static sweep:
# 5,000 samples of 1 timestep of 2,000 nodes, 793 MB) and
# bench/out/many-20000x10x60.h5 (20,000 samples of 10 timesteps of 60
# nodes, 465 MB) with `meshstats generate`.  With the page cache warm it
# runs, interleaved, R times (default 5): `cat FILE`, the full pass with
# 2 workers and with 1, the seed's algorithm (bench/seed_stats.py, its 50
# sampled timesteps: all of these samples'; once, it takes seconds) and,
# with --mpi, `mpirun -n 2` (each rank checks and reads half the
# samples).  It prints the median of each and checks that the JSON is
# byte-identical for -j 1, -j 2 and under mpirun (the seed's float32 sums
# are not a reference: docs/performance.md).  Never part of meson test.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=5 seed=1 mpi=0
while (($#)); do
    case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --no-seed) seed=0; shift ;;
    --mpi) mpi=1; shift ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
    esac
done
out=bench/out
mkdir -p "$out"
# shellcheck source=common.sh
source bench/common.sh
py=/usr/bin/python3
csv=$out/many.csv
echo "dataset,command,run,wall_s,peak_rss_kib" >"$csv"

for shape in 5000x1x2000 20000x10x60; do
    IFS=x read -r samples timesteps nodes <<<"$shape"
    data=$out/many-$shape.h5
    [ -f "$data" ] || "$exe" generate "$data" -q --samples "$samples" \
        --timesteps "$timesteps" --nodes "$nodes"
    cat "$data" >/dev/null
    for i in $(seq "$repeat"); do
        for cmd in cat j2 j1 mpi2; do
            case $cmd in
            cat) run=(cat "$data") ;;
            j2) run=("$exe" -q -j 2 --json "$out/many-j2.json" "$data") ;;
            j1) run=("$exe" -q -j 1 --json "$out/many-j1.json" "$data") ;;
            mpi2) ((mpi)) || continue
                run=(mpirun --allow-run-as-root --oversubscribe -n 2 "$exe"
                     -q -j 1 --json "$out/many-mpi.json" "$data") ;;
            esac
            measure "$out/time.txt" "${run[@]}"
            read -r wall rss <"$out/time.txt"
            echo "$shape,$cmd,$i,$wall,$rss" >>"$csv"
        done
    done
    cmp -s "$out/many-j1.json" "$out/many-j2.json" ||
        { echo "many bench: $shape: -j 1 and -j 2 differ" >&2; exit 1; }
    if ((mpi)) && ! cmp -s "$out/many-j1.json" "$out/many-mpi.json"; then
        echo "many bench: $shape: mpirun -n 2 differs from -j 1" >&2
        exit 1
    fi
    if ((seed)); then
        measure "$out/time.txt" $py bench/seed_stats.py "$data" \
            --json "$out/many-seed.json"
        read -r wall rss <"$out/time.txt"
        echo "$shape,seed,1,$wall,$rss" >>"$csv"
    fi
done

$py - "$csv" <<'EOF'
import csv, statistics, sys, datetime
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"many bench, {datetime.date.today()}: median of the runs")
print(f"{'dataset':14} {'command':8} {'wall s':>8} {'peak RSS MiB':>13} "
      f"{'vs cat':>7}")
for shape in dict.fromkeys(r["dataset"] for r in rows):
    mine = [r for r in rows if r["dataset"] == shape]
    med = {}
    for cmd in dict.fromkeys(r["command"] for r in mine):
        runs = [r for r in mine if r["command"] == cmd]
        med[cmd] = (statistics.median(float(r["wall_s"]) for r in runs),
                    max(int(r["peak_rss_kib"]) for r in runs) / 1024)
    for cmd, (wall, rss) in med.items():
        print(f"{shape:14} {cmd:8} {wall:8.3f} {rss:13.1f} "
              f"{wall / med['cat'][0]:6.1f}x")
EOF
