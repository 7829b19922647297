#!/usr/bin/env bash
# DeepMind's layout: a full pass of each model against cat, side by side.
#
#   bash bench/models_bench.sh [--repeat R] [--trajectories K]
#                              [--frames T] [--nodes N]
#
# Generates (or reuses) bench/out/<model>-K-T-N.h5 for cloth (default 40
# trajectories x 400 frames x 1,600 nodes, static fields tiled over the
# frames: about 1.2 GB, the size of flag_simple's training split), cfd and
# plate, warms the page cache, and runs interleaved, R times (default 5):
# `cat FILE` and `meshstats FILE` (release build, default settings).  It
# prints the median wall time, the ratio to cat and the peak RSS of each,
# and checks that the JSON is byte-identical for -j 1, -j 2 and
# --memory-limit 16M.  Never part of meson test.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=5 trajectories=40 frames=400 nodes=1600
while (($#)); do
    case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --trajectories) trajectories=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    *) echo "usage: bash bench/models_bench.sh [--repeat R]" \
            "[--trajectories K] [--frames T] [--nodes N]" >&2; exit 2 ;;
    esac
done
out=bench/out
mkdir -p "$out"
# shellcheck source=common.sh
source bench/common.sh
csv=$out/models.csv
echo "model,command,run,wall_s,peak_rss_kib" >"$csv"
for model in cloth cfd plate; do
    data=$out/$model-$trajectories-$frames-$nodes.h5
    [ -f "$data" ] || "$exe" generate "$data" -q --model "$model" \
        --samples "$trajectories" --timesteps "$frames" --nodes "$nodes"
    cat "$data" >/dev/null # warm the page cache
    for i in $(seq "$repeat"); do
        for cmd in cat meshstats; do
            if [ $cmd = cat ]; then
                measure "$out/time.txt" cat "$data" \
                    >/dev/null
            else
                measure "$out/time.txt" "$exe" -q \
                    --json "$out/$model.json" "$data"
            fi
            read -r wall rss <"$out/time.txt"
            echo "$model,$cmd,$i,$wall,$rss" >>"$csv"
        done
    done
    for args in "-j 1" "-j 2" "--memory-limit 16M"; do
        # shellcheck disable=SC2086
        "$exe" -q $args --json "$out/$model-other.json" "$data"
        if ! cmp -s "$out/$model.json" "$out/$model-other.json"; then
            echo "models bench: $model: the JSON with $args differs" >&2
            exit 1
        fi
    done
done
/usr/bin/python3 - "$csv" "$out" "$trajectories-$frames-$nodes" "$repeat" <<'PY'
import csv, datetime, os, statistics, sys
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault((r["model"], r["command"]), []).append(
        (float(r["wall_s"]), int(r["peak_rss_kib"])))
print(f"models bench, {datetime.date.today()}, {os.cpu_count()} cores, "
      f"trajectories-frames-nodes {sys.argv[3]}, median of {sys.argv[4]}")
print(f"{'model':<6} {'MB':>6} {'cat s':>7} {'meshstats s':>12} "
      f"{'vs cat':>7} {'peak RSS MiB':>13}")
for model in ("cloth", "cfd", "plate"):
    size = os.path.getsize(f"{sys.argv[2]}/{model}-{sys.argv[3]}.h5") / 1e6
    cat = statistics.median(w for w, _ in rows[(model, "cat")])
    ms = statistics.median(w for w, _ in rows[(model, "meshstats")])
    rss = max(m for _, m in rows[(model, "meshstats")]) / 1024
    print(f"{model:<6} {size:>6.0f} {cat:>7.3f} {ms:>12.3f} "
          f"{ms / cat:>6.1f}x {rss:>13.1f}")
print("the JSON is byte-identical for -j 1, -j 2 and --memory-limit 16M")
PY
