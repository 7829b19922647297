#!/usr/bin/env bash
# The Python package as docs/python.md installs it: a virtualenv with the
# system's site packages (numpy, h5py, meson-python from Debian), then
# pip install --no-build-isolation of a copy of the sources; nothing is
# fetched.  Prints TAP.
# Usage: test_pip_install.sh SOURCEDIR PYTHON MESHSTATS
set -uo pipefail
src=$1
python=$2
meshstats=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/meshstats-pip-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
suite=pip_install
# shellcheck source=tap.sh
source "$(dirname "$0")/tap.sh"
echo "1..4"
# A copy of what a clone holds (the tracked and new files, no build folder).
copy_sources() {
    mkdir "$tmp/clone" &&
        if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
            git -C "$src" ls-files -co --exclude-standard -z |
                (cd "$src" && xargs -0 tar -cf - --) | tar -xf - -C "$tmp/clone"
        else
            tar -C "$src" --exclude='./build*' -cf - . | tar -xf - -C "$tmp/clone"
        fi
}
venv="$tmp/venv"
installed() {
    copy_sources &&
        "$python" -m venv --system-site-packages "$venv" &&
        "$venv/bin/pip" install --no-build-isolation "$tmp/clone"
}
check pip_installs_the_package_into_the_virtualenv installed
"$meshstats" generate "$tmp/x.h5" -q --samples 3 --timesteps 6 --nodes 200
imports_from_the_virtualenv() {
    (cd "$tmp" && "$venv/bin/python" -c "
import meshstats
assert meshstats.__file__.startswith('$venv/'), meshstats.__file__
print(meshstats.compute('x.h5').node.mean)")
}
check python_c_import_meshstats_compute_prints_the_means \
    imports_from_the_virtualenv
same_json() {
    local want
    want=$(cd "$tmp" && "$meshstats" --json - -q --edge-var 8 -s 3 x.h5) &&
        [ "$want" = "$(cd "$tmp" && "$venv/bin/python" -c "
import meshstats, sys
sys.stdout.write(meshstats.compute('x.h5', edge_var=8, sample_timesteps=3).to_json())")" ]
}
check the_installed_package_gives_the_command_s_json same_json
only_the_package() {
    # The wheel holds the package alone: no command, library or header.
    [ -z "$(find "$venv/bin" -name 'meshstats*')" ] &&
        [ -z "$(find "$venv" -name 'libmeshstats*' -o -name meshstats.h)" ] &&
        [ "$("$venv/bin/pip" show meshstats | sed -n 's/^Version: //p')" = \
            "$("$meshstats" --version | cut -d' ' -f2)" ] &&
        # It holds a compiled extension: tagged for this python, not pure.
        grep -qx 'Root-Is-Purelib: false' "$venv"/lib/python3*/site-packages/meshstats-*.dist-info/WHEEL &&
        grep -qx "Tag: cp3$("$python" -c 'import sys; print(sys.version_info[1])')-.*" \
            "$venv"/lib/python3*/site-packages/meshstats-*.dist-info/WHEEL
}
check the_wheel_holds_only_the_package_tagged_for_this_python only_the_package
exit $((failed > 0))
