#!/usr/bin/env bash
# The store through PgBouncer in transaction pooling, set up as docs/fleet.md
# recommends ("Connection poolers"): PgBouncer on a Unix socket in a
# directory only root and PgBouncer's user can enter (the module checks it
# with requirepeer), auth_type = trust there (only root and that user can
# reach the socket), the server's password in PgBouncer's auth_file,
# ignore_startup_parameters = options and, instead of the startup options
# it drops, the same settings on the role (ALTER ROLE ... SET).
# Checks: without ignore_startup_parameters every login fails closed; with
# it, logins work and the role's settings are those of the pooled
# sessions; sixteen simultaneous logins with one code accept it exactly
# once per round while the server never sees more connections than the
# pool's size; PgBouncer up and the server down: denied within
# pg_timeout_seconds, and logins work again once the server is back.
# Needs root and PgBouncer (Debian's pgbouncer); skips with 77 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pg_login_test.sh
. "$here/pg_login_test.sh"
PGBOUNCER=${PGBOUNCER:-/usr/sbin/pgbouncer}
[ -x "$PGBOUNCER" ] || { echo "skip: PgBouncer is not installed (apt-get install pgbouncer)"; exit 77; }
ROUNDS=${TWOFACTOR_PG_ROUNDS:-50}
ROUNDS=$((ROUNDS < 10 ? ROUNDS : 10))
PARALLEL=16
POOL=4
TIMEOUT=2

started=$(now_ms)
pg_server_init "$W"
pg_server_start
pg_server_watchdog $$ "$W"
pg_database tf_pgb "$W/pg.password"

# PgBouncer as postgres, its socket in a directory of its own (pg_server.sh).
PG_BOUNCER=$W/pgbouncer
cleanup_more() { pg_bouncer_stop; }

# ---- hosts: one through PgBouncer, and the administrator on the server ----

mkdir -m 0700 "$W/state"
write_conf() { # write_conf FILE CONNINFO [PASSWORD_FILE]
    cat >"$1" <<CONF
store = postgresql
pg_conninfo = $2
${3:+pg_password_file = $3}
pg_timeout_seconds = $TIMEOUT
state_dir = $W/state
scrypt_log2_n = 10
max_failures = 100
secret_key_file = $PG_KEY
CONF
    chmod 0600 "$1"
}
write_conf "$W/direct.conf" "host=$PG_SOCKET port=$PG_PORT requirepeer=postgres dbname=tf_pgb user=tf_pgb" "$W/pg.password"
write_conf "$W/pooled.conf" "host=$PG_BOUNCER port=6432 requirepeer=postgres dbname=tf_pgb user=tf_pgb"
pg_key_init "$ADMIN_BIN" "$W/direct.conf"
mkdir "$W/services"
echo "auth required pam_deny.so" >"$W/services/other"
echo "auth required $MODULE config=$W/pooled.conf" >"$W/services/pooled"
admin() { "$ADMIN_BIN" --config "$W/direct.conf" "$@"; }
admin db-init 2>/dev/null

# What the store sends as startup options, for the role instead.
pg_role_settings tf_pgb "$TIMEOUT"

secret=$(admin enroll daemon --no-confirm --qr none --json 2>/dev/null | json 'd["secret"]')
read -r -a codes <<<"$(admin issue daemon --count 6 --json 2>/dev/null | json '" ".join(d["codes"])')"

# ---- PgBouncer refuses the store's startup options unless told to ignore them ----

pg_bouncer_init "$W/pgbouncer" tf_pgb "$W/pg.password" "$POOL" "$TIMEOUT" ""
pg_bouncer_start
expect_eq "without ignore_startup_parameters = options: denied (PAM_AUTHINFO_UNAVAIL)" $UNAVAIL \
    "$(login pooled daemon "${codes[0]}")"
grep -q "unsupported startup parameter: options" "$PG_BOUNCER/pgbouncer.log" \
    && ok "... PgBouncer refused the options startup parameter" \
    || not_ok "PgBouncer refused the options startup parameter" "$(tail -3 "$PG_BOUNCER/pgbouncer.log")"
pg_bouncer_stop

