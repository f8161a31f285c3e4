# What the PostgreSQL store's server tests (tests/pg/test_*.sh) share: the
# skip without root, the built programs ctest names, a work directory $W
# whose private server is stopped on exit, and the checks' helpers.
# Sourced, after set -euo pipefail; `cleanup_more` (if defined) runs first
# on exit.
# shellcheck shell=bash

if [ "$(id -u)" -ne 0 ]; then
    echo "skip: needs root (runs a private PostgreSQL server as the postgres user)"
    exit 77
fi
ADMIN_BIN=${TWOFACTOR_ADMIN:?}
MODULE=${TWOFACTOR_PAM_MODULE:?}
DRIVER=${TWOFACTOR_LOGIN_DRIVER:?}
PRELOAD=${TWOFACTOR_PAM_PRELOAD:?}
pg_tests=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=pg_server.sh
. "$pg_tests/pg_server.sh"
# shellcheck source=../tap.sh
. "$pg_tests/../tap.sh"

# PAM return codes.
# shellcheck disable=SC2034 # each test uses some
SUCCESS=0 SERVICE_ERR=3 AUTH_ERR=7 UNAVAIL=9 MAXTRIES=11

W=$(mktemp -d /tmp/twofactor-pg-test.XXXXXX)
pg_key_file "$W" # PG_KEY, for secret_key_file
driver_pids=()
cleanup() {
    set +e
    for pid in "${driver_pids[@]}"; do kill "$pid" 2>/dev/null; done
    if declare -F cleanup_more >/dev/null; then cleanup_more; fi
    pg_server_cleanup
    rm -rf "$W"
}
trap cleanup EXIT

# expect_eq NAME WANT GOT
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want '$2', got '$3'"; fi; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# A port on 127.0.0.1 that nothing listens on (just now).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The private server with TLS on 127.0.0.1 (a free port) and its socket,
# started, and stopped if this script is killed.
pg_server_tls_loopback() {
    PG_PORT=$(free_port)
    PG_LISTEN=127.0.0.1
    pg_server_init "$W"
    pg_server_tls
    pg_server_start
    pg_server_watchdog $$ "$W"
}

# The login driver's environment: the built module under pam_wrapper, with
# the services in $W/services. "${driver_env[@]}" "$DRIVER" SERVICE USER &
# makes $! the driver itself.
driver_env=(env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/services")
run_driver() { # run_driver SERVICE USER: answers from stdin, "result RC" lines out
    "${driver_env[@]}" "$DRIVER" "$1" "$2"
}
login() { # login SERVICE USER CODE: prints the PAM return code
    printf '%s\n' "$3" | run_driver "$1" "$2" 2>>"$W/driver.err" | sed -n 's/^result //p'
}

# Sanitizer builds: what the module reported in the login processes
# (their stderr, FILE).
sanitizers_quiet() {
    if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error' "$1" 2>/dev/null; then
        not_ok "sanitizers are quiet in the login processes" "$(grep -m 5 -E 'Sanitizer|runtime error' "$1")"
    fi
}

# Long-lived drivers, one per login slot, for simultaneous logins:
start_drivers() { # start_drivers USER SERVICE...: one driver per service, fds in DRIVER_FD
    local user=$1 i=0 fd
    shift
    DRIVER_FD=()
    DRIVER_OUT=()
    for service in "$@"; do
        local fifo=$W/in.$user.$i out=$W/out.$user.$i
        mkfifo "$fifo"
        : >"$out"
        run_driver "$service" "$user" <"$fifo" >"$out" 2>>"$W/driver.err" &
        driver_pids+=($!)
        exec {fd}>"$fifo"
        sleep 0.02 # pam_wrapper picks its /tmp/pam.X copy unlocked: one at a time
        DRIVER_FD+=("$fd")
        DRIVER_OUT+=("$out")
        i=$((i + 1))
    done
}
stop_drivers() {
    local fd
    for fd in "${DRIVER_FD[@]}"; do exec {fd}>&-; done
    wait "${driver_pids[@]}" 2>/dev/null || true
    driver_pids=()
}
# results N: waits until every driver printed N results (at most 60 s).
wait_results() {
    local n=$1 deadline=$(($(now_ms) + 60000)) out
    for out in "${DRIVER_OUT[@]}"; do
        while [ "$(grep -c '^result ' "$out")" -lt "$n" ]; do
            [ "$(now_ms)" -lt "$deadline" ] || return 1
            sleep 0.01
        done
    done
}
# nth_result OUT N: the Nth result of one driver.
nth_result() { grep '^result ' "$1" | sed -n "${2}p" | cut -d' ' -f2; }
