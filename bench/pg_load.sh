#!/usr/bin/env bash
# The PostgreSQL store under a fleet's load, directly and through PgBouncer
# (transaction pooling, set up as docs/fleet.md recommends: a Unix socket in
# a directory of PgBouncer's user, auth_type = trust there, the role's
# settings instead of the startup options).
#
# 1. One login at a time, in one process (bench/pam_bench, no fail delay):
#    a wrong TOTP code through the file store, the PostgreSQL server's
#    socket and PgBouncer's, interleaved. The cost of a login, against the
#    file store's.
# 2. bench/pg_load: N simulated hosts (processes, each with its own
#    configuration and PAM service) logging in at once, wrong codes then
#    right ones, directly and through PgBouncer: logins per second, p50/p99,
#    errors, double accepts, and the most server connections of the role
#    seen (pg_stat_activity, polled every 200 ms).
# A private PostgreSQL 15 server (tests/pg/pg_server.sh) and PgBouncer,
# started and stopped here. Needs root.
# Usage: bench/pg_load.sh BUILD_DIR [HOSTS] [LOGINS_PER_HOST] [POOL]
# (PG_LOAD_SINGLE: logins per row of part 1, default 300;
# PG_LOAD_DIRECT_LOGINS: logins per host directly, default a quarter;
# PG_LOAD_RATES: the paced runs' rates, default "300 200";
# PG_LOAD_DIR: where the server's data and the file store's state live,
# default /var/tmp: on the disk, as /var/lib/twofactor and a server's data
# directory are, so both stores pay for their fsyncs. Part 1 also runs the
# file store from /dev/shm, a tmpfs, where a login costs only its CPU.)
# With strace installed, also what one login does (statements, round trips).
# Prints Markdown; scripts/bench puts it into bench/RESULTS.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: bench/pg_load.sh BUILD_DIR [HOSTS] [LOGINS] [POOL]}" && pwd)
HOSTS=${2:-32}
LOGINS=${3:-100}
POOL=${4:-8}
# Direct connections cost far more: fewer logins per host there.
DIRECT_LOGINS=${PG_LOAD_DIRECT_LOGINS:-$((LOGINS / 4))}
SINGLE=${PG_LOAD_SINGLE:-300}
MODULE=$build/pam_module/pam_twofactor.so
ADMIN_BIN=$build/admin_tool/twofactor-admin
LOAD=$build/bench/pg_load
HARNESS=$build/bench/pam_bench
MAKE_USERS=$build/bench/make_users
PRELOAD=$(pkg-config --variable=libdir pam 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/libpam_wrapper.so
PRELOAD=$PRELOAD:$build/bench/libbench_preload.so
PGBOUNCER=${PGBOUNCER:-/usr/sbin/pgbouncer}
for f in "$MODULE" "$ADMIN_BIN" "$LOAD" "$HARNESS" "$MAKE_USERS" "$PGBOUNCER"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "missing $f" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (runs a private PostgreSQL server)" >&2; exit 1; }

# shellcheck source=../tests/pg/pg_server.sh
. "$here/../tests/pg/pg_server.sh"
W=$(mktemp -d "${PG_LOAD_DIR:-/var/tmp}/twofactor-pg-load.XXXXXX")
SHM_STATE=$(mktemp -d /dev/shm/twofactor-pg-load.XXXXXX)
pg_key_file "$W" # PG_KEY: the store writes no secret in clear
poller=""
pgbouncer_pid=0
cleanup() {
    set +e
    [ -n "$poller" ] && kill "$poller" 2>/dev/null
    pg_bouncer_stop
    pg_server_cleanup
    rm -rf "$W" "$SHM_STATE"
}
trap cleanup EXIT

pg_server_init "$W"
pg_server_start
pg_server_watchdog $$ "$W"
pg_database tf_load "$W/pg.password"
pg_psql postgres -c "ALTER SYSTEM SET max_connections = 200" >/dev/null
pg_server_stop
pg_server_start

# PgBouncer, as in tests/pg/test_pgbouncer.sh, and the role's settings.
pg_bouncer_init "$W/pgbouncer" tf_load "$W/pg.password" "$POOL" 5
pg_bouncer_start >&2
pgbouncer_pid=$(cat "$PG_BOUNCER/pgbouncer.pid")
pg_role_settings tf_load 5

# Configurations: the file store, the server directly, PgBouncer; one per
# simulated host (host00 ... through whichever the run uses).
mkdir -m 0700 "$W/state" "$W/services"
echo "auth required pam_deny.so" >"$W/services/other"
conf() { # conf FILE STORE CONNINFO [PASSWORD_FILE [STATE_DIR]]
    cat >"$1" <<CONF
store = $2
pg_conninfo = $3
${4:+pg_password_file = $4}
state_dir = ${5:-$W/state}
max_failures = 100
secret_key_file = $PG_KEY
CONF
    chmod 0600 "$1"
}
direct="host=$PG_SOCKET port=$PG_PORT requirepeer=postgres dbname=tf_load user=tf_load"
pooled="host=$PG_BOUNCER port=6432 requirepeer=postgres dbname=tf_load user=tf_load"
conf "$W/file.conf" file "$direct"
conf "$W/file-tmpfs.conf" file "$direct" "" "$SHM_STATE"
conf "$W/direct.conf" postgresql "$direct" "$W/pg.password"
conf "$W/pooled.conf" postgresql "$pooled"
for name in file file-tmpfs direct pooled; do echo "auth required $MODULE config=$W/$name.conf" >"$W/services/$name"; done
host_services() { # host_services direct|pooled: host00.. get their own copy of that configuration
    local h
    for ((h = 0; h < HOSTS; h++)); do
        cp "$W/$1.conf" "$W/host$h.conf"
        printf 'auth required %s config=%s/host%s.conf\n' "$MODULE" "$W" "$h" >"$W/services/$(printf 'host%02d' "$h")"
    done
}
pg_key_init "$ADMIN_BIN" "$W/direct.conf"
"$ADMIN_BIN" --config "$W/direct.conf" db-init 2>/dev/null

# Users l000000 ... (bench_preload answers for them as for a local
# account): TOTP, one secret, in both stores.
HEX=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
B32=$(python3 -c "import base64,sys; print(base64.b32encode(bytes.fromhex(sys.argv[1])).decode())" "$HEX")
USERS=$((4 * HOSTS * LOGINS / 2 + 1000))
"$MAKE_USERS" --dir "$W/state" --prefix l --count 1000 --totp-hex "$HEX" >/dev/null
"$MAKE_USERS" --dir "$SHM_STATE" --prefix l --count 1000 --totp-hex "$HEX" >/dev/null
pg_psql tf_load \
    -c "INSERT INTO twofactor.users (name) SELECT 'l' || lpad(g::text, 6, '0') FROM generate_series(0, $USERS - 1) g" \
    -c "INSERT INTO twofactor.authenticators (user_id, name, type, algorithm, digits, period, secret_base32, enrolled_at)
        SELECT user_id, 'default', 'totp', 'sha1', 6, 30, '$B32', 1700000000 FROM twofactor.users" \
    -c "VACUUM ANALYZE" >/dev/null

run() { LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/services" "$@"; }

echo "Run: $(nproc) CPUs, $(uname -r), PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}')," \
    "$("$PGBOUNCER" --version | head -1), $(date -u +%Y-%m-%dT%H:%MZ), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "### One login at a time, wrong TOTP code ($SINGLE logins per row, interleaved)"
echo
run "$HARNESS" --n "$SINGLE" --warmup 10 --ref file >"$W/single.md" \
    --case "name=file service=file users=l:1000 wrong=$HEX expect=auth_err reset=$W/state:50 resetkey=$PG_KEY" \
    --case "name=file-tmpfs service=file-tmpfs users=l:1000 wrong=$HEX expect=auth_err reset=$SHM_STATE:50 resetkey=$PG_KEY" \
    --case "name=postgresql-socket service=direct users=l:1000 wrong=$HEX expect=auth_err" \
    --case "name=pgbouncer-socket service=pooled users=l:1000 wrong=$HEX expect=auth_err"
cat "$W/single.md"
echo

# What one login does through PgBouncer: a wrong code, then a right one,
# each a single login in a process of its own. The client connections it
# opens and the messages it sends (strace: a connect() per connection, a
# send per round trip, plus the Terminate that closes each connection),
# and every statement the server ran for it (log_statement = all, for
# these two logins only).
if command -v strace >/dev/null; then
    echo "### What one login through PgBouncer does (one user, log_statement = all)"
    echo
    pg_psql postgres -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    counted=$(printf 'l%06d' $((USERS - 1)))
    for kind in wrong right; do
        spec="wrong=$HEX expect=auth_err"
        [ "$kind" = right ] && spec="totp=$HEX expect=success"
        from=$(($(stat -c %s "$PG_LOG") + 1))
        run strace -f -qq -e trace=connect,sendto -o "$W/strace-$kind" \
            "$HARNESS" --n 1 --warmup 0 --case "name=$kind service=pooled user=$counted $spec" >"$W/count-$kind"
        sleep 0.3 # the server logs after it answered
        connects=$(grep -c 'connect(.*\.s\.PGSQL\.6432' "$W/strace-$kind" || true)
        sends=$(grep 'sendto(' "$W/strace-$kind" | grep -vc 'sendto([0-9]*, "<' || true) # not syslog's
        tail -c +"$from" "$PG_LOG" | sed -n 's/^.*LOG:  \(statement\|execute [^:]*\): //p' >"$W/statements-$kind"
        echo "$kind code: $connects connections to PgBouncer, $sends messages sent (a round trip each but" \
            "the Terminate closing a connection), $(wc -l <"$W/statements-$kind") statements:"
        echo
        awk '{ s = $0; if (length(s) > 100) s = substr(s, 1, 97) "..."; printf "%2d. `%s`\n", NR, s }' \
            "$W/statements-$kind"
        echo
    done
    pg_psql postgres -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
fi

# poll_start / poll_stop: the most server sessions of the role meanwhile
# (in $W/max).
# CPU clock ticks so far: the server (the postmaster, its reaped and its
# live children), PgBouncer, and the whole machine (busy, total).
ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_now() {
    local main server pid
    main=$(head -n 1 "$PG_DATA/postmaster.pid")
    server=$(ticks "$main")
    for pid in $(pgrep -P "$main"); do server=$((server + $(ticks "$pid"))); done
    echo "$server $(ticks "$pgbouncer_pid") $(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)"
}
cpu_report() { # cpu_report BEFORE AFTER LOGINS: server and PgBouncer ms per login, machine busy %
    local hz
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" -v n="$3" -v b="$1" -v a="$2" 'BEGIN {
        split(b, x, " "); split(a, y, " ")
        printf "%.2f | %.2f | %.0f %%", (y[1] - x[1]) * 1000 / hz / n, (y[2] - x[2]) * 1000 / hz / n,
            100 * (y[3] - x[3]) / (y[4] - x[4]) }'
}
poll_start() {
    rm -f "$W/poll.stop"
    (
        max=0
        while [ ! -e "$W/poll.stop" ]; do
            n=$(pg_psql postgres -At -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'tf_load'" || echo 0)
            [ "$n" -gt "$max" ] && max=$n
            sleep 0.2
        done
        echo "$max" >"$W/max"
    ) &
    poller=$!
}
poll_stop() {
    touch "$W/poll.stop"
    wait "$poller" || true
    poller=""
}

echo "### $HOSTS simulated hosts at once, $LOGINS logins each through PgBouncer (pool: $POOL server connections), $DIRECT_LOGINS each directly"
echo
echo "| run | hosts | logins | s | logins/s | p50 ms | p99 ms | accepted | errors | double accepts | CPU ms/login: hosts | max server connections | CPU ms/login: server | CPU ms/login: PgBouncer | machine busy |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|"
# load_row NAME LOGINS LABEL PG_LOAD_OPTION...: one pg_load run of HOSTS
# hosts x LOGINS logins on users no earlier run used; prints its table row
# with the most server connections seen and the CPU per login, and keeps it
# in $W/row-NAME.
first=0
load_row() {
    local name=$1 logins=$2 label=$3 row rc=0 n cpu_before
    shift 3
    mkdir -p "$W/out-$name"
    poll_start
    cpu_before=$(cpu_now)
    row=$(run "$LOAD" --hosts "$HOSTS" --logins "$logins" --secret "$HEX" --users "l:$first" \
        --out "$W/out-$name" --label "$label" "$@" 2>"$W/load.err") || rc=$?
    poll_stop
    n=$(awk -F'|' '{ gsub(/ /, "", $4); print $4 }' <<<"$row")
    echo "${row% |} | $(cat "$W/max") | $(cpu_report "$cpu_before" "$(cpu_now)" "$n") |" | tee "$W/row-$name"
    [ "$rc" -eq 0 ] || echo "(pg_load exit $rc: $(head -c 300 "$W/load.err"))"
    first=$((first + HOSTS * logins / 2))
}
for target in direct pooled; do
    host_services "$target"
    for kind in wrong right; do
        logins=$LOGINS
        [ "$target" = direct ] && logins=$DIRECT_LOGINS
        load_row "$target-$kind" "$logins" "$target, $kind code" --kind "$kind"
    done
done
# Then logins arriving at a fixed rate, as at a fleet (pg_load --rate): the
# throughput target is a rate the store must sustain with p99 under 100 ms,
# which the back-to-back runs cannot show (there the mean latency is
# HOSTS / throughput by Little's law: 107 ms for 32 hosts at 300/s).
# PG_LOAD_RATES: the rates, in logins per second; the first is the target's.
read -r -a RATES <<<"${PG_LOAD_RATES:-300 200}"
RATE=${RATES[0]}
host_services pooled
for rate in "${RATES[@]}"; do
    load_row "paced-$rate" "$LOGINS" "pooled, right code, ${rate}/s" --kind right --rate "$rate"
done
echo
echo "The rows with a rate are paced: $HOSTS hosts start that many logins per second in all on a schedule (login i"
echo "of host H at (i × $HOSTS + H) / rate s), each latency counted from when the login was due, so falling behind shows."
echo "logins/s there is the logins over the time from the first due to the last finished."
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# The targets, from the tables above.
echo "### Targets"
echo
median_of() { awk -F'|' -v n="$1" '{ gsub(/ /, "", $2) } $2 == n { gsub(/ /, "", $4); print $4 }' "$W/single.md"; }
field() { awk -F'|' -v i="$2" '{ gsub(/ /, "", $i); print $i }' "$W/row-$1"; }
yes_no() { if awk "BEGIN { exit !($1) }"; then echo yes; else echo "**no**"; fi; }
ratio=$(awk -v a="$(median_of pgbouncer-socket)" -v b="$(median_of file)" 'BEGIN { printf "%.2f", a / b }')
rate=$(field pooled-right 6) paced_rate=$(field "paced-$RATE" 6) p99=$(field "paced-$RATE" 8)
conns=$(for r in pooled-wrong pooled-right "${RATES[@]/#/paced-}"; do field "$r" 13; done | sort -n | tail -1)
echo "| target | measured | met |"
echo "|---|---|---|"
echo "| a login through PgBouncer ≤ 2× a file-store login (median, wrong code, one process) | $(median_of pgbouncer-socket) ms against $(median_of file) ms: **${ratio}×** | $(yes_no "$ratio <= 2") |"
echo "| ≥ 300 right-code logins/s with $HOSTS hosts through PgBouncer, sustained | **$paced_rate**/s paced at $RATE/s (back to back: **$rate**/s) | $(yes_no "$paced_rate >= 0.98 * 300 && $RATE >= 300") |"
echo "| p99 < 100 ms at that rate | **$p99 ms** | $(yes_no "$p99 < 100") |"
echo "| no error, no double accept (every run) | $(cat "$W"/row-* | awk -F'|' '{ gsub(/ /, "", $10); gsub(/ /, "", $11); e += $10 + 0; d += $11 } END { print e " errors, " d " double accepts" }') | $(yes_no "$(cat "$W"/row-* | awk -F'|' '{ e += $10 + 0; d += $11 } END { print e + d }') == 0") |"
echo "| server connections ≤ PgBouncer's pool ($POOL) | at most **$conns** seen through PgBouncer | $(yes_no "$conns <= $POOL") |"
