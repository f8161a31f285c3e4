#!/usr/bin/env bash
# pg_unavailable = local: when no PostgreSQL server answers, the accounts an
# admin enrolled in local_state_dir (twofactor-admin --state-dir) log in
# from there, and no one else. Against a private PostgreSQL 15 server
# (pg_server.sh, TLS on 127.0.0.1 and its socket), logging in through the
# built pam_twofactor.so under pam_wrapper (tests/pam's pam_login_driver,
# whose stderr carries the module's log lines). Checks: with the server up
# the local store is not consulted (a code that exists only there is
# refused, and stays unused); a server that answers with an error (wrong
# password, no schema, no privileges) denies without falling back; no
# server on the port, a TLS verification failure, or the server stopped
# fall back: the local account logs in with its local code once, logged
# store=local reason=database_unavailable, failures count there too, a
# PostgreSQL-enrolled user is denied, a user without local state is denied
# even with nullok; pg_unavailable = deny still denies; and all is as
# before once the server is back. Needs root; skips with 77 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pg_login_test.sh
. "$here/pg_login_test.sh"
TIMEOUT=2 # pg_timeout_seconds
for tool in openssl python3 oathtool; do
    command -v $tool >/dev/null || { echo "$tool is required (scripts/bootstrap)"; exit 1; }
done
started=$(now_ms)

# ---- the server, the database, the configurations ----

pg_server_tls_loopback
pg_database tf_bg "$W/pg.password"
pg_database tf_noperm "$W/noperm.password" # a role with no privilege on tf_bg's schema
pg_psql postgres -c "CREATE DATABASE tf_empty OWNER tf_bg" >/dev/null
install -m 0600 /dev/null "$W/wrong.password"
echo "not-the-password" >"$W/wrong.password"
pg_make_ca "$W/other-ca.crt" "$W/other-ca.key" "another CA"
mkdir -m 0700 "$W/state" "$W/local" "$W/services"
echo "auth required pam_deny.so" >"$W/services/other"

SOCKET="host=$PG_SOCKET requirepeer=postgres port=$PG_PORT"
TCP="host=localhost hostaddr=127.0.0.1 sslmode=verify-full"
write_conf() { # write_conf SERVICE CONNINFO [PASSWORD_FILE]: $W/SERVICE.conf and the service
    cat >"$W/$1.conf" <<CONF
store = postgresql
pg_conninfo = $2
pg_password_file = ${3:-$W/pg.password}
pg_timeout_seconds = $TIMEOUT
pg_unavailable = local
local_state_dir = $W/local
state_dir = $W/state
scrypt_log2_n = 10
secret_key_file = $PG_KEY
CONF
    chmod 0600 "$W/$1.conf"
    echo "auth required $MODULE config=$W/$1.conf" >"$W/services/$1"
}
write_conf bg "$SOCKET dbname=tf_bg user=tf_bg"
echo "auth required $MODULE config=$W/bg.conf nullok" >"$W/services/bg_nullok"
echo "auth required $MODULE config=$W/bg.conf pg_unavailable=deny" >"$W/services/bg_deny"
write_conf tcp "$TCP port=$PG_PORT sslrootcert=$PG_CA dbname=tf_bg user=tf_bg"
write_conf closed "$TCP port=$(free_port) sslrootcert=$PG_CA dbname=tf_bg user=tf_bg"
write_conf badca "$TCP port=$PG_PORT sslrootcert=$W/other-ca.crt dbname=tf_bg user=tf_bg"
write_conf badpass "$SOCKET dbname=tf_bg user=tf_bg" "$W/wrong.password"
write_conf noschema "$SOCKET dbname=tf_empty user=tf_bg"
write_conf noperm "$SOCKET dbname=tf_bg user=tf_noperm" "$W/noperm.password"
pg_key_init "$ADMIN_BIN" "$W/bg.conf"

admin() { "$ADMIN_BIN" --config "$W/bg.conf" "$@"; }
local_admin() { admin --state-dir "$W/local" "$@"; }
codes() { "$@" --json 2>/dev/null | json '" ".join(d["codes"])'; }
local_field() { local_admin list "$1" --json | json "d['users'][0]$2"; }

# try SERVICE USER CODE: the PAM return code; the module's log of that
# login in $W/last.log.
try() {
    printf '%s\n' "$3" | run_driver "$1" "$2" 2>"$W/last.log" | sed -n 's/^result //p'
    cat "$W/last.log" >>"$W/driver.err"
}
logged() { grep -q -E "$1" "$W/last.log"; }
# expect_login NAME WANT SERVICE USER CODE [LOGGED_ERE...]: the return
# code, and each ERE in the module's log.
expect_login() {
    local name=$1 want=$2 got
    got=$(try "$3" "$4" "$5")
    shift 5
    local missing=""
    for ere in "$@"; do logged "$ere" || missing+=" '$ere'"; done
    if [ "$got" = "$want" ] && [ -z "$missing" ]; then
        ok "$name"
    else
        not_ok "$name" "want $want, got $got;${missing:+ not logged:$missing;} log: $(grep pam_syslog "$W/last.log")"
    fi
}
not_logged() { # not_logged NAME ERE: the last login did not log ERE
    if logged "$2"; then not_ok "$1" "$(grep -E "$2" "$W/last.log")"; else ok "$1"; fi
}
FALLBACK='fallback user=root service=[a-z_]+ rhost=192\.0\.2\.1 tty=- store=local reason=database_unavailable detail=PostgreSQL:%20no%20server%20answers'

