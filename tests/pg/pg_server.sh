# A private PostgreSQL 15 server for the PostgreSQL store's tests and
# benchmark: its own data directory and Unix socket directory under a work
# directory, run as the `postgres` system user; no TCP listener unless
# PG_LISTEN names an address (127.0.0.1). Sourced, not run; needs root
# (runuser). Sets PG_DATA, PG_SOCKET, PG_LOG; PG_PORT is the port (and the
# socket's name), 5432 unless set. pg_server_tls turns TLS on.
# shellcheck shell=bash

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-5432}
PG_LISTEN=${PG_LISTEN:-}

# pg_server_init WORK: initdb (peer for `postgres`, SCRAM passwords for
# every other role, over the Unix socket only).
pg_server_init() {
    local work=$1
    [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL 15 is required (apt-get install postgresql)"; return 1; }
    id postgres >/dev/null 2>&1 || { echo "the postgres system user is missing (apt-get install postgresql)"; return 1; }
    PG_WORK=$work
    PG_DATA=$work/pgdata
    PG_SOCKET=$work/pgsock
    PG_LOG=$work/postgresql.log
    chmod 0711 "$work"
    install -d -o postgres -g postgres -m 0700 "$PG_DATA"
    install -d -o postgres -g postgres -m 0755 "$PG_SOCKET"
    install -o postgres -g postgres -m 0600 /dev/null "$PG_LOG"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=reject --no-sync >"$work/initdb.log" 2>&1 \
        || { cat "$work/initdb.log"; return 1; }
    cat >"$PG_DATA/pg_hba.conf" <<HBA
local all postgres peer
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
HBA
    cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '$PG_LISTEN'
unix_socket_directories = '$PG_SOCKET'
port = $PG_PORT
max_connections = 100
password_encryption = scram-sha-256
CONF
}

# pg_server_tls (after pg_server_init): ssl = on, with a certificate for
# localhost from a private CA made here. Sets PG_CA (the CA certificate, for
# sslrootcert=) and PG_CA_KEY; clients connect with host=localhost
# hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=$PG_CA.
pg_server_tls() {
    local tls=$PG_WORK/tls
    mkdir -m 0700 "$tls"
    PG_CA=$tls/ca.crt
    PG_CA_KEY=$tls/ca.key
    pg_make_ca "$PG_CA" "$PG_CA_KEY" "twofactor test CA"
    pg_make_cert "$tls/server" localhost "$PG_CA" "$PG_CA_KEY" subjectAltName=DNS:localhost
    install -o postgres -g postgres -m 0600 "$tls/server.key" "$PG_DATA/server.key"
    install -o postgres -g postgres -m 0644 "$tls/server.crt" "$PG_DATA/server.crt"
    echo "ssl = on" >>"$PG_DATA/postgresql.conf"
}

# pg_make_ca CERT KEY NAME: a self-signed CA (P-256, valid two days).
pg_make_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$2" -out "$1" -days 2 \
        -subj "/CN=$3" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
}

# pg_make_cert PREFIX CN CA_CERT CA_KEY [EXTENSION]: PREFIX.crt and PREFIX.key, signed by the CA.
pg_make_cert() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
        -subj "/CN=$2" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$3" -CAkey "$4" -CAcreateserial -out "$1.crt" -days 2 \
        ${5:+-extfile <(printf '%s\n' "$5")} 2>/dev/null
    rm -f "$1.csr"
}

# pg_detached CMD...: starts a daemon (the server, PgBouncer) without the
# caller's descriptors beyond 0-2: a FIFO the caller writes to would never
# see its end of file, and the lock a caller holds (flock) would be held for
# as long as the daemon runs.
pg_detached() {
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
        done
        "$@"
    )
}

pg_server_start() {
    pg_detached runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null
}

# pg_server_stop [fast|immediate|smart]
pg_server_stop() {
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w -t 60 stop >/dev/null
}

