# tests/tap.sh: TAP for the shell test scripts (source it, set suite).
#   check NAME COMMAND...   runs COMMAND; prints "ok N - SUITE::NAME", or
#                           "not ok" with the command's last output lines
#   exit $((failed > 0))    at the end
n=0
failed=0
check() {
    n=$((n + 1))
    local name=$1
    shift
    if out=$("$@" 2>&1); then
        echo "ok $n - $suite::$name"
    else
        failed=$((failed + 1))
        echo "not ok $n - $suite::$name"
        printf '%s\n' "$out" | tail -8 | sed 's/^/# /'
    fi
}
