#!/usr/bin/env bash
# What a local user can do to the PostgreSQL store's logins, against a
# private PostgreSQL 15 server (pg_server.sh) with TLS on 127.0.0.1, logging
# in through the built pam_twofactor.so under pam_wrapper (tests/pam's
# pam_login_driver) as su would: as root, with the caller's environment.
# Checks: libpq opens no file of the caller's $HOME (~/.postgresql/root.crl,
# postgresql.crt, postgresql.key, ~/.pgpass; strace); logins stopped with
# SIGSTOP leave no session behind after the timeout; a fake server of a
# local user's (fake_server.py) on a socket or the loopback port is sent
# nothing: such settings are refused, naming the file and line, or fail;
# verify-ca works with a private CA and is refused with the system's.
# Needs root (the server runs as `postgres`), strace and openssl; skips
# with 77 without root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pg_login_test.sh
. "$here/pg_login_test.sh"
TIMEOUT=2 # pg_timeout_seconds
for tool in strace openssl python3; do
    command -v $tool >/dev/null || { echo "$tool is required (scripts/bootstrap)"; exit 1; }
done
started=$(now_ms)
stopped=()   # logins stopped with SIGSTOP
fake_pids=() # fake servers
cleanup_more() {
    [ ${#stopped[@]} -eq 0 ] || kill -CONT "${stopped[@]}" 2>/dev/null
    [ ${#fake_pids[@]} -eq 0 ] || kill "${fake_pids[@]}" 2>/dev/null
}

# ---- the server (TLS on 127.0.0.1, and its socket), two configurations ----

pg_server_tls_loopback
pg_database tf_local "$W/pg.password"
mkdir -m 0700 "$W/state" "$W/services"
echo "auth required pam_deny.so" >"$W/services/other"

TLS="host=localhost hostaddr=127.0.0.1 port=$PG_PORT sslmode=verify-full sslrootcert=$PG_CA"
write_conf() { # write_conf NAME CONNINFO [PASSWORD_FILE]: $W/NAME.conf and the service NAME
    cat >"$W/$1.conf" <<CONF
store = postgresql
pg_conninfo = $2 dbname=tf_local user=tf_local
pg_timeout_seconds = $TIMEOUT
state_dir = $W/state
scrypt_log2_n = 10
max_failures = 100
secret_key_file = $PG_KEY
CONF
    [ -z "${3:-}" ] || echo "pg_password_file = $3" >>"$W/$1.conf"
    chmod 0600 "$W/$1.conf"
    echo "auth required $MODULE config=$W/$1.conf" >"$W/services/$1"
}
write_conf tls "$TLS" "$W/pg.password"
write_conf tls_nopw "$TLS" # libpq would look for ~/.pgpass
pg_key_init "$ADMIN_BIN" "$W/tls.conf"

admin() { "$ADMIN_BIN" --config "$W/tls.conf" "$@"; }
admin db-init 2>/dev/null
read -r -a codes <<<"$(admin issue daemon --count 10 --json 2>/dev/null | json '" ".join(d["codes"])')"
[ "${#codes[@]}" -eq 10 ] || { not_ok "codes issued over TLS"; summary; exit 1; }
echo "# PostgreSQL with TLS on 127.0.0.1:$PG_PORT up in $(($(now_ms) - started)) ms"

# ---- the caller's $HOME ----

# In su the module runs as root with the caller's HOME. libpq 15 would load
# ~/.postgresql/root.crl (OpenSSL trusts a CA certificate found there, even
# with sslrootcert= set), present ~/.postgresql/postgresql.crt and its key,
# and read ~/.pgpass. Here they are a user's own CA, a client certificate
# from it, and a password file, in a directory the user owns.
home=$W/home
mkdir -p "$home/.postgresql"
pg_make_ca "$home/.postgresql/root.crl" "$W/caller-ca.key" "the caller's CA"
pg_make_cert "$home/.postgresql/postgresql" tf_local "$home/.postgresql/root.crl" "$W/caller-ca.key"
printf '*:*:*:*:not-the-password\n' >"$home/.pgpass"
chmod 0600 "$home/.pgpass" "$home/.postgresql/postgresql.key"
chown -R 65534:65534 "$home"

traced_login() { # traced_login SERVICE USER CODE: the PAM return code; file system calls in $W/trace
    # (LeakSanitizer cannot run under ptrace: off for this one process.)
    printf '%s\n' "$3" | strace -f -qq -e trace=%file -o "$W/trace" "${driver_env[@]}" HOME="$home" \
        ASAN_OPTIONS=detect_leaks=0 "$DRIVER" "$1" "$2" 2>>"$W/driver.err" | sed -n 's/^result //p'
}
home_files_seen() { grep -F "$home" "$W/trace" | head -5 || true; }

expect_eq "a login over TLS with the caller's HOME full of libpq files: accepted" $SUCCESS \
    "$(traced_login tls daemon "${codes[0]}")"
grep -qF "\"$PG_CA\"" "$W/trace" && ok "... (strace saw libpq open the configured CA)" \
    || not_ok "strace saw libpq open the configured CA" "$(grep -c . "$W/trace") lines traced"
seen=$(home_files_seen)
[ -z "$seen" ] && ok "... and no file under the caller's HOME was looked at" \
    || not_ok "no file under the caller's HOME was looked at" "$seen"
expect_eq "without pg_password_file (libpq would read ~/.pgpass): PAM_AUTHINFO_UNAVAIL" $UNAVAIL \
    "$(traced_login tls_nopw daemon "${codes[1]}")"
seen=$(home_files_seen)
[ -z "$seen" ] && ok "... and no file under the caller's HOME was looked at" \
    || not_ok "no file under the caller's HOME was looked at (no password file)" "$seen"

# ---- logins stopped at random moments ----

# The caller of su may SIGSTOP it (its real uid is theirs). A login stopped
# while connected left its session idle, outside a transaction, where no
# timeout ended it: twenty of them filled max_connections and no host of
# the fleet could log anyone in. Now idle_session_timeout (pg_timeout_seconds)
# ends them. Logins with a wrong code are stopped at random moments of their
# run until some hold an idle session; a few seconds after the timeout no
# session of the role may be left, and the logins, resumed, are all denied.
sessions() { # "IDLE TOTAL": the role's sessions
    pg_psql postgres -At -F ' ' \
        -c "SELECT count(*) FILTER (WHERE state = 'idle'), count(*) FROM pg_stat_activity WHERE usename = 'tf_local'"
}
stopped=()
t=$(now_ms)
login tls daemon ZZZZZZZZ >/dev/null
window=$(($(now_ms) - t)) # ms: how long one login runs
window=$((window < 999 ? window : 999))
held=0 held_idle=0
for ((batch = 0; batch < 10 && held_idle == 0; batch++)); do
    for ((i = 0; i < 10; i++)); do
        echo ZZZZZZZZ | "${driver_env[@]}" "$DRIVER" tls daemon >"$W/stopped.$batch.$i" 2>>"$W/driver.err" &
        pid=$!
        sleep "$(printf '0.%03d' $((RANDOM % window)))"
        kill -STOP "$pid" 2>/dev/null || true # (it may be done already)
        stopped+=("$pid")
    done
    last_stop=$(now_ms)
    read -r held_idle held <<<"$(sessions)"
done
echo "# ${#stopped[@]} logins stopped within $window ms of their start: $held sessions held, $held_idle idle"
[ "$held_idle" -gt 0 ] && ok "stopped logins held idle sessions ($held_idle)" \
    || not_ok "stopped logins held idle sessions" "none in ${#stopped[@]} logins: this run proves nothing"
deadline=$((last_stop + TIMEOUT * 1000 + 3000))
while read -r _ held <<<"$(sessions)" && [ "$held" -gt 0 ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
expect_eq "$((TIMEOUT + 3)) s after the last stop, no session of the role is left (+$(($(now_ms) - last_stop)) ms)" \
    0 "$held"
kill -CONT "${stopped[@]}"
wait "${stopped[@]}" || true
stopped=()
expect_eq "the stopped logins, resumed, are all denied" "" "$(cat "$W"/stopped.* | grep -v -x -E 'result (7|9)')"
admin unlock daemon 2>/dev/null
expect_eq "a login after them works" $SUCCESS "$(login tls daemon "${codes[2]}")"

# twofactor-admin keeps a connection between store calls: issue reads the
# state, derives the codes (here slower than pg_timeout_seconds), then
# writes them, on a new connection once the server has ended the idle one.
cat "$W/tls.conf" - >"$W/slow.conf" <<CONF
pg_timeout_seconds = 1
scrypt_log2_n = 16
CONF
t=$(now_ms)
"$ADMIN_BIN" --config "$W/slow.conf" issue daemon --count 6 --json >"$W/slow.json" 2>"$W/err" \
    && ok "issue with a KDF slower than pg_timeout_seconds ($(($(now_ms) - t)) ms) stores the codes" \
    || not_ok "issue with a KDF slower than pg_timeout_seconds" "$(cat "$W/err")"
read -r -a codes <<<"$(json '" ".join(d["codes"])' <"$W/slow.json")" # the set now
expect_eq "... and one of them works" $SUCCESS "$(login tls daemon "${codes[0]}")"

# ---- who answers on a socket, or on loopback ----

# The kernel does not check who listens on a socket path or port. While the
# server is down, a local user can bind its socket's name in a directory
# others may write to (as /tmp), or an abstract name, or listen on the
# loopback port, and ask each login for the password in clear.
# fake_server.py is that user (nobody), keeping what it is sent.
nobody=$(id -u nobody)
start_fake() { # start_fake unix|tcp WHERE
    /usr/bin/python3 "$here/fake_server.py" "$1" "$2" "$W/captured" "$nobody" >"$W/fake.out" 2>&1 &
    fake_pids+=($!)
    for _ in $(seq 100); do grep -q ready "$W/fake.out" && return; sleep 0.05; done
    not_ok "fake server on $2 started" "$(cat "$W/fake.out")"
}
refused_with() { # refused_with SERVICE TEXT: the login is a configuration error, twofactor-admin says TEXT
    local rc msg
    rc=$(login "$1" daemon "${codes[1]}")
    msg=$("$ADMIN_BIN" --config "$W/$1.conf" list 2>&1 >/dev/null) || true
    case "$rc $msg" in
    "$SERVICE_ERR twofactor-admin: configuration: $W/$1.conf:2: pg_conninfo: "*"$2"*) ok "$1: refused ($2)" ;;
    *) not_ok "$1: refused ($2)" "login $rc; $msg" ;;
    esac
}
shared=$W/shared # like /tmp
mkdir -m 1777 "$shared"
start_fake unix "$shared/.s.PGSQL.$PG_PORT"
write_conf socket_shared "host=$shared port=$PG_PORT" "$W/pg.password"
refused_with socket_shared "is a Unix socket: needs requirepeer="
write_conf socket_shared_peer "host=$shared requirepeer=postgres port=$PG_PORT" "$W/pg.password"
refused_with socket_shared_peer "$shared is writable by group or others"
start_fake unix "@twofactor-test-${W##*.}/.s.PGSQL.$PG_PORT"
write_conf socket_abstract "host=@twofactor-test-${W##*.} requirepeer=postgres port=$PG_PORT" "$W/pg.password"
refused_with socket_abstract "is an abstract socket"
# A directory only root can change, but a socket of someone else's in it:
# requirepeer=postgres makes libpq hang up before it sends anything.
mkdir -m 0755 "$W/fake_socket"
start_fake unix "$W/fake_socket/.s.PGSQL.$PG_PORT"
write_conf socket_other_peer "host=$W/fake_socket requirepeer=postgres port=$PG_PORT" "$W/pg.password"
expect_eq "a socket served by another user than requirepeer's: PAM_AUTHINFO_UNAVAIL" $UNAVAIL \
    "$(login socket_other_peer daemon "${codes[1]}")"
write_conf socket "host=$PG_SOCKET requirepeer=postgres port=$PG_PORT" "$W/pg.password"
expect_eq "the server's own socket, requirepeer=postgres: accepted" $SUCCESS "$(login socket daemon "${codes[1]}")"
# Loopback is TCP like any other: a port anyone may listen on.
fake_port=$(free_port)
start_fake tcp "$fake_port"
write_conf loopback_clear "host=127.0.0.1 port=$fake_port sslmode=disable" "$W/pg.password"
refused_with loopback_clear "127.0.0.1 is reached over TCP: needs sslmode=verify-full"
write_conf loopback_fake "${TLS/port=$PG_PORT/port=$fake_port}" "$W/pg.password"
expect_eq "a listener on the loopback port without the server's certificate: PAM_AUTHINFO_UNAVAIL" $UNAVAIL \
    "$(login loopback_fake daemon "${codes[2]}")"
expect_eq "no fake server was sent anything" "" "$(cat "$W/captured")"
expect_eq "the codes tried meanwhile still work" "$SUCCESS $SUCCESS" \
    "$(login tls daemon "${codes[2]}") $(login socket daemon "${codes[3]}")"

# ---- verify-ca checks no name ----

# With sslmode=verify-ca libpq accepts any certificate the CA file vouches
# for, whatever name it carries: fine with the fleet's private CA, not with
# the system's public CAs, which sign for anyone who owns a domain.
write_conf verify_ca "${TLS/verify-full/verify-ca}" "$W/pg.password"
expect_eq "verify-ca with the server's private CA: accepted" $SUCCESS "$(login verify_ca daemon "${codes[4]}")"
write_conf verify_ca_public "${TLS/verify-full sslrootcert=$PG_CA/verify-ca sslrootcert=/etc/ssl/certs/ca-certificates.crt}" \
    "$W/pg.password"
refused_with verify_ca_public "a CA the system trusts"

sanitizers_quiet "$W/driver.err"

echo "# total $(($(now_ms) - started)) ms"
summary
