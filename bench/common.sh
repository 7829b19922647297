# bench/common.sh: what every bench script needs (source it from the
# project root): GNU time for peak RSS, and the release build, configured
# once and brought up to date; $exe is its meshstats.
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
[ -f build-release/build.ninja ] ||
    meson setup build-release --buildtype=release -Dtests=disabled >/dev/null
ninja -C build-release >/dev/null
exe=build-release/src/meshstats
