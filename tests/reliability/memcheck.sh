#!/usr/bin/env bash
# Valgrind memcheck over the real binaries: what the ASan + UBSan build
# cannot see, chiefly reads of uninitialised memory. Runs the core's quick
# unit tests (arguments), then twofactor-admin (enroll, issue, list, verify,
# revoke, unlock) and whole logins through the built pam_twofactor.so under
# pam_wrapper (a backup code accepted, then refused, a wrong code, a TOTP
# code), each under memcheck with --error-exitcode: any memcheck error, or
# a result other than the one expected, fails the test.
#
# Usage: memcheck.sh UNIT_TEST...   with TWOFACTOR_ADMIN, TWOFACTOR_PAM_MODULE,
# TWOFACTOR_LOGIN_DRIVER and TWOFACTOR_PAM_WRAPPER set (CMake does).
# Exit: 0 pass, 1 fail, 77 skipped (no valgrind, or not root: the admin
# tool refuses other users).
set -euo pipefail

ADMIN=${TWOFACTOR_ADMIN:?}
MODULE=${TWOFACTOR_PAM_MODULE:?}
DRIVER=${TWOFACTOR_LOGIN_DRIVER:?}
PAM_WRAPPER_LIB=${TWOFACTOR_PAM_WRAPPER:?}
command -v valgrind >/dev/null || { echo "skip: valgrind is not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "skip: twofactor-admin needs root"; exit 77; }
command -v oathtool >/dev/null || { echo "FAIL: oathtool is missing"; exit 1; }

W=$(mktemp -d /tmp/twofactor-memcheck.XXXXXX)
trap 'rm -rf "$W"' EXIT
MEMCHECK_ERROR=99
vg() { valgrind -q --error-exitcode=$MEMCHECK_ERROR --track-origins=yes --log-file="$W/vg.%p.log" "$@"; }

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
rm_logs() { rm -f "$W"/vg.*.log; }
vg_logs() { cat "$W"/vg.*.log 2>/dev/null | head -40; } # what memcheck reported, if anything
# check NAME WANT_RC COMMAND...: the command under memcheck exits WANT_RC.
check() {
    local name=$1 want=$2 rc=0
    shift 2
    rm_logs
    "$@" >"$W/out" 2>"$W/err" || rc=$?
    if [ "$rc" = "$want" ]; then ok "$name"; else
        echo "#   exit $rc, expected $want$([ "$rc" = $MEMCHECK_ERROR ] && echo ' (memcheck errors)')"
        sed 's/^/#   stderr: /' "$W/err" | head -5
        not_ok "$name" "$(vg_logs)"
    fi
}

for unit in "$@"; do
    check "$(basename "$unit") under memcheck" 0 vg "$unit"
done

USER_NAME=daemon # an account every Debian system has
mkdir -m 0700 "$W/state"
printf 'state_dir = %s\nscrypt_log2_n = 10\n' "$W/state" >"$W/twofactor.conf"
chmod 0600 "$W/twofactor.conf"
admin() { vg "$ADMIN" --config "$W/twofactor.conf" "$@"; }
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$1)" "$2"; }

check "admin enroll" 0 admin enroll "$USER_NAME" --no-confirm --json
cp "$W/out" "$W/enroll.json"
check "admin issue" 0 admin issue "$USER_NAME" --json
cp "$W/out" "$W/issue.json"
SECRET=$(json '["secret"]' "$W/enroll.json")
CODE1=$(json '["codes"][0]' "$W/issue.json")
CODE2=$(json '["codes"][1]' "$W/issue.json")
check "admin list" 0 admin list
check "admin list USER --json" 0 admin list "$USER_NAME" --json
check "admin verify: a backup code" 0 admin verify "$USER_NAME" <<<"$CODE1"
check "admin verify: the same code again" 1 admin verify "$USER_NAME" <<<"$CODE1"

mkdir "$W/services"
echo "auth required pam_deny.so" >"$W/services/other"
echo "auth required $MODULE config=$W/twofactor.conf" >"$W/services/memcheck"
# One transaction per line: "result RC" per answer.
rm_logs
rc=0
printf '%s\n' "$CODE2" "$CODE2" 000000 "$(oathtool --totp -b "$SECRET")" |
    env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/services" \
        valgrind -q --error-exitcode=$MEMCHECK_ERROR --track-origins=yes --log-file="$W/vg.%p.log" \
        "$DRIVER" memcheck "$USER_NAME" >"$W/logins" 2>"$W/err" || rc=$?
results=$(sed -n 's/^result //p' "$W/logins" | tr '\n' ' ')
# PAM_SUCCESS 0, PAM_AUTH_ERR 7.
if [ "$rc" = 0 ] && [ "$results" = "0 7 7 0 " ]; then
    ok "logins through the module: backup code, reuse, wrong code, TOTP code"
else
    echo "#   exit $rc, results '$results', expected '0 7 7 0 '"
    not_ok "logins through the module: backup code, reuse, wrong code, TOTP code" "$(vg_logs)"
fi

check "admin revoke --codes" 0 admin revoke "$USER_NAME" --codes
check "admin unlock" 0 admin unlock "$USER_NAME"

summary
