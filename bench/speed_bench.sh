#!/usr/bin/env bash
# meshstats against the seed and against the machine, in one command.
#
#   bash bench/speed_bench.sh [--repeat N] [--data FILE]
#
# Generates (or reuses) FILE, default bench/out/plate-100x400x1300.h5
# (100 samples x 400 timesteps x 1,300 nodes x 8 rows, about 1.6 GB), and a
# gzip+shuffle chunked copy of it.  With the page cache warm it runs each
# command N times (default 5): `cat FILE`, the seed's numpy algorithm
# (bench/seed_stats.py, 50 sampled timesteps), meshstats -s 50, meshstats
# (full pass), the full pass with --positional-features 4, with
# --quantiles (at 0.01 and 0.001) and with --trace, and meshstats
# on the gzip copy with 1 and 2 workers.  It
# prints the median wall time, ratios and peak RSS, checks the targets of
# the speed issue, runs bench/pipeline_bench (workers x prefetch depth) and
# plots its throughput to bench/out/throughput.png with gnuplot.  Raw runs
# go to bench/out/speed.csv.  Never part of meson test.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=5
data=bench/out/plate-100x400x1300.h5
while (($#)); do
    case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "usage: bash bench/speed_bench.sh [--repeat N] [--data FILE]" >&2
       exit 2 ;;
    esac
done
out=bench/out
mkdir -p "$out" "$(dirname "$data")"
command -v gnuplot >/dev/null ||
    apt-get install -y -qq gnuplot-nox >/dev/null
# shellcheck source=common.sh
source bench/common.sh
gz="${data%.h5}-gzip.h5"
[ -f "$data" ] || "$exe" generate "$data" --samples 100 --timesteps 400 \
    --nodes 1300
[ -f "$gz" ] || "$exe" generate "$gz" --samples 100 --timesteps 400 \
    --nodes 1300 --gzip
py=/usr/bin/python3
csv=$out/speed.csv
echo "command,run,wall_s,peak_rss_kib" >"$csv"

# run NAME CMD...: time CMD $repeat times (interleaved with the others, so
# that slow moments of the machine hit every command alike).
names=() cmds=()
add() {
    names+=("$1")
    shift
    cmds+=("$*")
}
add cat "cat '$data'"
add seed_s50 "$py bench/seed_stats.py '$data' --json $out/seed.json"
add meshstats_s50 "$exe -q -s 50 --json $out/ms50.json '$data'"
add meshstats_full "$exe -q --json $out/full.json '$data'"
add positional_4 "$exe -q --positional-features 4 '$data'"
add quantiles "$exe -q --quantiles '$data'"
add quantiles_001 "$exe -q --quantiles --quantile-accuracy 0.001 '$data'"
add trace_full "$exe -q --trace $out/trace.json '$data'"
add gzip_j1 "$exe -q -j 1 '$gz'"
add gzip_j2 "$exe -q -j 2 '$gz'"
cat "$data" "$gz" >/dev/null # warm the page cache
for i in $(seq "$repeat"); do
    for k in "${!names[@]}"; do
        measure "$out/time.txt" sh -c "${cmds[$k]}" \
            >/dev/null
        read -r wall rss <"$out/time.txt"
        echo "${names[$k]},$i,$wall,$rss" >>"$csv"
    done
done

"$py" - "$csv" "$out" "$data" <<'PY'
import csv, json, statistics, sys, datetime, os
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["command"], []).append(r)
med = {k: (statistics.median(float(r["wall_s"]) for r in v),
           max(int(r["peak_rss_kib"]) for r in v) / 1024) for k, v in rows.items()}
size = os.path.getsize(sys.argv[3]) / 1e6
seed, cat = med["seed_s50"][0], med["cat"][0]
print(f"meshstats speed bench, {datetime.date.today()}, {os.cpu_count()} cores, "
      f"{sys.argv[3]} ({size:.0f} MB), median of {len(rows['cat'])} runs")
print(f"{'command':<16} {'wall s':>8} {'peak RSS MiB':>13} {'vs seed':>9} {'vs cat':>8}")
for k in ("cat", "seed_s50", "meshstats_s50", "meshstats_full", "positional_4",
          "quantiles", "quantiles_001", "trace_full", "gzip_j1", "gzip_j2"):
    w, m = med[k]
    print(f"{k:<16} {w:>8.3f} {m:>13.1f} {seed / w:>8.1f}x {w / cat:>7.1f}x")
s50, full, rss = med["meshstats_s50"][0], med["meshstats_full"][0], med["meshstats_full"][1]
g1, g2 = med["gzip_j1"][0], med["gzip_j2"][0]
def verdict(ok):
    return "met" if ok else "NOT met"
print("targets:")
print(f"  -s 50 at least 50x the seed:         {seed / s50:6.1f}x  {verdict(seed / s50 >= 50)}")
print(f"  full pass at most 4x cat:            {full / cat:6.1f}x  {verdict(full / cat <= 4)}")
print(f"  full pass peak RSS under 64 MiB:     {rss:6.1f}   {verdict(rss < 64)}")
print(f"  gzip copy, 2 workers vs 1:           {g1 / g2:6.2f}x  {verdict(g1 / g2 >= 1.6)}")
pf = med["positional_4"][0]
print(f"  positional features 4 vs full pass:  {pf / full:6.2f}x  {verdict(pf / full <= 1.25)}")
qt, qrss = med["quantiles"]
print(f"  --quantiles vs full pass:            {qt / full:6.2f}x  {verdict(qt / full <= 3)}")
print(f"  --quantiles peak RSS under 64 MiB:   {qrss:6.1f}   {verdict(qrss <= 64)}")
tr = med["trace_full"][0]
print(f"  --trace vs full pass:                {tr / full:6.2f}x  {verdict(tr / full <= 1.05)}")
s = json.load(open(f"{sys.argv[2]}/seed.json"))
e = json.load(open(f"{sys.argv[2]}/ms50.json"))
print("seed (float32) vs meshstats -s 50 (exact), worst |difference| / std:")
for g in ("node", "edge", "delta"):
    wm = max(abs(a - b) / sd for a, b, sd in zip(s[g]["mean"], e[g]["mean"], e[g]["std"]) if sd > 0)
    ws = max(abs(a - b) / sd for a, b, sd in zip(s[g]["std"], e[g]["std"], e[g]["std"]) if sd > 0)
    print(f"  {g:<6} mean {wm:.2e}  std {ws:.2e}")
PY

build-release/bench/pipeline_bench --data "$data" --csv "$out/pipeline.csv" \
    >"$out/pipeline.txt"
cat "$out/pipeline.txt"
gnuplot <<PLOT
set terminal pngcairo size 800,500 font ",11" noenhanced
set output "$out/throughput.png"
set title "meshstats full pass, $(date +%F): throughput vs prefetch depth"
set xlabel "prefetch depth (units in flight)"
set ylabel "MB/s of nodal_data"
set logscale x 2
set key left top
set grid
set datafile separator ","
plot "$out/pipeline.csv" every ::1 using (\$1==1?\$2:1/0):7 with linespoints lw 2 title "1 worker", \
     "$out/pipeline.csv" every ::1 using (\$1==2?\$2:1/0):7 with linespoints lw 2 title "2 workers"
PLOT
echo "plot: $out/throughput.png"
