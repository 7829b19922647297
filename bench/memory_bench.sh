#!/usr/bin/env bash
# Peak memory against the number of timesteps: one sample of about 100,000
# nodes with 40 and with 400 timesteps, meshstats at default settings.
#
#   bash bench/memory_bench.sh [--nodes N]
#
# Prints the peak RSS of each run and the growth from 40 to 400 timesteps
# (the pipeline's target: under 128 MiB, growing by less than 15%).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=100000
if [ "${1:-}" = "--nodes" ]; then nodes=$2; fi
mkdir -p bench/out
# shellcheck source=common.sh
source bench/common.sh
declare -A rss wall
for T in 40 400; do
    f=bench/out/mem-$nodes-$T.h5
    [ -f "$f" ] || "$exe" generate "$f" -q --samples 1 --timesteps "$T" \
        --nodes "$nodes"
    cat "$f" >/dev/null
    measure bench/out/mem.txt "$exe" -q "$f"
    read -r wall[$T] rss[$T] <bench/out/mem.txt
done
echo "memory bench, $(date +%F): one sample of $nodes nodes, default settings"
printf "%10s %14s %8s\n" timesteps "peak RSS MiB" "wall s"
for T in 40 400; do
    printf "%10s %14.1f %8s\n" "$T" "$(echo "${rss[$T]} / 1024" | bc -l)" \
        "${wall[$T]}"
done
printf "growth from 40 to 400 timesteps: %.1f%%\n" \
    "$(echo "(${rss[400]} - ${rss[40]}) * 100 / ${rss[40]}" | bc -l)"
