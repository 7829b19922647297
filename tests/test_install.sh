#!/usr/bin/env bash
# meson install into a scratch DESTDIR, then use what was installed as a
# user would.  Prints TAP.
# Usage: test_install.sh BUILDDIR SOURCEDIR [PYTHON]  (PYTHON: the Python
# package was built for it, so it must be installed too)
set -uo pipefail
build=$1
src=$2
python=${3:-}
dest=$(mktemp -d "${TMPDIR:-/tmp}/meshstats-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT
suite=install
# shellcheck source=tap.sh
source "$(dirname "$0")/tap.sh"
echo "1..$([ -n "$python" ] && echo 10 || echo 9)"
prefix=/opt/meshstats-test
installed() {
    DESTDIR="$dest" meson install -C "$build" --no-rebuild --quiet \
        --destdir "$dest" >/dev/null 2>&1 || true
    root="$dest$prefix"
    test -x "$root/bin/meshstats" &&
        test -f "$root/include/meshstats.h" &&
        test -f "$root/include/meshstats/settings.h" &&
        test -f "$root/include/meshstats/generate.h" &&
        test -f "$root/share/man/man1/meshstats.1" &&
        test -f "$root/share/bash-completion/completions/meshstats" &&
        find "$root" -name libmeshstats.so.0.2.0 | grep -q . &&
        find "$root" -name libmeshstats.so.0 -type l | grep -q . &&
        find "$root" -name meshstats.pc | grep -q .
}
# Configure a copy of the build for the test prefix, so the real build's
# prefix is left alone.
tmpbuild="$dest/build"
meson setup "$tmpbuild" "$src" --prefix "$prefix" -Dtests=disabled \
    -Dbench=false -Dpython="$([ -n "$python" ] && echo enabled ||
    echo disabled)" >/dev/null 2>&1 && ninja -C "$tmpbuild" >/dev/null 2>&1
build=$tmpbuild
root="$dest$prefix"
check files_are_installed_under_prefix_and_destdir installed
lib=$(find "$root" -name libmeshstats.so.0.2.0 | head -1)
libdir=$(dirname "$lib")
check shared_library_has_soname_libmeshstats_so_0 \
    sh -c "objdump -p '$lib' | grep -q 'SONAME *libmeshstats.so.0'"
exports_only_the_api_under_its_version_node() {
    local dyn
    dyn=$(objdump -T "$lib" | grep ' DF .text')
    grep -q 'MESHSTATS_0 *ms_stats_compute$' <<<"$dyn" || return 1
    ! grep -vE 'MESHSTATS_0 +ms_[a-z]' <<<"$dyn" || return 1
}
check exports_only_the_api_under_its_version_node \
    exports_only_the_api_under_its_version_node
cat >"$dest/use.c" <<'C'
#include <meshstats.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    struct ms_generate_options g;
    ms_generate_options_init(&g);
    g.samples = 2; g.timesteps = 3; g.nodes = 20;
    struct ms_error err;
    if (ms_generate(argv[1], &g, &err) != 0) { puts(err.message); return 1; }
    struct ms_options o;
    ms_options_init(&o);
    struct ms_stats *s;
    if (ms_stats_compute(argv[1], &o, &s, &err) != 0) { puts(err.message); return 1; }
    printf("%s %zu\n", ms_version(), s->samples_used);
    ms_stats_destroy(s);
    return argc == 2 ? 0 : 1;
}
C
check c_program_builds_against_the_installed_pkg_config_file \
    sh -c "cc \$(PKG_CONFIG_SYSROOT_DIR='$dest' PKG_CONFIG_PATH='$libdir/pkgconfig' pkg-config --cflags meshstats) '$dest/use.c' -o '$dest/use' \$(PKG_CONFIG_SYSROOT_DIR='$dest' PKG_CONFIG_PATH='$libdir/pkgconfig' pkg-config --libs meshstats) && LD_LIBRARY_PATH='$libdir' '$dest/use' '$dest/p.h5' | grep -q '^0.2.0 2$'"
check installed_binary_runs \
    sh -c "LD_LIBRARY_PATH='$libdir' '$root/bin/meshstats' --version | grep -q 'meshstats 0.2.0 (HDF5' && LD_LIBRARY_PATH='$libdir' '$root/bin/meshstats' demo -q"
man_page="$root/share/man/man1/meshstats.1"
check man_page_renders_without_warnings \
    sh -c "out=\$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$man_page' 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
every_option_is_documented() {
    local text missing=""
    text=$(sed 's/\\-/-/g' "$man_page")
    for opt in $(LD_LIBRARY_PATH="$libdir" "$root/bin/meshstats" --help |
                 grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        grep -q -- "$opt" <<<"$text" || missing="$missing $opt"
    done
    [ -z "$missing" ] || { echo "not in the man page:$missing"; false; }
}
check every_help_option_is_in_the_man_page every_option_is_documented
completion_works() {
    bash -c "
        source '$root/share/bash-completion/completions/meshstats'
        COMP_WORDS=(meshstats --spl); COMP_CWORD=1; _meshstats
        [ \"\${COMPREPLY[*]}\" = --split ] || exit 1
        COMP_WORDS=(meshstats --progress a); COMP_CWORD=2; _meshstats
        [ \"\${COMPREPLY[*]}\" = 'auto always' ] || exit 1"
}
check bash_completion_completes_options_and_values completion_works
check config_prints_every_key_with_its_origin \
    sh -c "LD_LIBRARY_PATH='$libdir' '$root/bin/meshstats' config -s 50 | grep -q '^command line *max_timesteps_for_stats *50$'"
# The package goes to PREFIX/lib/python3.X/site-packages (for /usr/local,
# Debian's python3 reads /usr/local/lib/python3.X/dist-packages).
python_package_works() {
    local init site
    init=$(find "$root" -path '*-packages/meshstats/__init__.py' | head -1)
    [ -n "$init" ] || { echo "no meshstats/__init__.py under $root"; return 1; }
    site=$(dirname "$(dirname "$init")")
    case "$site" in "$root"/lib/python3.*/site-packages) ;;
        *) echo "installed in $site"; return 1 ;; esac
    ls "$site"/meshstats/_meshstats.*.so >/dev/null || return 1
    # The extension exports its init function and nothing of the library.
    [ "$(nm -D --defined-only "$site"/meshstats/_meshstats.*.so |
         awk '{print $3}')" = PyInit__meshstats ] || return 1
    LD_LIBRARY_PATH="$libdir" "$root/bin/meshstats" --json "$dest/cli.json" \
        -q "$dest/p.h5" || return 1
    (cd "$dest" && PYTHONPATH="$site" "$python" -c "
import meshstats, sys
assert meshstats.__file__.startswith('$site'), meshstats.__file__
got = meshstats.compute('$dest/p.h5').to_json()
sys.exit(got != open('$dest/cli.json').read())")
}
if [ -n "$python" ]; then
    check python_package_is_installed_and_gives_the_command_s_json \
        python_package_works
fi
exit $((failed > 0))
