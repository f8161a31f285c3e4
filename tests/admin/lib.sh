# Shared helpers of the twofactor-admin tests: a private work directory, a
# low-cost test configuration, running the built binary, and a pass/fail
# count with the closing "N passed, M failed" line. Sourced, not run.
# shellcheck shell=bash

set -euo pipefail

BIN=${1:?usage: $0 PATH-TO-twofactor-admin [VERSION]}
if [ "$(id -u)" -ne 0 ]; then
    echo "skip: these tests need root (chown, setpriv)"
    exit 77
fi
command -v oathtool >/dev/null || { echo "oathtool is required (apt-get install oathtool)"; exit 1; }
VERSION=${2:-}
# shellcheck source=../tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"

W=$(mktemp -d /tmp/twofactor-admin-test.XXXXXX)
chmod 0711 "$W" # so the non-root tests can reach their own files below it
cleanup() { rm -rf "$W"; }
trap cleanup EXIT

STATE=$W/state
mkdir -m 0700 "$STATE"
CONF=$W/twofactor.conf
# scrypt at 2^10: the tests issue and verify many codes; the format and the
# code paths are the same as at the default cost.
printf 'scrypt_log2_n = 10\nmax_failures = 5\n' >"$CONF"
ADMIN=("$BIN" --config "$CONF" --state-dir "$STATE")

# check NAME COMMAND...: passes if COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name" "$(tail -c 2000 "$W/err" 2>/dev/null || true)"; fi
}

# run_in INPUT ARGS...: runs the tool on ARGS with INPUT (a string, "" for
# none) on stdin; sets RC, and leaves stdout and stderr in $W/out, $W/err.
run_in() {
    local input=$1
    shift
    set +e
    if [ -z "$input" ]; then
        "${ADMIN[@]}" "$@" </dev/null >"$W/out" 2>"$W/err"
    else
        printf '%s\n' "$input" | "${ADMIN[@]}" "$@" >"$W/out" 2>"$W/err"
    fi
    RC=$?
    set -e
}
run() { run_in "" "$@"; }

# A failure must be one line on stderr, "twofactor-admin: ...", with no
# control characters (a hostile user name must not reach the terminal).
# enroll's confirmation prompt, which it writes before reading, is not part
# of the error.
one_error_line() {
    grep -v '^Code from the app to confirm: $' "$W/err" >"$W/err.lines" || true
    [ "$(wc -l <"$W/err.lines")" -eq 1 ] && grep -q '^twofactor-admin: ' "$W/err.lines" \
        && ! LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$W/err.lines")
}

# expect NAME WANT_RC [INPUT] -- ARGS...
expect() {
    local name=$1 want=$2 input=""
    shift 2
    if [ "$1" != "--" ]; then
        input=$1
        shift
    fi
    shift # --
    run_in "$input" "$@"
    if [ "$RC" != "$want" ]; then
        not_ok "$name (exit $RC, want $want)" "$(tail -c 2000 "$W/err")"
    elif [ "$want" != 0 ] && ! one_error_line; then
        not_ok "$name (error is not one clean 'twofactor-admin:' line)" "$(cat -A "$W/err" | head -5)"
    else
        ok "$name"
    fi
}

# A fingerprint of the state directory: names, modes, owners, sizes, times
# and contents, so "nothing changed" can be checked exactly.
state_sum() {
    (
        cd "$1"
        find . -printf '%p %M %U %s %T@\n' | LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    ) | sha256sum
}

# expect_unchanged NAME WANT_RC [INPUT] -- ARGS...: as expect, and the state
# directory is exactly as before.
expect_unchanged() {
    local before
    before=$(state_sum "$STATE")
    expect "$@"
    if [ "$(state_sum "$STATE")" != "$before" ]; then
        not_ok "$1: state directory changed"
    fi
}

json() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$W/out')); $1"; }

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