pg_bouncer_init "$W/pgbouncer" tf_pgb "$W/pg.password" "$POOL" "$TIMEOUT"
pg_bouncer_start
expect_eq "through PgBouncer: a backup code works once" "0 7" \
    "$(login pooled daemon "${codes[0]}") $(login pooled daemon "${codes[0]}")"
totp=$(oathtool --totp -b "$secret")
expect_eq "through PgBouncer: a TOTP code works once" "0 7" \
    "$(login pooled daemon "$totp") $(login pooled daemon "$totp")"
expect_eq "through PgBouncer: a wrong code is refused" $AUTH_ERR "$(login pooled daemon 000000)"
settings=$(runuser -u postgres -- "$PG_BIN/psql" -h "$PG_BOUNCER" -p 6432 -U tf_pgb -d tf_pgb -X -At \
    -c "SELECT current_setting('statement_timeout') || ' ' || current_setting('lock_timeout') || ' '
        || current_setting('idle_in_transaction_session_timeout') || ' ' || current_setting('search_path') || ' '
        || current_setting('jit') || ' ' || current_setting('synchronous_commit')" 2>&1)
expect_eq "the pooled sessions have the role's settings" "${TIMEOUT}s ${TIMEOUT}s ${TIMEOUT}s pg_catalog off on" "$settings"

# ---- sixteen simultaneous logins, one code; server connections bounded ----

max_connections_seen() { # prints the most server sessions of the role seen until $W/stop-poll exists
    local max=0 n
    while [ ! -e "$W/stop-poll" ]; do
        n=$(pg_psql postgres -At -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'tf_pgb'")
        [ "$n" -gt "$max" ] && max=$n
        sleep 0.02
    done
    echo "$max"
}
# The codes issued first: during the rounds only the logins use the server.
read -r -a bin_codes <<<"$(admin issue bin --count "$ROUNDS" --json 2>/dev/null | json '" ".join(d["codes"])')"
max_connections_seen >"$W/max-connections" &
poller=$!
services=()
for ((i = 0; i < PARALLEL; i++)); do services+=(pooled); done
start_drivers bin "${services[@]}"
bad_rounds=""
t0=$(now_ms)
for ((round = 1; round <= ROUNDS; round++)); do
    for fd in "${DRIVER_FD[@]}"; do printf '%s\n' "${bin_codes[round - 1]}" >&"$fd"; done
    wait_results "$round" || { bad_rounds+="round $round: logins did not finish; "; break; }
    got=$(for out in "${DRIVER_OUT[@]}"; do nth_result "$out" "$round"; done | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}')
    [ "$got" = "0×1 7×$((PARALLEL - 1)) " ] || bad_rounds+="round $round: $got; "
done
stop_drivers
echo "# $ROUNDS rounds in $(($(now_ms) - t0)) ms"
touch "$W/stop-poll"
wait "$poller"
expect_eq "$PARALLEL simultaneous logins through PgBouncer, one code: exactly one success in each of $ROUNDS rounds" \
    "" "$bad_rounds"
max=$(cat "$W/max-connections")
[ "$max" -ge 1 ] && [ "$max" -le "$POOL" ] \
    && ok "the server saw at most the pool's $POOL connections of the role ($max)" \
    || not_ok "server connections bounded by the pool" "$max seen, pool $POOL"

# ---- PgBouncer up, the server down ----

pg_server_stop immediate
t=$(now_ms)
rc=$(login pooled daemon "${codes[1]}")
elapsed=$(($(now_ms) - t))
expect_eq "the server down, PgBouncer up: denied (PAM_AUTHINFO_UNAVAIL)" $UNAVAIL "$rc"
[ "$elapsed" -le $((TIMEOUT * 1000 + 1500)) ] && ok "... within pg_timeout_seconds ($elapsed ms)" \
    || not_ok "denied within the timeout" "$elapsed ms"
pg_server_start
deadline=$(($(now_ms) + 10000))
rc=$UNAVAIL
while [ "$rc" = $UNAVAIL ] && [ "$(now_ms)" -lt "$deadline" ]; do
    rc=$(login pooled daemon "${codes[1]}")
done
expect_eq "the server back: the code denied meanwhile works, once" "0 7" "$rc $(login pooled daemon "${codes[1]}")"

sanitizers_quiet "$W/driver.err"
echo "# total $(($(now_ms) - started)) ms"
summary
