#!/usr/bin/env bash
# End to end through the console: the real login(1) in a pty driven by
# expect, with pam_unix + the built pam_twofactor.so. login always reads
# /etc/pam.d/login, so the test stack is bind-mounted over it inside a
# private mount namespace: the host's file is never modified.
# Usage: console_test.sh MODULE ADMIN_TOOL
set -euo pipefail
module=$1
admin=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "skipping: needs root"; exit 77; fi
if ! unshare -m true 2>/dev/null; then echo "skipping: no mount namespaces here"; exit 77; fi

user="tfcon$$"
password="Pw-$RANDOM-$RANDOM"
work=$(mktemp -d "/tmp/tf-console-$$.XXXXXX")
before=$(sha256sum /etc/pam.d/login)
cleanup() {
  set +e
  userdel -r "$user" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

chmod 0755 "$work"
mkdir -m 0700 "$work/state"
printf 'state_dir = %s\nscrypt_log2_n = 10\nmax_failures = 2\n' "$work/state" > "$work/twofactor.conf"
useradd -m -s /bin/sh "$user"
echo "$user:$password" | chpasswd
"$admin" --config "$work/twofactor.conf" issue "$user" --json >"$work/issue.json" 2>/dev/null
mapfile -t codes < <(json_field "$work/issue.json" codes)

cat > "$work/login.pam" <<PAM
auth required pam_unix.so nodelay
auth required $module config=$work/twofactor.conf
account required pam_unix.so
session required pam_permit.so
password required pam_deny.so
PAM

console_login() { # console_login ANSWER...
  local rc=0
  unshare -m sh -c 'mount --bind "$1" /etc/pam.d/login && shift && exec "$@"' sh "$work/login.pam" \
    "$here/answer.exp" 20 "$@" -- login "$user" >"$work/out" 2>&1 || rc=$?
  echo "$rc"
}

check "console: password + backup code" 0 "$(console_login "$password" "${codes[0]}")"
check_contains "console: remaining-codes message" "9 of 10 backup codes remain" "$work/out"
check "console: wrong code" 1 "$(console_login "$password" "WRONG123")"
check "console: same backup code again" 1 "$(console_login "$password" "${codes[0]}")"
check "console: second wrong code starts a lockout" 1 "$(console_login "$password" "WRONG456")"
check "console: locked out, right code refused" 1 "$(console_login "$password" "${codes[1]}")"
check_contains "console: lockout message" "Too many failed verification codes" "$work/out"
"$admin" --config "$work/twofactor.conf" unlock "$user" >/dev/null
check "console: after unlock, right code accepted" 0 "$(console_login "$password" "${codes[1]}")"
check "host /etc/pam.d/login untouched" "$before" "$(sha256sum /etc/pam.d/login)"
summary