admin db-init 2>/dev/null
read -r -a pg_root <<<"$(codes admin issue root --count 3)"
read -r -a pg_daemon <<<"$(codes admin issue daemon --count 2)"
read -r -a local_root <<<"$(codes local_admin issue root --count 6)"
expect_eq "twofactor-admin --state-dir enrols root in the local store only" "6 3" \
    "$(local_field root '["codes"]["remaining"]') $(admin list root --json | json 'd["users"][0]["codes"]["remaining"]')"
expect_eq "the local store holds root alone" "root" "$(ls "$W/local")"

echo "# PostgreSQL up, schema and codes ready in $(($(now_ms) - started)) ms"

# ---- the database answers: the local store is not consulted ----

expect_login "server up: root's local code is refused" $AUTH_ERR bg root "${local_root[0]}" \
    '^\[pam_syslog [0-9]+\] denied user=root .*reason=wrong_code$'
not_logged "... and nothing says store=local" 'store=local|fallback'
expect_eq "... and the local state is untouched (6 codes, no failure)" "6 0" \
    "$(local_field root '["codes"]["remaining"]') $(local_field root '["failures"]')"
expect_login "server up: root's PostgreSQL code works" $SUCCESS bg root "${pg_root[0]}" \
    '^\[pam_syslog [0-9]+\] accepted user=root .*method=backup_code codes_remaining=2 codes_total=3$'
expect_login "over TCP with TLS too" $SUCCESS tcp daemon "${pg_daemon[0]}"

# A server that answers, if only with an error, is reached: deny, as
# with pg_unavailable = deny.
for service in badpass noschema noperm; do
    expect_login "the server answers with an error ($service): denied" $UNAVAIL $service root "${local_root[0]}" \
        'error user=root .*reason=state_unavailable'
    not_logged "... without falling back ($service)" 'store=local|fallback'
done
expect_eq "the local code is still unused" "6 0" \
    "$(local_field root '["codes"]["remaining"]') $(local_field root '["failures"]')"

# ---- no server answers: the local store ----

expect_login "nothing listens on the port: root logs in with a local code" $SUCCESS closed root "${local_root[0]}" \
    "$FALLBACK" 'accepted user=root service=closed .*method=backup_code codes_remaining=5 codes_total=6 store=local$'
# An attacker in the middle who can break the handshake can as well drop
# every packet: the same fallback, nothing more (docs/fleet.md).
expect_login "TLS verification fails: the same fallback" $SUCCESS badca root "${local_root[1]}" \
    "$FALLBACK.*certificate" 'accepted user=root service=badca .* store=local$'

pg_server_stop fast
expect_login "server stopped: root logs in with a local code" $SUCCESS bg root "${local_root[2]}" \
    "$FALLBACK" 'accepted user=root service=bg .*codes_remaining=3 codes_total=6 store=local$'
expect_login "... once: the same code again is refused" $AUTH_ERR bg root "${local_root[2]}" \
    "$FALLBACK" 'denied user=root .*reason=wrong_code store=local$'
expect_eq "... and counted in the local store" "1" "$(local_field root '["failures"]')"
expect_login "root's PostgreSQL code is not in the local store" $AUTH_ERR bg root "${pg_root[1]}" "$FALLBACK"
expect_login "a PostgreSQL-enrolled user is denied" $UNAVAIL bg daemon "${pg_daemon[1]}" \
    'fallback user=daemon .*store=local reason=database_unavailable' \
    'denied user=daemon .*reason=not_in_local_store store=local$'
expect_login "a user with no state is denied, nullok or not" $UNAVAIL bg_nullok lp 12345678 \
    'fallback user=lp ' 'denied user=lp .*reason=not_in_local_store store=local$'
expect_eq "... and leaves nothing in the local store" "root" "$(ls "$W/local")"
expect_login "pg_unavailable = deny: denied, no fallback" $UNAVAIL bg_deny root "${local_root[3]}" \
    'error user=root .*reason=state_unavailable'
not_logged "... nothing says store=local" 'store=local|fallback'

# ---- the server is back ----

pg_server_start
expect_login "server back: the local store is not consulted" $AUTH_ERR bg root "${local_root[3]}"
not_logged "... nothing says store=local" 'store=local|fallback'
expect_login "server back: PostgreSQL codes work" $SUCCESS bg daemon "${pg_daemon[1]}"
expect_eq "root's local store: 3 codes left, as used while the server was away" "3" \
    "$(local_field root '["codes"]["remaining"]')"

