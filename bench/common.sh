# bench/common.sh: what every bench script needs (source it from the
# project root): GNU time for peak RSS, and the release build, configured
# once and brought up to date; $exe is its meshstats.
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
[ -f build-release/build.ninja ] ||
    meson setup build-release --buildtype=release -Dtests=disabled >/dev/null
ninja -C build-release >/dev/null
exe=build-release/src/meshstats

# measure FILE CMD...: run CMD (its stdout to /dev/null) under GNU time and
# write "wall_s peak_rss_kib" to FILE.  The wall time is read from bash's
# clock to the microsecond: GNU time's own %e is rounded to 10 ms, a fifth
# of a `cat` of a cached file here.  Both sides of a ratio pay the same
# fork of GNU time.
measure() {
    local file=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$file.rss" "$@" >/dev/null
    t1=$EPOCHREALTIME
    LC_ALL=C awk -v a="$t0" -v b="$t1" -v rss="$(cat "$file.rss")" \
        'BEGIN { printf "%.4f %s\n", b - a, rss }' >"$file"
}
