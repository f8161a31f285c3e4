#!/usr/bin/env bash
# Secrets sealed at rest in the file store (docs/secrets.md), logging in
# through the built pam_twofactor.so under pam_wrapper (tests/pam's
# pam_login_driver) with oathtool's codes: after `key init` and a login a
# copy of the state directory holds neither the base32 nor the hex form of
# the secret; the wrong key and an altered token are denied with one log
# line; an unsafe key file is refused like the config; a rotation with a
# login between every step. Needs root; skips with 77 otherwise.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    echo "skip: needs root"
    exit 77
fi
ADMIN_BIN=${TWOFACTOR_ADMIN:?}
MODULE=${TWOFACTOR_PAM_MODULE:?}
DRIVER=${TWOFACTOR_LOGIN_DRIVER:?}
PRELOAD=${TWOFACTOR_PAM_PRELOAD:?}
command -v oathtool >/dev/null || { echo "oathtool is required (scripts/bootstrap)"; exit 1; }
. "$(dirname "$0")/../tap.sh"

W=$(mktemp -d /tmp/twofactor-secrets-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -m 0700 "$W/state" "$W/services" "$W/keys"
KEY=$W/keys/twofactor.key
# secret_key_file is set after the enrolment in clear (the default path,
# /etc/security/twofactor.key, missing on a test host, means no key).
cat >"$W/tf.conf" <<CONF
state_dir = $W/state
scrypt_log2_n = 10
max_failures = 100
window = 10
CONF
chmod 0600 "$W/tf.conf"
echo "auth required $MODULE config=$W/tf.conf" >"$W/services/tf"
echo "auth required pam_deny.so" >"$W/services/other"
admin() { "$ADMIN_BIN" --config "$W/tf.conf" "$@"; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want '$2', got '$3': $(cat "$W/driver.err")"; fi; }
# logged TEXT: the module's last log line says TEXT (its fields are %-encoded).
logged() { grep -q -F "${1// /%20}" "$W/driver.err"; }
SUCCESS=0 UNAVAIL=9 SERVICE_ERR=3

HEX=3132333435363738393031323334353637383930
B32=$(printf '%s' "$HEX" | xxd -r -p | base32 | tr -d '=')
# login: the PAM return code of a login of daemon with the next TOTP step's
# code (each step once: replays are refused), from 9 steps back (window 10).
# The count is kept in a file: login runs in a $(...) subshell.
echo 0 >"$W/step"
login() {
    local step code
    step=$(($(cat "$W/step") + 1))
    echo "$step" >"$W/step"
    code=$(oathtool --totp -N "@$(($(date +%s) - 30 * 10 + 30 * step))" "$HEX")
    printf '%s\n' "$code" | env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/services" \
        "$DRIVER" tf daemon 2>"$W/driver.err" | sed -n 's/^result //p'
}
# The state directory, copied as a backup would, holds no form of the secret.
no_secret_in_copy() {
    rm -rf "$W/copy"
    cp -a "$W/state" "$W/copy"
    if grep -r -q -F "$B32" "$W/copy" || grep -r -q -i -F "$HEX" "$W/copy"; then return 1; fi
}

# ---- in clear first, as before key init ----
printf '%s\n' "$B32" | admin --state-dir "$W/state" enroll daemon --secret-stdin --secret-format base32 \
    --no-confirm --qr none >/dev/null 2>"$W/err" || { not_ok "enroll" "$(cat "$W/err")"; }
expect_eq "in clear, no key file: a login works" $SUCCESS "$(login)"
head -1 "$W/state/daemon" | grep -qx "twofactor-state 2" && ok "... and the state stays format 2" \
    || not_ok "state format 2 without a key" "$(head -1 "$W/state/daemon")"
echo "secret_key_file = $KEY" >>"$W/tf.conf"
expect_eq "secret_key_file set and missing: denied" $SERVICE_ERR "$(login)"
logged "secret key file does not exist" && ok "... one log line says the key file is missing" \
    || not_ok "log line for a missing key file" "$(cat "$W/driver.err")"
no_secret_in_copy && not_ok "the copy holds the secret before key init (the check can fail)" \
    || ok "the copy holds the secret before key init (the check can fail)"

# ---- key init, then a login seals ----
admin key init 2>/dev/null
expect_eq "after key init: a login with oathtool's code" $SUCCESS "$(login)"
head -1 "$W/state/daemon" | grep -qx "twofactor-state 3" && ok "... and the state is written as format 3" \
    || not_ok "state written as format 3" "$(head -1 "$W/state/daemon")"
no_secret_in_copy && ok "a copy of the state directory holds neither the base32 nor the hex secret" \
    || not_ok "no secret in the copy" "$(cat "$W/state/daemon")"
expect_eq "the next login still works" $SUCCESS "$(login)"

# ---- the key file's safety, like the config's ----
chmod 0644 "$KEY"
expect_eq "key file mode 0644: denied" $SERVICE_ERR "$(login)"
logged "unsafe: readable or writable by group or others" && ok "... naming the mode" \
    || not_ok "mode refusal logged" "$(cat "$W/driver.err")"
chmod 0600 "$KEY"
chown 65534 "$KEY"
expect_eq "key file owned by another user: denied" $SERVICE_ERR "$(login)"
logged "unsafe: owned by uid 65534" && ok "... naming the owner" \
    || not_ok "owner refusal logged" "$(cat "$W/driver.err")"
chown 0 "$KEY"

# ---- the wrong key, an altered token ----
cp -p "$KEY" "$W/key.good"
rm "$KEY"
admin key init 2>/dev/null # another key
sed -i "s/^key [0-9a-f]* /key $(awk '/^key/{print $2}' "$W/key.good") /" "$KEY" # under the old id
expect_eq "the wrong key: denied" $UNAVAIL "$(login)"
[ "$(grep -c . "$W/driver.err")" = 1 ] && logged "does not decrypt (wrong key or altered data)" \
    && ok "... with one log line: does not decrypt" || not_ok "wrong key logged once" "$(cat "$W/driver.err")"
cp -p "$W/key.good" "$KEY"
cp -p "$W/state/daemon" "$W/daemon.good"
# One character of the token changed (A<->B keeps it base64url).
sed -i -E 's/(aes256gcm:[0-9a-f]{8}:.{20})A/\1B/; t; s/(aes256gcm:[0-9a-f]{8}:.{20})./\1A/' "$W/state/daemon"
cmp -s "$W/state/daemon" "$W/daemon.good" && not_ok "the token was altered" || ok "the token was altered"
expect_eq "an altered token: denied" $UNAVAIL "$(login)"
logged "does not decrypt (wrong key or altered data)" && ok "... logged" \
    || not_ok "altered token logged" "$(cat "$W/driver.err")"
cp -p "$W/daemon.good" "$W/state/daemon"

# ---- rotation, a login between every step ----
expect_eq "rotation: login" $SUCCESS "$(login)"
admin key rotate --prepare 2>/dev/null
expect_eq "rotation: login after rotate --prepare" $SUCCESS "$(login)"
admin key rotate 2>"$W/err"
grep -q "re-sealed 1 secret" "$W/err" && ok "rotate re-sealed the one secret" || not_ok "rotate count" "$(cat "$W/err")"
expect_eq "rotation: login after rotate" $SUCCESS "$(login)"
admin key retire 2>/dev/null
[ "$(grep -c '^key ' "$KEY")" = 1 ] && ok "retire left one key" || not_ok "retire left one key" "$(cat "$KEY")"
expect_eq "rotation: login after retire" $SUCCESS "$(login)"
no_secret_in_copy && ok "after the rotation no secret in the copy either" || not_ok "no secret after rotation"

# ---- reseal: what is in clear (written by a host without the key) ----
grep -v '^secret_key_file' "$W/tf.conf" >"$W/clear.conf"
chmod 0600 "$W/clear.conf"
"$ADMIN_BIN" --config "$W/clear.conf" enroll bin --no-confirm --qr none >/dev/null 2>&1
expect_eq "a host without the key writes bin in clear" "twofactor-state 2" "$(head -1 "$W/state/bin")"
admin key reseal 2>"$W/err"
grep -q "re-sealed 1 secret(s) of 1 user(s), 1 already sealed with it" "$W/err" && ok "reseal sealed bin's secret only" \
    || not_ok "reseal count" "$(cat "$W/err")"
expect_eq "... bin's state is now sealed" "twofactor-state 3 yes" \
    "$(head -1 "$W/state/bin") $(grep -q ' aes256gcm:' "$W/state/bin" && echo yes)"
expect_eq "rotation: daemon still logs in after reseal" $SUCCESS "$(login)"
summary