# ---- the local store and the key that seals secrets ----

# A host whose key file is missing (secret_key_file left at its default,
# /etc/security/twofactor.key, absent here): secrets the local store holds
# in clear need no key and log in; a secret sealed there does not open, and
# is denied with one log line. (The key file named explicitly but missing
# is a configuration error, as test_secrets.sh checks.)
if [ -e /etc/security/twofactor.key ]; then
    echo "# skip the missing key file checks: /etc/security/twofactor.key exists on this host"
else
    write_conf nokey "$TCP port=$(free_port) sslrootcert=$PG_CA dbname=tf_bg user=tf_bg"
    sed -i '/^secret_key_file/d' "$W/nokey.conf"
    totp_of() { "$ADMIN_BIN" --config "$W/$1.conf" --state-dir "$W/local" enroll "$2" --no-confirm --qr none --json \
        2>/dev/null | json 'd["secret"]'; }
    clear_secret=$(totp_of nokey mail)
    sealed_secret=$(totp_of bg news)
    expect_eq "mail in clear, news sealed in the local store" "yes yes" \
        "$(grep -qx 'twofactor-state 2' "$W/local/mail" && echo yes) $(grep -q ' aes256gcm:' "$W/local/news" && echo yes)"
    expect_login "no key file, no server: a secret in clear in the local store logs in" $SUCCESS nokey mail \
        "$(oathtool --totp -b "$clear_secret")" 'fallback user=mail ' 'accepted user=mail .*method=totp.*store=local$'
    expect_login "no key file, no server: a sealed secret is denied" $UNAVAIL nokey news \
        "$(oathtool --totp -b "$sealed_secret")" 'fallback user=news ' \
        'secret%20sealed%20with%20key%20[0-9a-f]{8},%20which%20no%20secret%20key%20file%20holds'
    expect_login "with the key file, no server: the sealed secret logs in" $SUCCESS closed news \
        "$(oathtool --totp -b "$sealed_secret")" 'accepted user=news .*method=totp.*store=local$'
fi

# ---- key rotation covers the local store ----

# `key rotate` and `key retire` on a pg_unavailable = local host work on
# the local store too: a key retired while a break-glass secret was still
# sealed with it would deny the logins that store is for.
current_key() { awk '$1 == "key" && $3 == "current" { print $2 }' "$PG_KEY"; }
old_key=$(current_key)
lp_secret=$(local_admin enroll lp --no-confirm --qr none --json 2>/dev/null | json 'd["secret"]')
admin key rotate >/dev/null 2>&1
admin key retire >/dev/null 2>&1
new_key=$(current_key)
expect_eq "rotate re-sealed the local store's secret, retire dropped the old key" "yes no" \
    "$(grep -q " aes256gcm:$new_key:" "$W/local/lp" && echo yes || echo no) $(grep -q "^key $old_key " "$PG_KEY" && echo yes || echo no)"
expect_login "after rotate and retire, a break-glass TOTP login still works" $SUCCESS closed lp \
    "$(oathtool --totp -b "$lp_secret")" 'accepted user=lp .*method=totp.*store=local$'

# ---- configuration ----

set +e
"$ADMIN_BIN" --config "$W/bg.conf" --state-dir "$W/local" list >/dev/null 2>&1
rc_state_dir=$?
printf 'store = file\npg_unavailable = local\n' >"$W/file.conf"
msg=$("$ADMIN_BIN" --config "$W/file.conf" list 2>&1)
rc=$?
printf 'store = postgresql\npg_conninfo = %s\npg_unavailable = maybe\n' "$SOCKET" >"$W/bad.conf"
msg2=$("$ADMIN_BIN" --config "$W/bad.conf" list 2>&1)
rc2=$?
printf 'store = postgresql\npg_conninfo = %s\nlocal_state_dir = var/local\n' "$SOCKET" >"$W/rel.conf"
msg3=$("$ADMIN_BIN" --config "$W/rel.conf" list 2>&1)
rc3=$?
set -e
expect_eq "--state-dir uses the file store under a pg_unavailable = local config" 0 "$rc_state_dir"
expect_eq "pg_unavailable = local with store = file: a config error naming file, line and key" \
    "2 yes" "$rc $(grep -q "$W/file.conf:2: pg_unavailable: local needs store = postgresql" <<<"$msg" && echo yes)"
expect_eq "pg_unavailable = maybe: refused" \
    "2 yes" "$rc2 $(grep -q "$W/bad.conf:3: pg_unavailable: expected deny or local" <<<"$msg2" && echo yes)"
expect_eq "a relative local_state_dir: refused" \
    "2 yes" "$rc3 $(grep -q "$W/rel.conf:3: local_state_dir: must be an absolute path" <<<"$msg3" && echo yes)"

sanitizers_quiet "$W/driver.err"
echo "# done in $(($(now_ms) - started)) ms"
summary
