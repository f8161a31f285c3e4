#!/usr/bin/env bash
# Per-login cost of the PostgreSQL store against the file store: whole PAM
# transactions through the built pam_twofactor.so under pam_wrapper (tests/pam's
# login driver, no fail delay), one at a time, each timed from the answer
# written to the result read. A private PostgreSQL 15 server
# (tests/pg/pg_server.sh) on a Unix socket and on 127.0.0.1 with TLS
# (verify-full, a private CA), SCRAM passwords, fsync on, default settings
# otherwise. Three cases per store:
#   wrong    a wrong 6-digit code: no KDF, so this is the store's own cost
#            (read before the prompt, read, lock, read, write the failure count)
#   backup   a backup code accepted, at the default scrypt cost (2^14, 8, 1):
#            what a user waits for
#   backup10 the same at scrypt 2^10, where the store's share shows more
# Then, without PAM, where the store's time goes (pg_store_timing.cpp,
# compiled here against the build's core library).
# Needs root. Usage: bench/pg_bench.sh [BUILD_DIR] [LOGINS_PER_CASE]
# Results: bench/RESULTS.md, section 8 ("Earlier measurements").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
N=${2:-200}
ADMIN_BIN=$build/admin_tool/twofactor-admin
MODULE=$build/pam_module/pam_twofactor.so
DRIVER=$build/tests/pam/pam_login_driver
PRELOAD=${TWOFACTOR_PAM_PRELOAD:-$(pkg-config --variable=libdir pam 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/libpam_wrapper.so}
for f in "$ADMIN_BIN" "$MODULE" "$DRIVER" "$PRELOAD"; do
    [ -e "$f" ] || { echo "missing $f (build first: cmake --build $build)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (runs a private PostgreSQL server)" >&2; exit 1; }

# shellcheck source=../tests/pg/pg_server.sh
. "$here/../tests/pg/pg_server.sh"
W=$(mktemp -d /tmp/twofactor-pg-bench.XXXXXX)
pg_key_file "$W" # PG_KEY: the store writes no secret in clear
cleanup() { pg_server_cleanup; rm -rf "$W"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port) PG_LISTEN=127.0.0.1
pg_server_init "$W"
pg_server_tls
pg_server_start
pg_server_watchdog $$ "$W"
pg_database tf_bench "$W/pg.password"
mkdir -m 0700 "$W/state" "$W/services"
echo "auth required pam_deny.so" >"$W/services/other"

write_conf() { # write_conf NAME STORE [SERVER]: SERVER is the socket unless given
    cat >"$W/$1.conf" <<CONF
store = $2
pg_conninfo = ${3:-host=$PG_SOCKET requirepeer=postgres} port=$PG_PORT dbname=tf_bench user=tf_bench
pg_password_file = $W/pg.password
state_dir = $W/state
max_failures = 100
secret_key_file = $PG_KEY
CONF
    chmod 0600 "$W/$1.conf"
    echo "auth required $MODULE config=$W/$1.conf" >"$W/services/$1"
}
write_conf file file
write_conf pg_unix postgresql
write_conf pg_tcp postgresql "host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=$PG_CA"
pg_key_init "$ADMIN_BIN" "$W/pg_unix.conf"
"$ADMIN_BIN" --config "$W/pg_unix.conf" db-init 2>/dev/null

admin() { local conf=$1; shift; "$ADMIN_BIN" --config "$W/$conf.conf" "$@"; }
codes() { # codes CONF USER COUNT
    admin "$1" issue "$2" --count "$3" --json 2>/dev/null <<<"" \
        | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["codes"]))'
}
# The scrypt cost comes from the config: a copy with another scrypt_log2_n.
with_cost() { sed -i "/^scrypt_log2_n/d" "$W/$1.conf"; echo "scrypt_log2_n = $2" >>"$W/$1.conf"; }

# time_logins SERVICE USER < answers: one line of microseconds per login.
time_logins() {
    local service=$1 user=$2 line t0 t1
    coproc DRV { env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/services" \
        "$DRIVER" "$service" "$user" 2>/dev/null; }
    while read -r answer; do
        t0=${EPOCHREALTIME/./}
        printf '%s\n' "$answer" >&"${DRV[1]}"
        while read -r -u "${DRV[0]}" line; do [[ $line == result* ]] && break; done
        t1=${EPOCHREALTIME/./}
        echo $((t1 - t0)) "${line#result }"
    done
    eval "exec ${DRV[1]}>&-"
    wait "$DRV_PID" 2>/dev/null || true
}

# stats NAME EXPECTED_RC < "usec rc" lines
stats() {
    sort -n | awk -v name="$1" -v want="$2" '
        function codes(seen,   k, out) { for (k in seen) out = out " rc " k " x" seen[k]; return out }
        { t[NR] = $1 / 1000; sum += t[NR]; if ($2 != want) { bad++; seen[$2]++ } }
        END {
            printf "| %-24s | %5d | %7.2f | %7.2f | %7.2f | %7.2f |%s\n", name, NR, sum / NR,
                t[int(NR * 0.5 + 0.5)], t[int(NR * 0.9 + 0.5)], t[int(NR * 0.99 + 0.5)],
                bad ? " " bad " unexpected results:" codes(seen) : ""
        }'
}

echo "# twofactor PostgreSQL store bench: $N logins per case, $(nproc) CPUs, $(uname -r)"
echo "# PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| case                     |     n | mean ms |  p50 ms |  p90 ms |  p99 ms |"
echo "| ------------------------ | ----- | ------- | ------- | ------- | ------- |"
for store in ${STORES:-file pg_unix pg_tcp}; do
    user=news
    admin "$store" enroll "$user" --no-confirm --qr none --json >/dev/null 2>&1 || true
    # wrong code: a 6-digit code that is not the current one (in batches,
    # unlocking between, so the counter never reaches max_failures).
    for ((b = 0; b < N; b += 50)); do
        admin "$store" unlock "$user" >/dev/null 2>&1 || true
        for ((i = 0; i < (N - b < 50 ? N - b : 50); i++)); do echo 000000; done | time_logins "$store" "$user"
    done | stats "$store wrong code" 7
    for cost in 14 10; do
        with_cost "$store" "$cost"
        for ((b = 0; b < N; b += 100)); do
            codes "$store" "$user" $((N - b < 100 ? N - b : 100)) | time_logins "$store" "$user"
        done | stats "$store backup (2^$cost)" 0
    done
done

echo
echo "| store    | operation (no PAM)                     |     n | mean ms |  p50 ms |  p90 ms |"
echo "| -------- | -------------------------------------- | ----- | ------- | ------- | ------- |"
if "${CXX:-c++}" -std=c++17 -O2 -I"$here/../common" -I"$here/../common/pg" $(pkg-config --cflags libpq) \
    -o "$W/pg_store_timing" "$here/pg_store_timing.cpp" "$build/common/pg/libtwofactor_pg.a" \
    "$build/common/libtwofactor_core.a" $(pkg-config --libs libpq liboath libcrypto) -ldl 2>"$W/cc.err"; then
    for store in ${STORES:-pg_unix pg_tcp}; do
        [ "$store" = file ] && continue
        "$W/pg_store_timing" "$W/$store.conf" news "$N" "$store"
    done
else
    echo "(pg_store_timing did not build: $(head -c 300 "$W/cc.err"))"
fi

