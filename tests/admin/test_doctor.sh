#!/usr/bin/env bash
# twofactor-admin doctor on real files: each run is in a private mount
# namespace (unshare -m) where copies of /etc/pam.d and of
# /etc/ssh/sshd_config are bind-mounted over the host's, which stay
# untouched. The good setup (conf/pam.d/sshd-example's stack, the settings
# of conf/sshd_config-example) gives no fail line and exit status 0; each
# broken setup gives its own fail line and exit status 1. doctor runs the
# real `sshd -T` on the copy.
# Usage: test_doctor.sh PATH-TO-twofactor-admin PATH-TO-pam_twofactor.so
set -euo pipefail

BIN=${1:?usage: $0 twofactor-admin pam_twofactor.so}
MODULE=${2:?usage: $0 twofactor-admin pam_twofactor.so}
# shellcheck source=../tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"

skip() {
    echo "skip: $1"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (mount namespaces)"
unshare -m true 2>/dev/null || skip "no mount namespaces here"
[ -d /etc/pam.d ] || skip "no /etc/pam.d"

W=$(mktemp -d /tmp/twofactor-doctor-test.XXXXXX)
trap 'rm -rf "$W"' EXIT

# sshd is checked when it is installed; without it, doctor says so and the
# sshd cases are left out.
SSHD=no
if [ -x /usr/sbin/sshd ] && [ -f /etc/ssh/sshd_config ] && command -v ssh-keygen >/dev/null; then
    SSHD=yes
    ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey"
fi

mkdir -m 0700 "$W/state"
printf 'state_dir = %s\n' "$W/state" >"$W/twofactor.conf"

# The good setup: Debian's common-auth, the module after it.
good() { # good DIR
    local d=$1
    mkdir -p "$d/pam.d"
    cat >"$d/pam.d/common-auth" <<'EOF'
auth	[success=1 default=ignore]	pam_unix.so nullok
auth	requisite			pam_deny.so
auth	required			pam_permit.so
EOF
    printf 'account required pam_unix.so\n' >"$d/pam.d/common-account"
    for service in sshd login su sudo; do
        printf '@include common-auth\nauth required %s\n@include common-account\n' "$MODULE" >"$d/pam.d/$service"
    done
    cat >"$d/sshd_config" <<EOF
HostKey $W/hostkey
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey,keyboard-interactive
EOF
    cp "$W/twofactor.conf" "$d/twofactor.conf"
}

# doctor_in DIR: runs doctor over DIR's copies; sets RC, output in DIR/out.
doctor_in() {
    local d=$1
    shift
    RC=0
    unshare -m sh -c 'set -e
        mount --make-rprivate /
        mount --bind "$1/pam.d" /etc/pam.d
        [ "$2" = no ] || mount --bind "$1/sshd_config" /etc/ssh/sshd_config
        shift 2
        exec "$@"' doctor "$d" "$SSHD" "$BIN" --config "$d/twofactor.conf" doctor "$@" >"$d/out" 2>"$d/err" || RC=$?
}

# case NAME EXPECTED-FAIL-LINE EDIT: a copy of the good setup changed by
# the shell command EDIT (run in that copy's directory), which must give
# EXPECTED-FAIL-LINE (a grep -E pattern) and exit status 1.
N=0
case_() {
    local name=$1 expected=$2 edit=$3
    N=$((N + 1))
    local d="$W/case$N"
    good "$d"
    (cd "$d" && eval "$edit")
    doctor_in "$d"
    if [ "$RC" -eq 1 ] && grep -Eq -- "^fail +$expected" "$d/out"; then
        ok "$name"
    else
        not_ok "$name" "exit status $RC, expected 1 and: fail $expected
$(cat "$d/out" "$d/err")"
    fi
}

good "$W/good"
doctor_in "$W/good"
if [ "$RC" -eq 0 ] && ! grep -q '^fail' "$W/good/out" \
    && grep -Eq '^ok +pam/sshd +sshd:2: pam_twofactor.so, control required, after pam_unix.so' "$W/good/out"; then
    ok "good setup: no fail line"
else
    not_ok "good setup: no fail line" "exit status $RC
$(cat "$W/good/out" "$W/good/err")"
fi
if [ "$SSHD" = yes ]; then
    check_sshd_ok() { grep -Eq '^ok +sshd +UsePAM yes, KbdInteractiveAuthentication yes' "$W/good/out"; }
    if check_sshd_ok; then ok "good setup: sshd -T read"; else not_ok "good setup: sshd -T read" "$(cat "$W/good/out")"; fi
fi
# The host's files were not touched.
if ! grep -q "$MODULE" /etc/pam.d/sshd 2>/dev/null; then ok "host's /etc/pam.d untouched"; else not_ok "host's /etc/pam.d untouched"; fi

case_ "module missing from the sshd stack" 'pam/sshd +pam_twofactor.so is not in the auth stack' \
    "printf '@include common-auth\n' >pam.d/sshd"
case_ "sufficient pam_unix before the module" \
    'pam/sshd +common-auth:1: "auth sufficient pam_unix.so" can end the stack with success' \
    "printf 'auth sufficient pam_unix.so\nauth requisite pam_deny.so\n' >pam.d/common-auth"
case_ "success=done before the module" 'pam/login +common-auth:1: .* can end the stack with success' \
    "sed -i 's/success=1 default=ignore/success=done default=die/' pam.d/common-auth"
case_ "module file missing" 'pam/su +su:2: /nonexistent/pam_twofactor.so does not exist: every login fails' \
    "sed -i 's|$MODULE|/nonexistent/pam_twofactor.so|' pam.d/su"
case_ "-auth with the module file missing" 'pam/sudo +sudo:2: .* makes libpam skip the line' \
    "sed -i 's|^auth required $MODULE|-auth required /nonexistent/pam_twofactor.so|' pam.d/sudo"
case_ "optional module" 'pam/sshd +sshd:2: with control "optional" a wrong code does not stop the login' \
    "sed -i 's/^auth required/auth optional/' pam.d/sshd"
case_ "broken configuration" 'config +.*twofactor.conf:2: window' "printf 'window = lots\n' >>twofactor.conf"
case_ "state directory open to others" 'store +.*mode 0755' \
    "mkdir -m 0755 state && printf 'state_dir = %s\n' \"\$PWD/state\" >twofactor.conf"
# The key that seals secrets (docs/secrets.md): an unsafe or malformed key
# file fails; secrets in clear while a key exists is a warning, gone once
# `key rotate` sealed them. with_key makes keys/k with `key init`.
with_key='mkdir -m 0700 keys && printf "secret_key_file = %s\n" "$PWD/keys/k" >>twofactor.conf &&
    "$BIN" --config twofactor.conf key init 2>/dev/null'
case_ "key file mode 0644" 'secrets +.*/keys/k: unsafe: readable or writable by group or others' \
    "$with_key && chmod 0644 keys/k"
case_ "key file malformed" 'secrets +.*/keys/k: line 2: key id must be 8 lower-case hex digits' \
    "$with_key && sed -i 's/^key [0-9a-f]*/key nothex/' keys/k"
case_ "configured key file missing" 'secrets +.*/keys/k: secret key file does not exist' "$with_key && rm keys/k"
# expect_line NAME STATUS PATTERN: the last doctor_in gave exit STATUS and a
# line matching PATTERN (grep -E).
expect_line() {
    if [ "$RC" -eq "$2" ] && grep -Eq -- "$3" "$d/out"; then ok "$1"; else not_ok "$1" "exit status $RC, expected $2 and: $3
$(cat "$d/out" "$d/err")"; fi
}
d="$W/clear"
good "$d"
mkdir -m 0700 "$d/state"
printf 'state_dir = %s\n' "$d/state" >"$d/twofactor.conf"
printf 'JBSWY3DPEHPK3PXPJBSWY3DP\n' | "$BIN" --config "$d/twofactor.conf" enroll daemon --secret-stdin \
    --secret-format base32 --no-confirm --qr none >/dev/null 2>&1
doctor_in "$d"
expect_line "no key file, file store: secrets in clear is fine" 0 '^ok +secrets +no secret key file .*stored in clear'
(cd "$d" && eval "$with_key")
doctor_in "$d"
expect_line "a key, a secret in clear: warning" 0 '^warn +secrets +1 secret\(s\) stored in clear although .*/keys/k exists'
"$BIN" --config "$d/twofactor.conf" key rotate 2>/dev/null
doctor_in "$d"
expect_line "after key rotate: all sealed" 0 '^ok +secrets +1 secret\(s\), all sealed with the keys of '
# PostgreSQL without a key file: enrolling is refused there (no server
# needed: the warning comes before the store is opened).
d="$W/pgnokey"
good "$d"
printf 'store = postgresql\npg_conninfo = host=127.0.0.1 port=1 dbname=twofactor sslmode=disable connect_timeout=2\n' \
    >>"$d/twofactor.conf"
doctor_in "$d"
expect_line "PostgreSQL without a key file: warning" 1 '^warn +secrets +no secret key file .*: enrolling a secret to PostgreSQL is refused'

if [ "$SSHD" = yes ]; then
    case_ "sshd UsePAM no" 'sshd +UsePAM no' "sed -i 's/^UsePAM yes/UsePAM no/' sshd_config"
    case_ "sshd keyboard-interactive off" 'sshd +KbdInteractiveAuthentication no' \
        "sed -i -e 's/^KbdInteractiveAuthentication yes/KbdInteractiveAuthentication no/' -e '/^AuthenticationMethods/d' sshd_config"
    case_ "sshd password method on" 'sshd +PasswordAuthentication yes' \
        "sed -i -e 's/^PasswordAuthentication no/PasswordAuthentication yes/' -e '/^AuthenticationMethods/d' sshd_config"
    case_ "sshd code alone" 'sshd +AuthenticationMethods keyboard-interactive with a PAM stack without a password' \
        "sed -i 's/^AuthenticationMethods .*/AuthenticationMethods keyboard-interactive/' sshd_config &&
         printf 'auth required %s\n' '$MODULE' >pam.d/sshd"
    case_ "remember_by key without ExposeAuthInfo" 'sshd +ExposeAuthInfo no: remember_by needs the key' \
        "sed -i '/^ExposeAuthInfo/d' sshd_config && printf 'remember_days = 7\n' >>twofactor.conf"
    case_ "sshd -T refuses the file" 'sshd +"sshd -T" failed' "printf 'NoSuchKeyword yes\n' >>sshd_config"
fi

# --json: one document, the same verdicts.
d="$W/json"
good "$d"
printf '@include common-auth\n' >"$d/pam.d/sshd"
doctor_in "$d" --json
if [ "$RC" -eq 1 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
fails = [c for c in d["checks"] if c["level"] == "fail"]
assert d["version"] == 1 and d["failures"] == len(fails) >= 1, d
assert any(c["check"] == "pam/sshd" and "not in the auth stack" in c["seen"] and c["fix"] for c in fails), fails
' "$d/out"; then
    ok "--json"
else
    not_ok "--json" "exit status $RC
$(cat "$d/out" "$d/err")"
fi

summary
