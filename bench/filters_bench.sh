#!/usr/bin/env bash
# The compressors h5py users write, decoded on the workers: one worker
# against two, and against the same data uncompressed.
#
#   bash bench/filters_bench.sh [--repeat N]
#
# Writes (or reuses) with h5py the first 30 samples of the speed bench's
# file (bench/speed_bench.sh makes it) as chunks of 8 x 10 x 1300 values:
# uncompressed, LZF with shuffle (h5py's compression="lzf"), Blosc
# (Debian's hdf5-filter-plugin-blosc-serial writes it), Zstandard (chunks
# from python3-zstandard); times meshstats -j 1 and -j 2 on each, median
# of N runs (default 5), with the page cache warm.  Never part of meson
# test.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=5
[ "${1:-}" = --repeat ] && repeat=$2
out=bench/out
src=$out/plate-100x400x1300.h5
[ -f "$src" ] || { echo "run bench/speed_bench.sh first (it makes $src)" >&2; exit 2; }
# shellcheck source=common.sh
source bench/common.sh
/usr/bin/python3 - "$src" "$out" <<'PY'
import os, sys
import h5py, numpy as np, zstandard
src, out = sys.argv[1:3]
zstd = zstandard.ZstdCompressor(level=3).compress
kinds = {"plain": {}, "lzf": {"compression": "lzf", "shuffle": True},
         "blosc": {"compression": 32001}, "zstd": None}
with h5py.File(src) as a:
    for name, kw in kinds.items():
        path = f"{out}/filters-{name}.h5"
        if os.path.exists(path):
            continue
        with h5py.File(path, "w") as b:
            for sid in list(a["data"])[:30]:
                nodal = a[f"data/{sid}/nodal_data"][...]
                g = b.create_group(f"data/{sid}")
                g["mesh_edge"] = a[f"data/{sid}/mesh_edge"][...]
                if kw is not None:
                    g.create_dataset("nodal_data", data=nodal,
                                     chunks=(8, 10, 1300), **kw)
                    continue
                d = g.create_dataset("nodal_data", shape=nodal.shape,
                                     dtype=nodal.dtype, chunks=(8, 10, 1300),
                                     compression=32015,
                                     allow_unknown_filter=True)
                for t in range(0, nodal.shape[1], 10):
                    d.id.write_direct_chunk((0, t, 0),
                                            zstd(nodal[:, t:t + 10].tobytes()))
PY
printf "%-8s %10s %8s %8s %8s\n" file MB "-j 1 s" "-j 2 s" speedup
for name in plain lzf blosc zstd; do
    f=$out/filters-$name.h5
    cat "$f" >/dev/null
    declare -a w1=() w2=()
    for _ in $(seq "$repeat"); do
        measure "$out/time.txt" "$exe" -q -j 1 --json "$out/f1.json" "$f"
        w1+=("$(cut -d' ' -f1 "$out/time.txt")")
        measure "$out/time.txt" "$exe" -q -j 2 --json "$out/f2.json" "$f"
        w2+=("$(cut -d' ' -f1 "$out/time.txt")")
    done
    cmp -s "$out/f1.json" "$out/f2.json" || { echo "$name: -j 1 and -j 2 differ" >&2; exit 1; }
    m1=$(printf "%s\n" "${w1[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    m2=$(printf "%s\n" "${w2[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    LC_ALL=C awk -v n="$name" -v s="$(stat -c %s "$f")" -v a="$m1" -v b="$m2" \
        'BEGIN { printf "%-8s %10.0f %8.3f %8.3f %7.2fx\n", n, s / 1e6, a, b, a / b }'
done