pg_server_running() {
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

# The postmaster and every backend: for freezing the server (SIGSTOP).
pg_server_pids() {
    local main
    main=$(head -n 1 "$PG_DATA/postmaster.pid")
    echo "$main" $(pgrep -P "$main" || true)
}

# pg_psql [DB] ARGS...: psql as the superuser over the private socket.
pg_psql() {
    local db=$1
    shift
    runuser -u postgres -- "$PG_BIN/psql" -h "$PG_SOCKET" -p "$PG_PORT" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# pg_database NAME PASSWORD_FILE (server started): the role NAME, with a
# random password written to PASSWORD_FILE (0600), owning the database NAME.
pg_database() {
    local password
    password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    pg_psql postgres -c "CREATE ROLE $1 LOGIN PASSWORD '$password'" -c "CREATE DATABASE $1 OWNER $1" >/dev/null
    install -m 0600 /dev/null "$2"
    printf '%s\n' "$password" >"$2"
}

# The key file that seals the secrets (secret_key_file; the PostgreSQL store
# writes no secret in clear), one per test, shared by all its hosts as a
# fleet shares it. pg_key_file WORK: sets PG_KEY to WORK/keys/twofactor.key
# (a root-only directory), for the configurations to name.
# pg_key_init ADMIN CONF: creates it with `twofactor-admin key init`
# through CONF, which names it, unless it exists (a second scenario).
pg_key_file() {
    install -d -m 0700 "$1/keys"
    PG_KEY=$1/keys/twofactor.key
}
pg_key_init() {
    local out
    [ -e "$PG_KEY" ] && return 0
    out=$("$1" --config "$2" key init 2>&1) || { echo "key init: $out"; return 1; }
}

# pg_server_watchdog PID DIR: once process PID is gone, stops the server
# (thawed first) and removes DIR. For a caller killed without running its
# traps (ctest's timeout): the server is a daemon and would outlive it.
pg_server_watchdog() {
    setsid bash -c '
        while kill -0 "$1" 2>/dev/null; do sleep 1; done
        if [ -f "$3/postmaster.pid" ]; then
            main=$(head -n 1 "$3/postmaster.pid")
            kill -CONT "$main" $(pgrep -P "$main") 2>/dev/null
            runuser -u postgres -- "$2/pg_ctl" -D "$3" -m immediate -w stop
        fi
        rm -rf "$4"' watchdog "$1" "$PG_BIN" "$PG_DATA" "$2" </dev/null >/dev/null 2>&1 &
}

# pg_pid_watchdog PID DAEMON_PID: once process PID is gone, ends DAEMON_PID
# (PgBouncer) if it still runs the same program, for a caller killed
# without running its traps.
pg_pid_watchdog() {
    setsid bash -c '
        comm=$(cat "/proc/$2/comm")
        while kill -0 "$1" 2>/dev/null; do sleep 1; done
        [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$comm" ] && kill "$2"' watchdog "$1" "$2" \
        </dev/null >/dev/null 2>&1 &
}

# PgBouncer in front of the server, as docs/fleet.md recommends: transaction
# pooling on a Unix socket in PG_BOUNCER (a directory of the postgres user,
# 0700: only root and postgres can reach it), auth_type = trust there, the
# role's password in its auth_file for the server. Sets PG_BOUNCER.
# pg_bouncer_init DIR DB PASSWORD_FILE POOL TIMEOUT [IGNORED_STARTUP_PARAMETERS]
# (the role is DB too; IGNORED defaults to options).
pg_bouncer_init() {
    PG_BOUNCER=$1
    install -d -o postgres -g postgres -m 0700 "$PG_BOUNCER"
    cat >"$PG_BOUNCER/pgbouncer.ini" <<INI
[databases]
$2 = host=$PG_SOCKET port=$PG_PORT dbname=$2

[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $PG_BOUNCER
unix_socket_mode = 0700
auth_type = trust
auth_file = $PG_BOUNCER/userlist.txt
pool_mode = transaction
default_pool_size = $4
max_client_conn = 1000
ignore_startup_parameters = ${6-options}
server_login_retry = 1
query_wait_timeout = $5
idle_transaction_timeout = $5
client_idle_timeout = 60
logfile = $PG_BOUNCER/pgbouncer.log
pidfile = $PG_BOUNCER/pgbouncer.pid
INI
    printf '"%s" "%s"\n' "$2" "$(cat "$3")" >"$PG_BOUNCER/userlist.txt"
    chown postgres:postgres "$PG_BOUNCER/pgbouncer.ini" "$PG_BOUNCER/userlist.txt"
    chmod 0600 "$PG_BOUNCER/pgbouncer.ini" "$PG_BOUNCER/userlist.txt"
}

# pg_bouncer_start (after pg_bouncer_init): waits for its socket (10 s).
pg_bouncer_start() {
    pg_detached runuser -u postgres -- "${PGBOUNCER:-/usr/sbin/pgbouncer}" -d -q "$PG_BOUNCER/pgbouncer.ini" \
        </dev/null >/dev/null 2>&1
    local i
    for ((i = 0; i < 200; i++)); do
        [ -S "$PG_BOUNCER/.s.PGSQL.6432" ] && [ -s "$PG_BOUNCER/pgbouncer.pid" ] && break
        sleep 0.05
    done
    [ -S "$PG_BOUNCER/.s.PGSQL.6432" ] || { echo "PgBouncer did not start"; cat "$PG_BOUNCER/pgbouncer.log"; return 1; }
    pg_pid_watchdog $$ "$(cat "$PG_BOUNCER/pgbouncer.pid")"
}

pg_bouncer_stop() {
    [ -n "${PG_BOUNCER:-}" ] && [ -f "$PG_BOUNCER/pgbouncer.pid" ] || return 0
    local pid
    pid=$(cat "$PG_BOUNCER/pgbouncer.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$PG_BOUNCER/pgbouncer.pid"
}

# pg_role_settings ROLE TIMEOUT_SECONDS: what the store sends as startup
# options, which PgBouncer drops, set on the role in its database (named
# like it) instead. Not idle_session_timeout: it would end PgBouncer's own
# idle server connections (client_idle_timeout ends idle clients instead).
pg_role_settings() {
    local setting args=()
    for setting in "statement_timeout = '${2}s'" "lock_timeout = '${2}s'" \
        "idle_in_transaction_session_timeout = '${2}s'" "search_path = pg_catalog" "jit = off" \
        "synchronous_commit = on"; do
        args+=(-c "ALTER ROLE $1 IN DATABASE $1 SET $setting")
    done
    pg_psql postgres "${args[@]}" >/dev/null
}

# pg_server_cleanup: stops the server if it runs (thawing it first).
pg_server_cleanup() {
    [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
    kill -CONT $(pg_server_pids) 2>/dev/null || true
    pg_server_stop immediate 2>/dev/null || true
}
