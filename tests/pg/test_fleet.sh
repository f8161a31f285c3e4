#!/usr/bin/env bash
# The PostgreSQL store as a fleet uses it: a private PostgreSQL 15 server
# (pg_server.sh) and two "hosts", two configurations with store = postgresql
# in separate processes, logging in through the built pam_twofactor.so under
# pam_wrapper (tests/pam's pam_login_driver: one PAM transaction per line,
# no fail delay). Checks: a code or TOTP step used through one host is
# refused through the other; lockout counts across hosts, for an account
# without a second factor too (a row with the count alone); sixteen
# simultaneous logins with one code, split over both hosts, accept it
# exactly once, fifty rounds, for a user with a TOTP app and an HOTP token
# (rounds alternate backup codes and token codes); a schema-1 database
# migrates and its users log in; a server stopped, frozen or holding the lock
# in the middle of logins, or a synchronous standby that does not confirm,
# means PAM_AUTHINFO_UNAVAIL within the timeout, nothing lost, and logins
# work again after; unsafe settings and incompatible schema versions fail
# closed; migrate file -> postgresql -> file keeps used codes used and unused
# ones usable exactly once; import from google-authenticator and otpauth
# writes into the database (--dry-run nothing) and the imported codes log in
# once.
# Needs root (the server runs as `postgres`); skips with 77 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pg_login_test.sh
. "$here/pg_login_test.sh"
ROUNDS=${TWOFACTOR_PG_ROUNDS:-50}
PARALLEL=16
TIMEOUT=2 # pg_timeout_seconds of the hosts
command -v oathtool >/dev/null || { echo "oathtool is required"; exit 1; }
command -v google-authenticator >/dev/null || { echo "google-authenticator is required (libpam-google-authenticator)"; exit 1; }

# ---- the server, the database, two hosts ----

started=$(now_ms)
pg_server_init "$W"
pg_server_start
pg_server_watchdog $$ "$W"
pg_database tf_fleet "$W/pg.password"
mkdir -m 0700 "$W/state"

# host A and host B: the same database, separate files, as on two machines.
# file.conf is a host still on the file store (for migrate).
write_conf() { # write_conf FILE STORE [TIMEOUT]
    cat >"$1" <<CONF
store = $2
pg_conninfo = host=$PG_SOCKET requirepeer=postgres port=$PG_PORT dbname=tf_fleet user=tf_fleet
pg_password_file = $W/pg.password
pg_timeout_seconds = ${3:-$TIMEOUT}
state_dir = $W/state
scrypt_log2_n = 10
max_failures = 100
lockout_seconds = 600
secret_key_file = $PG_KEY
CONF
    chmod 0600 "$1"
}
write_conf "$W/hostA.conf" postgresql
write_conf "$W/hostB.conf" postgresql
write_conf "$W/file.conf" file
# For the rounds of simultaneous logins: sixteen logins queue on one row
# lock, and on a loaded 2-core machine (the sanitizer build) the last can
# wait longer than 2 s: a correct PAM_AUTHINFO_UNAVAIL, but not what those
# rounds are about.
write_conf "$W/hostA_busy.conf" postgresql 30
write_conf "$W/hostB_busy.conf" postgresql 30
pg_key_init "$ADMIN_BIN" "$W/hostA.conf"

mkdir "$W/services"
echo "auth required pam_deny.so" >"$W/services/other"
# (libpam lower-cases service names.)
for host in hostA hostB hostA_busy hostB_busy; do
    service=$(echo "$host" | tr A-Z a-z)
    echo "auth required $MODULE config=$W/$host.conf" >"$W/services/$service"
    echo "auth required $MODULE config=$W/$host.conf max_failures=5" >"$W/services/${service}_lock"
done
echo "auth required $MODULE config=$W/file.conf" >"$W/services/file"

admin() { "$ADMIN_BIN" --config "$W/${CONF:-hostA}.conf" "$@"; }
remaining() { # remaining USER [CONF]
    CONF=${2:-hostA} admin list "$1" --json | json 'd["users"][0]["codes"]["remaining"]'
}

echo "# PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') up in $(($(now_ms) - started)) ms"

# ---- schema ----

expect_eq "a login before db-init is refused as unavailable" $UNAVAIL "$(login hosta daemon 12345678)"
# A schema someone else made first is not taken over: its owner could
# drop or replace the tables.
pg_psql tf_fleet -c "CREATE ROLE tf_other" -c "CREATE SCHEMA twofactor AUTHORIZATION tf_other" >/dev/null
! admin db-init 2>"$W/err" && grep -q "a schema named twofactor already exists, owned by role tf_other" "$W/err" \
    && ok "db-init refuses a twofactor schema owned by another role" \
    || not_ok "db-init refuses a twofactor schema owned by another role" "$(cat "$W/err")"
pg_psql tf_fleet -c "DROP SCHEMA twofactor" -c "DROP ROLE tf_other" >/dev/null
admin db-init 2>"$W/err" && grep -Eq "created the twofactor schema at version [0-9]+$" "$W/err" \
    && ok "db-init creates the schema" || not_ok "db-init creates the schema" "$(cat "$W/err")"
LATEST=$(sed -n 's/.*created the twofactor schema at version \([0-9]*\).*/\1/p' "$W/err")
NEXT=$((LATEST + 1))
admin db-init 2>"$W/err" && grep -q "already exists" "$W/err" \
    && ok "db-init again changes nothing" || not_ok "db-init again changes nothing" "$(cat "$W/err")"
admin db-migrate 2>"$W/err" && grep -q "nothing to do" "$W/err" \
    && ok "db-migrate on a current schema does nothing" || not_ok "db-migrate on a current schema" "$(cat "$W/err")"

# A newer schema: used if its migrations kept this build compatible,
# refused (fail closed) if not.
read -r -a lp_codes <<<"$(admin issue lp --count 3 --json 2>/dev/null | json '" ".join(d["codes"])')"
sql_version() { pg_psql tf_fleet -c "$1" >/dev/null; }
# This build's version, and the next one.
LATEST=$(pg_psql tf_fleet -At -c "SELECT max(version) FROM twofactor.schema_version")
NEXT=$((LATEST + 1))
sql_version "INSERT INTO twofactor.schema_version (version, oldest_compatible, description) VALUES ($NEXT, $LATEST, 'test')"
expect_eq "schema version $NEXT, compatible with $LATEST: logins work" $SUCCESS "$(login hosta lp "${lp_codes[0]}")"
sql_version "UPDATE twofactor.schema_version SET oldest_compatible = $NEXT WHERE version = $NEXT"
expect_eq "schema version $NEXT, incompatible: PAM_AUTHINFO_UNAVAIL" $UNAVAIL "$(login hosta lp "${lp_codes[1]}")"
set +e
admin list >/dev/null 2>"$W/err"
rc=$?
set -e
expect_eq "... and twofactor-admin says to upgrade (exit 1)" "1 yes" "$rc $(grep -q 'upgrade twofactor' "$W/err" && echo yes)"
sql_version "DELETE FROM twofactor.schema_version WHERE version = $NEXT"
expect_eq "back at version $LATEST: the code refused meanwhile works" $SUCCESS "$(login hostb lp "${lp_codes[1]}")"

# A database at schema version 1 (the first release: one TOTP secret per
# user in totp_secrets), made from migration 1's own SQL: db-migrate
# brings it up to date, its users log in with the same secret, the step
# they spent stays spent, and totp_secrets is gone.
pg_database tf_v1 "$W/v1.password"
v1_step=$(($(date +%s) / 30 - 1))
sed -e 's/tf_fleet/tf_v1/g' -e "s|$W/pg.password|$W/v1.password|" "$W/hostA.conf" >"$W/v1.conf"
chmod 0600 "$W/v1.conf"
echo "auth required $MODULE config=$W/v1.conf" >"$W/services/v1"
v1_psql() { runuser -u postgres -- "$PG_BIN/psql" -h "$PG_SOCKET" -p "$PG_PORT" -X -q -v ON_ERROR_STOP=1 -d tf_v1 "$@"; }
{
    echo "SET ROLE tf_v1; CREATE SCHEMA twofactor;"
    echo "CREATE TABLE twofactor.schema_version (version integer PRIMARY KEY CHECK (version > 0),"
    echo " oldest_compatible integer NOT NULL CHECK (oldest_compatible BETWEEN 1 AND version),"
    echo " description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
    awk '/R"SQL\(/ { on = 1; next } /\)SQL"/ { if (on) exit } on' "$here/../../common/pg/pg_schema.cpp"
    echo "INSERT INTO twofactor.schema_version VALUES (1, 1, 'first release');"
    echo "INSERT INTO twofactor.users (name) VALUES ('daemon');"
    echo "INSERT INTO twofactor.totp_secrets SELECT user_id, 'sha1', 6, 30, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1700000000,"
    echo " $v1_step FROM twofactor.users;"
    echo "INSERT INTO twofactor.last_logins SELECT user_id, 1700000100, 'totp', 'sshd', '-', 'ssh' FROM twofactor.users;"
} | v1_psql >/dev/null
v1_secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
expect_eq "a schema-1 database: logins refused until db-migrate" $UNAVAIL "$(login v1 daemon "$(oathtool --totp -b $v1_secret)")"
CONF=v1 admin db-migrate 2>"$W/err" && grep -q "migrated the twofactor schema from version 1 to version $LATEST" "$W/err" \
    && ok "db-migrate takes a schema-1 database to version $LATEST" || not_ok "db-migrate from schema 1" "$(cat "$W/err")"
v1_row() { v1_psql -At -c "SELECT coalesce(left(secret_sealed, 10), '-') || ' ' || coalesce(secret_base32, '-') FROM twofactor.authenticators"; }
expect_eq "... with secret_sealed (migration 5); the row is still in clear" "- $v1_secret" "$(v1_row)"
expect_eq "... the step spent before stays spent" $AUTH_ERR \
    "$(login v1 daemon "$(oathtool --totp -b $v1_secret --now "@$((v1_step * 30))")")"
expect_eq "... its user logs in with the same secret" $SUCCESS "$(login v1 daemon "$(oathtool --totp -b $v1_secret)")"
expect_eq "... and the logins sealed the row" "aes256gcm: -" "$(v1_row)"
expect_eq "... as the authenticator default; totp_secrets is gone" "default totp|0" \
    "$(v1_psql -At -c "SELECT string_agg(name || ' ' || type, ','), (SELECT count(*) FROM pg_tables WHERE tablename = 'totp_secrets') FROM twofactor.authenticators")"
expect_eq "... and the last login names it" "totp default" \
    "$(CONF=v1 admin list daemon --json | json 'd["users"][0]["last_login"]["method"] + " " + d["users"][0]["last_login"]["authenticator"]')"

# ---- a code used through one host is spent on both ----

secret=$(admin enroll daemon --no-confirm --qr none --json 2>/dev/null | json 'd["secret"]')
read -r -a codes <<<"$(admin issue daemon --json 2>/dev/null | json '" ".join(d["codes"])')"
expect_eq "backup code accepted through host A" $SUCCESS "$(login hosta daemon "${codes[0]}")"
expect_eq "the same code refused through host B" $AUTH_ERR "$(login hostb daemon "${codes[0]}")"
expect_eq "and through host A again" $AUTH_ERR "$(login hosta daemon "${codes[0]}")"
expect_eq "another code accepted through host B" $SUCCESS "$(login hostb daemon "${codes[1]}")"
expect_eq "8 of 10 codes left, as both hosts see it" 8 "$(remaining daemon hostB)"

totp=$(oathtool --totp -b "$secret")
expect_eq "TOTP code accepted through host A" $SUCCESS "$(login hosta daemon "$totp")"
expect_eq "the same TOTP code replayed through host B is refused" $AUTH_ERR "$(login hostb daemon "$totp")"
# A code from a device five minutes behind: refused; the skew is kept in
# the database, so list through the other host shows it.
expect_eq "a TOTP code from five minutes ago is refused" $AUTH_ERR \
    "$(login hosta daemon "$(oathtool --totp -b "$secret" --now "@$(($(date +%s) - 300))")")"
expect_eq "list through host B shows the clock skew" yes \
    "$(CONF=hostB admin list daemon --json | json '"yes" if d["users"][0]["last_skew"]["seconds"] in (-300, -330) else d["users"][0]["last_skew"]')"

# ---- lockout counts across hosts ----

admin unlock daemon 2>/dev/null
got=""
for host in hosta_lock hostb_lock hosta_lock hostb_lock hosta_lock; do got+="$(login $host daemon ZZZZZZZZ) "; done
expect_eq "5 wrong codes split over both hosts: the fifth locks out" "7 7 7 7 11 " "$got"
expect_eq "locked out through host B" $MAXTRIES "$(login hostb_lock daemon "${codes[2]}")"
expect_eq "locked out through host A" $MAXTRIES "$(login hosta daemon "${codes[2]}")"
expect_eq "a code typed while locked out is not spent" 8 "$(remaining daemon)"
admin unlock daemon 2>/dev/null
expect_eq "after unlock the code works" $SUCCESS "$(login hostb daemon "${codes[2]}")"

# ---- a device remembered through one host is remembered on the other ----

# SSH_AUTH_INFO_0 in the PAM environment, as sshd puts it there (a test
# module stands in for sshd); both services are in remember_services.
echo 'publickey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJgSssSrIOneifwpUM02GR2GgsviF6UrEP/jqopqmtUM' >"$W/auth_info"
for host in hostA hostB; do
    service=$(echo "$host" | tr A-Z a-z)_dev
    printf 'auth optional %s file=%s\nauth required %s config=%s remember_days=1 %s\n' "$TWOFACTOR_TEST_PUTENV" \
        "$W/auth_info" "$MODULE" "$W/$host.conf" "remember_services=hosta_dev,hostb_dev" >"$W/services/$service"
done
# A wrong answer tells a skip (success) from a prompt (PAM_AUTH_ERR).
expect_eq "device not remembered yet: asked through host B" $AUTH_ERR "$(login hostb_dev daemon ZZZZZZZZ)"
expect_eq "a good code through host A remembers the key" $SUCCESS "$(login hosta_dev daemon "${codes[3]}")"
expect_eq "... one row in twofactor.devices, no key in it" "1 0" \
    "$(pg_psql tf_fleet -tAc "SELECT count(*), count(*) FILTER (WHERE fingerprint LIKE '%AAAAC3%' OR address <> '') FROM twofactor.devices" | tr '|' ' ')"
expect_eq "through host B: no code asked" $SUCCESS "$(login hostb_dev daemon ZZZZZZZZ)"
expect_eq "list --json through host B shows the device" 1 "$(CONF=hostB admin list daemon --json | json 'len(d["users"][0]["devices"])')"
CONF=hostB admin forget daemon --all 2>/dev/null
expect_eq "forgotten through host B: asked through host A" $AUTH_ERR "$(login hosta_dev daemon ZZZZZZZZ)"
expect_eq "... and the row is gone" 0 "$(pg_psql tf_fleet -tAc "SELECT count(*) FROM twofactor.devices")"
admin unlock daemon 2>/dev/null

# ---- an account without a second factor is counted the same way ----

# games has no state: its failures are counted in a row of its own (the
# count alone), across hosts, exactly as daemon's above.
got=""
for host in hosta_lock hostb_lock hosta_lock hostb_lock hosta_lock hostb_lock; do got+="$(login $host games ZZZZZZZZ) "; done
expect_eq "6 wrong codes for an unenrolled account over both hosts: as for an enrolled one" "7 7 7 7 11 11 " "$got"
expect_eq "... its row holds a lockout and no second factor" "False True None None" \
    "$(admin list games --json 2>/dev/null | json '" ".join(str(d["users"][0][k]) for k in ("enrolled", "locked", "totp", "codes"))')"
admin unlock games 2>/dev/null
expect_eq "unlock removes the row" 0 "$(pg_psql tf_fleet -tAc "SELECT count(*) FROM twofactor.users WHERE name = 'games'")"

# ---- sixteen simultaneous logins, one code, both hosts, fifty rounds ----


services=()
for ((i = 0; i < PARALLEL; i++)); do
    if ((i % 2 == 0)); then services+=(hosta_busy); else services+=(hostb_busy); fi
done
# bin has two authenticators, a TOTP app and an HOTP token: the rounds
# alternate between a backup code and the token's next code (exactly once
# per authenticator), and the app's step is never touched.
hotp_hex=3132333435363738393031323334353637383930
bin_secret=$(admin enroll bin --no-confirm --qr none --json 2>/dev/null | json 'd["secret"]')
printf '%s\n' "$hotp_hex" | admin enroll bin --name token --type hotp --secret-stdin --secret-format hex \
    --no-confirm --qr none >/dev/null 2>&1
hotp_next=0
start_drivers bin "${services[@]}"
bad_rounds=""
other_results=""
t0=$(now_ms)
for ((round = 1; round <= ROUNDS; round++)); do
    code=$(admin issue bin --count 2 --json 2>/dev/null | json 'd["codes"][0]')
    if ((round % 2 == 0)); then
        code=$(oathtool --hotp -c "$hotp_next" "$hotp_hex")
        hotp_next=$((hotp_next + 1))
    fi
    for fd in "${DRIVER_FD[@]}"; do printf '%s\n' "$code" >&"$fd"; done
    if ! wait_results "$round"; then
        not_ok "round $round: logins did not finish" "$(tail -5 "$W/driver.err")"
        break
    fi
    successes=0
    for out in "${DRIVER_OUT[@]}"; do
        rc=$(nth_result "$out" "$round")
        case $rc in
            0) successes=$((successes + 1)) ;;
            7) ;;
            *) other_results+="round $round: $rc; " ;;
        esac
    done
    [ "$successes" -eq 1 ] || bad_rounds+="round $round: $successes successes; "
done
stop_drivers
t1=$(now_ms)
if [ -z "$bad_rounds" ] && [ -z "$other_results" ]; then
    ok "$PARALLEL simultaneous logins over two hosts, one code: exactly one success in each of $ROUNDS rounds"
else
    not_ok "exactly one success per round" "$bad_rounds $other_results"
fi
echo "# $ROUNDS rounds of $PARALLEL logins in $((t1 - t0)) ms"
expect_eq "the last set has its codes left (1 after a backup-code round, 2 after an HOTP one)" $((ROUNDS % 2 == 0 ? 2 : 1)) "$(remaining bin)"
expect_eq "the audit log holds one use per round" "$(((ROUNDS + 1) / 2)) $hotp_next" \
    "$(pg_psql tf_fleet -At -F ' ' -c "SELECT count(*) FILTER (WHERE method = 'backup_code'), count(*) FILTER (WHERE method = 'hotp' AND authenticator = 'token') FROM twofactor.audit_log WHERE user_name = 'bin'")"
expect_eq "the token's counter moved once per HOTP round, the app's step never" "$hotp_next None" \
    "$(admin list bin --json 2>/dev/null | json '" ".join(str(x["counter"] if x["type"] == "hotp" else x["last_step"]) for x in d["users"][0]["authenticators"][::-1])')"

# ---- the server stopped in the middle of logins ----

read -r -a sys_codes <<<"$(admin issue sys --count 40 --json 2>/dev/null | json '" ".join(d["codes"])')"
start_drivers sys hosta hostb
declare -a rc_of
slowest_denial=0
stopper=""
for ((k = 0; k < 40; k++)); do
    d=$((k % 2))
    case $k in
        8) (sleep 0.05; pg_server_stop immediate) & stopper=$! ;; # lands among the next logins
        12) wait "$stopper" ;; # down from here on
        24) pg_server_start ;;
    esac
    t=$(now_ms)
    printf '%s\n' "${sys_codes[$k]}" >&"${DRIVER_FD[$d]}"
    n=$(( (k / 2) + 1 ))
    deadline=$(($(now_ms) + 30000))
    while [ "$(grep -c '^result ' "${DRIVER_OUT[$d]}")" -lt "$n" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || { not_ok "login $k: no result"; break; }
        sleep 0.005
    done
    rc_of[k]=$(nth_result "${DRIVER_OUT[$d]}" "$n")
    elapsed=$(($(now_ms) - t))
    if [ "${rc_of[k]}" = $UNAVAIL ] && [ "$elapsed" -gt "$slowest_denial" ]; then slowest_denial=$elapsed; fi
    [ $k -ge 12 ] && [ $k -lt 24 ] && [ "${rc_of[k]}" != $UNAVAIL ] && not_ok "login $k while the server is down: ${rc_of[k]}"
done
stop_drivers
echo "# results while stopping, down and restarted: ${rc_of[*]}"
denied=0 in_doubt=0 lost=0
for ((k = 0; k < 40; k++)); do
    case ${rc_of[k]} in
        0)
            again=$(login hostb sys "${sys_codes[$k]}")
            [ "$again" = $AUTH_ERR ] || lost=$((lost + 1))
            ;;
        9)
            denied=$((denied + 1))
            # Unused (it now works, once) or, if the server died after
            # committing but before answering, spent: never usable twice.
            first=$(login hosta sys "${sys_codes[$k]}")
            second=$(login hostb sys "${sys_codes[$k]}")
            if [ "$first" = $SUCCESS ] && [ "$second" = $AUTH_ERR ]; then :
            elif [ "$first" = $AUTH_ERR ] && [ "$second" = $AUTH_ERR ]; then in_doubt=$((in_doubt + 1))
            else lost=$((lost + 1)); fi
            ;;
        *) lost=$((lost + 1)) ;;
    esac
done
[ "$denied" -ge 12 ] && ok "logins while the server is down are denied with PAM_AUTHINFO_UNAVAIL ($denied)" \
    || not_ok "logins while the server is down are denied with PAM_AUTHINFO_UNAVAIL" "only $denied"
expect_eq "logins after the restart succeed" "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" "${rc_of[*]:24}"
expect_eq "nothing lost: used codes stay used, denied ones work exactly once ($in_doubt in doubt)" 0 "$lost"
[ "$slowest_denial" -le $((TIMEOUT * 1000 + 1500)) ] && ok "each denial within the timeout (slowest $slowest_denial ms)" \
    || not_ok "each denial within the timeout" "slowest $slowest_denial ms"

# A frozen server (SIGSTOP): connecting times out.
fresh=$(admin issue sys --count 6 --json 2>/dev/null | json '" ".join(d["codes"])')
read -r -a fresh <<<"$fresh"
# shellcheck disable=SC2046
kill -STOP $(pg_server_pids)
t=$(now_ms)
rc=$(login hosta sys "${fresh[0]}")
elapsed=$(($(now_ms) - t))
# shellcheck disable=SC2046
kill -CONT $(pg_server_pids)
expect_eq "a frozen server: denied with PAM_AUTHINFO_UNAVAIL" $UNAVAIL "$rc"
[ "$elapsed" -ge $((TIMEOUT * 1000 - 200)) ] && [ "$elapsed" -le $((TIMEOUT * 1000 + 2000)) ] \
    && ok "... after the ${TIMEOUT} s timeout ($elapsed ms)" || not_ok "denied after the timeout" "$elapsed ms"
expect_eq "after the thaw the code works, once" "0 7" "$(login hostb sys "${fresh[0]}") $(login hosta sys "${fresh[0]}")"

# The user's row locked elsewhere (a stuck transaction): the lock wait times out.
pg_psql tf_fleet -c "BEGIN; SELECT 1 FROM twofactor.users WHERE name = 'sys' FOR UPDATE; SELECT pg_sleep(6); COMMIT;" \
    >/dev/null 2>&1 &
locker=$!
sleep 0.5
t=$(now_ms)
rc=$(login hosta sys "${fresh[1]}")
elapsed=$(($(now_ms) - t))
expect_eq "the row locked by a stuck transaction: PAM_AUTHINFO_UNAVAIL" $UNAVAIL "$rc"
[ "$elapsed" -le $((TIMEOUT * 1000 + 1500)) ] && ok "... within the timeout ($elapsed ms)" \
    || not_ok "lock wait within the timeout" "$elapsed ms"
wait "$locker" || true
expect_eq "and that code was not spent" "0 7" "$(login hostb sys "${fresh[1]}") $(login hosta sys "${fresh[1]}")"

# A synchronous standby that never confirms: the commit waits, the login is
# denied within the timeout. So is one whose wait an administrator cancels
# (PostgreSQL then reports the commit with a WARNING, not an error). Both
# commits are local: the codes are spent, yet were never accepted.
pg_psql postgres -c "ALTER SYSTEM SET synchronous_standby_names = 'ghost'" -c "SELECT pg_reload_conf()" >/dev/null
t=$(now_ms)
rc=$(login hosta sys "${fresh[3]}")
elapsed=$(($(now_ms) - t))
expect_eq "no synchronous standby answering: PAM_AUTHINFO_UNAVAIL" $UNAVAIL "$rc"
[ "$elapsed" -le $((TIMEOUT * 1000 + 1500)) ] && ok "... within the timeout ($elapsed ms)" \
    || not_ok "sync standby wait within the timeout" "$elapsed ms"
# The first login's backend still waits (it has not noticed its client
# left): end it, so the canceller below finds the second login's.
pg_psql postgres -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'" >/dev/null
(
    for _ in $(seq 150); do
        n=$(pg_psql postgres -At -c "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
        [ "$n" -gt 0 ] && exit 0
        sleep 0.01
    done
    exit 1
) &
canceller=$!
t=$(now_ms)
rc=$(login hosta sys "${fresh[4]}")
elapsed=$(($(now_ms) - t))
cancelled=no
wait "$canceller" && cancelled=yes
expect_eq "the standby wait cancelled (WARNING, not an error): denied at once ($elapsed ms)" "$UNAVAIL yes yes" \
    "$rc $cancelled $([ "$elapsed" -lt $((TIMEOUT * 1000)) ] && echo yes)"
pg_psql postgres -c "ALTER SYSTEM RESET synchronous_standby_names" -c "SELECT pg_reload_conf()" >/dev/null
expect_eq "both codes were committed locally: spent, never accepted" "7 7" \
    "$(login hostb sys "${fresh[3]}") $(login hostb sys "${fresh[4]}")"

# ---- fail closed on unsafe settings ----

chmod 0640 "$W/pg.password"
expect_eq "a group-readable password file: PAM_AUTHINFO_UNAVAIL" $UNAVAIL "$(login hosta sys "${fresh[2]}")"
chmod 0600 "$W/pg.password"
# libpq would take hostaddr (not in pg_conninfo) from PGHOSTADDR: a caller of
# su could point logins at a server of theirs. Refused instead.
rc=$(printf '%s\n' "${fresh[2]}" | PGHOSTADDR=192.0.2.1 run_driver hosta sys 2>>"$W/driver.err" | sed -n 's/^result //p')
expect_eq "PGHOSTADDR in the environment is refused, not used: PAM_AUTHINFO_UNAVAIL" $UNAVAIL "$rc"
expect_eq "the code still works after both" $SUCCESS "$(login hosta sys "${fresh[2]}")"

# libpq is loaded only for store = postgresql (common/pg/libpq.hpp). Without it
# (libpq5 not installed: here /dev/null bound over it in a private mount
# namespace) a login is refused as unavailable and the tool names what is missing.
# (All of ldconfig's output is read: an early exit would SIGPIPE it, and
# pipefail would end the script; /sbin may be missing from a build's PATH.)
libpq=$(PATH=$PATH:/usr/sbin:/sbin ldconfig -p | awk '$1 == "libpq.so.5" && /x86-64/ && !found { print $NF; found = 1 }')
[ -n "$libpq" ] || not_ok "libpq.so.5 found with ldconfig -p" "not in the loader cache"
without_libpq() { unshare --mount --propagation private sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$libpq" "$@"; }
rc=$(printf '%s\n' "${fresh[5]}" | without_libpq env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/services" \
    "$DRIVER" hosta sys 2>>"$W/driver.err" | sed -n 's/^result //p' || true)
expect_eq "libpq.so.5 missing: PAM_AUTHINFO_UNAVAIL" $UNAVAIL "$rc"
msg=$(without_libpq "$ADMIN_BIN" --config "$W/hostA.conf" list 2>&1 >/dev/null) && not_ok "admin list without libpq fails" "exit 0"
case $msg in
*"store = postgresql needs libpq.so.5 (Debian package libpq5)"*) ok "admin list without libpq: one clear line" ;;
*) not_ok "admin list without libpq: one clear line" "got: $msg" ;;
esac
expect_eq "with libpq back, the code works once" "0 7" "$(login hosta sys "${fresh[5]}") $(login hostb sys "${fresh[5]}")"

# Messages name the store in use, not the unused state_dir.
rc=0
msg=$(admin unlock games 2>&1 >/dev/null) || rc=$?
expect_eq "unlock of a user without state: exit 3, the PostgreSQL store named" \
    "3 games is not enrolled (no state in the PostgreSQL store)" "$rc ${msg#twofactor-admin: }"

# ---- migrate file -> postgresql -> file ----

man_secret=$(CONF=file admin enroll man --no-confirm --qr none --json 2>/dev/null | json 'd["secret"]')
read -r -a man_codes <<<"$(CONF=file admin issue man --count 6 --json 2>/dev/null | json '" ".join(d["codes"])')"
man_totp=$(oathtool --totp -b "$man_secret")
expect_eq "file store: codes 1, 2 and a TOTP code accepted" "0 0 0" \
    "$(login file man "${man_codes[0]}") $(login file man "${man_codes[1]}") $(login file man "$man_totp")"
CONF=file admin migrate --from file --to postgresql >"$W/out" 2>"$W/err" \
    && grep -q '^man: moved' "$W/out" && [ ! -e "$W/state/man" ] \
    && ok "migrate --from file --to postgresql moves the user" || not_ok "migrate to postgresql" "$(cat "$W/out" "$W/err")"
expect_eq "in PostgreSQL: codes used before are refused, the TOTP step too" "7 7 7" \
    "$(login hosta man "${man_codes[0]}") $(login hostb man "${man_codes[1]}") $(login hosta man "$man_totp")"
expect_eq "an unused code works once, through either host" "0 7" \
    "$(login hostb man "${man_codes[2]}") $(login hosta man "${man_codes[2]}")"
CONF=file admin migrate --from file --to postgresql >"$W/out" 2>"$W/err" && grep -q "moved 0 user" "$W/err" \
    && ok "migrate again: nothing left to move" || not_ok "migrate again" "$(cat "$W/err")"
CONF=file admin migrate --from postgresql --to file >"$W/out" 2>"$W/err" && [ -f "$W/state/man" ] \
    && ok "migrate --from postgresql --to file moves it back" || not_ok "migrate back" "$(cat "$W/out" "$W/err")"
expect_eq "back in the file store: codes 1-3 and the TOTP code refused" "7 7 7 7" \
    "$(login file man "${man_codes[0]}") $(login file man "${man_codes[1]}") $(login file man "${man_codes[2]}") $(login file man "$man_totp")"
expect_eq "code 4 works exactly once" "0 7" "$(login file man "${man_codes[3]}") $(login file man "${man_codes[3]}")"

# A user in both stores with different states: refused, then --force keeps
# what the target had spent.
CONF=file admin migrate --from file --to postgresql --keep-source >/dev/null 2>&1
expect_eq "--keep-source copies: code 5 spent through PostgreSQL" $SUCCESS "$(login hosta man "${man_codes[4]}")"
set +e
CONF=file admin migrate --from file --to postgresql --keep-source >"$W/out" 2>"$W/err"
rc=$?
set -e
expect_eq "a different state in the target is refused (exit 1)" "1 yes" \
    "$rc $(grep -q '^man: refused' "$W/out" && echo yes)"
CONF=file admin migrate --from file --to postgresql --force >"$W/out" 2>"$W/err" \
    && ok "--force overwrites" || not_ok "--force overwrites" "$(cat "$W/err")"
expect_eq "... yet code 5, spent in the target, stays spent; code 6 works once" "7 0 7" \
    "$(login hostb man "${man_codes[4]}") $(login hostb man "${man_codes[5]}") $(login hosta man "${man_codes[5]}")"

# ---- import into the PostgreSQL store ----

# A .google_authenticator file made by google-authenticator itself (for
# uucp) and an otpauth line (for proxy), imported through host A: the old
# secrets' codes from oathtool and a scratch code log in once, through
# either host; --dry-run writes no row. (The secrets go into the store as
# the store keeps them: if it comes to need a key, create it before this.)
mkdir -m 0700 "$W/import"
google-authenticator -t -d -f -q -Q NONE -C -w 3 -e 5 -u -s "$W/import/ga" >/dev/null
ga_secret=$(head -1 "$W/import/ga")
ga_scratch=$(grep -m 1 -E '^[0-9]{8}$' "$W/import/ga")
ot_secret=$(head -c 20 /dev/urandom | base32)
printf 'proxy otpauth://totp/Example:proxy?secret=%s&issuer=Example\n' "$ot_secret" >"$W/import/otpauth"
rows() {
    pg_psql tf_fleet -At -c "SELECT (SELECT count(*) FROM twofactor.users), (SELECT count(*) FROM twofactor.authenticators),
        (SELECT count(*) FROM twofactor.code_sets), (SELECT count(*) FROM twofactor.codes)"
}
rows_before=$(rows)
admin import --from google-authenticator "$W/import/ga" --user uucp --dry-run >"$W/out" 2>"$W/err" \
    && admin import --from otpauth "$W/import/otpauth" --dry-run >>"$W/out" 2>>"$W/err" \
    && ok "import --dry-run into PostgreSQL exits 0" || not_ok "import --dry-run into PostgreSQL" "$(cat "$W/out" "$W/err")"
expect_eq "... and writes no row" "$rows_before" "$(rows)"
admin import --from google-authenticator "$W/import/ga" --user uucp >"$W/out" 2>"$W/err" \
    && admin import --from otpauth "$W/import/otpauth" >>"$W/out" 2>>"$W/err" \
    && grep -q '^uucp: imported default (TOTP, 30 s) .*; 5 scratch codes' "$W/out" && grep -q '^proxy: imported' "$W/out" \
    && ok "import into PostgreSQL: a google-authenticator file and an otpauth line" \
    || not_ok "import into PostgreSQL" "$(cat "$W/out" "$W/err")"
ga_totp=$(oathtool --totp -b "$ga_secret")
expect_eq "imported: the file's TOTP code logs in through host A, once (host B refuses it)" "0 7" \
    "$(login hosta uucp "$ga_totp") $(login hostb uucp "$ga_totp")"
expect_eq "imported: a scratch code logs in through host B, once (host A refuses it)" "0 7" \
    "$(login hostb uucp "$ga_scratch") $(login hosta uucp "$ga_scratch")"
ot_totp=$(oathtool --totp -b "$ot_secret")
expect_eq "imported: the otpauth line's TOTP code logs in, once" "0 7" \
    "$(login hostb proxy "$ot_totp") $(login hosta proxy "$ot_totp")"

# ---- secrets sealed at rest ----

# Every secret enrolled, imported or migrated above went into the database
# sealed (the hosts share $PG_KEY): a pg_dump holds neither its base32 nor
# its hex form. That check fails on a row in clear (as a build before
# migration 5 wrote it), which is still read and is sealed by the next
# write; a token copied to another user does not open there; a key
# rotation with a login through host B between every step.
hotp_b32=$(python3 -c 'import base64,sys; print(base64.b32encode(bytes.fromhex(sys.argv[1])).decode())' "$hotp_hex")
secrets_b32=("$secret" "$bin_secret" "$hotp_b32" "$man_secret" "$ga_secret" "$ot_secret")
b32_hex() { python3 -c 'import base64,sys; s=sys.argv[1].upper().rstrip("="); print(base64.b32decode(s + "=" * (-len(s) % 8)).hex())' "$1"; }
dump_secrets() { # dump_secrets: the forms of the secrets a pg_dump of tf_fleet holds ("" if none)
    runuser -u postgres -- "$PG_BIN/pg_dump" -h "$PG_SOCKET" -p "$PG_PORT" tf_fleet >"$W/dump.sql"
    local s
    for s in "${secrets_b32[@]}"; do
        s=${s%%=*}
        if grep -q -i -F "$s" "$W/dump.sql"; then echo -n "$s(base32) "; fi
        if grep -q -i -F "$(b32_hex "$s")" "$W/dump.sql"; then echo -n "$s(hex) "; fi
    done
}
expect_eq "pg_dump: no secret, in base32 or hex" "" "$(dump_secrets)"
auth_sql() { # auth_sql USER EXPR: EXPR over USER's authenticator default
    pg_psql tf_fleet -At -c "SELECT $2 FROM twofactor.authenticators a JOIN twofactor.users u USING (user_id)
        WHERE u.name = '$1' AND a.name = 'default'"
}
sealed_row() { auth_sql "$1" "coalesce(substr(secret_sealed, 1, 18), '-') || ' ' || coalesce(secret_base32, '-')"; }
key_id() { awk -v role="$1" '$1 == "key" && $3 == role { print $2 }' "$PG_KEY"; }
# daemon's row in clear, as the superuser: the dump shows it, a login reads
# it (the next TOTP step: every earlier one may be spent) and seals it.
pg_psql tf_fleet -c "UPDATE twofactor.authenticators SET secret_base32 = '$secret', secret_sealed = NULL
    WHERE name = 'default' AND user_id = (SELECT user_id FROM twofactor.users WHERE name = 'daemon')" >/dev/null
expect_eq "a row in clear: the dump holds it (the check can fail)" "$secret(base32) " "$(dump_secrets)"
expect_eq "... is still read: the TOTP code logs in" $SUCCESS \
    "$(login hostb daemon "$(oathtool --totp -b "$secret" --now "@$(($(date +%s) + 30))")")"
expect_eq "... and that login sealed it" "aes256gcm:$(key_id current) -" "$(sealed_row daemon)"
expect_eq "pg_dump: no secret again" "" "$(dump_secrets)"
# daemon's token copied to proxy: it does not open for proxy (the
# associated data names user and authenticator), with one log line.
proxy_token=$(auth_sql proxy secret_sealed)
pg_psql tf_fleet -c "UPDATE twofactor.authenticators SET secret_sealed = '$(auth_sql daemon secret_sealed)'
    WHERE name = 'default' AND user_id = (SELECT user_id FROM twofactor.users WHERE name = 'proxy')" >/dev/null
rc=$(printf '%s\n' "$(oathtool --totp -b "$secret")" | run_driver hosta proxy 2>"$W/copied.err" | sed -n 's/^result //p')
cat "$W/copied.err" >>"$W/driver.err"
expect_eq "daemon's token copied to proxy: proxy's login with daemon's code is denied" $UNAVAIL "$rc"
grep -q -F 'user%20proxy:%20authenticator%20default:%20secret%20sealed%20with%20key%20'"$(key_id current)"'%20does%20not%20decrypt%20(wrong%20key%20or%20altered%20data)' \
    "$W/copied.err" && ok "... with the log line: does not decrypt" || not_ok "copied token logged" "$(cat "$W/copied.err")"
pg_psql tf_fleet -c "UPDATE twofactor.authenticators SET secret_sealed = '$proxy_token'
    WHERE name = 'default' AND user_id = (SELECT user_id FROM twofactor.users WHERE name = 'proxy')" >/dev/null
# A rotation, bin's HOTP token logging in between every step (through host
# B after the first), with uucp's row put in clear before `key rotate`.
hotp_login() { # hotp_login HOST: bin's next HOTP code; the PAM return code appended to $rotation
    rotation+="$(login "$1" bin "$(oathtool --hotp -c "$hotp_next" "$hotp_hex")") "
    hotp_next=$((hotp_next + 1))
}
rotation=""
old_key=$(key_id current)
hotp_login hosta
admin key rotate --prepare 2>/dev/null
new_key=$(key_id next)
hotp_login hostb
pg_psql tf_fleet -c "UPDATE twofactor.authenticators SET secret_base32 = '$ga_secret', secret_sealed = NULL
    WHERE name = 'default' AND user_id = (SELECT user_id FROM twofactor.users WHERE name = 'uucp')" >/dev/null
admin key rotate 2>"$W/err" || not_ok "key rotate" "$(cat "$W/err")"
hotp_login hostb
expect_eq "rotate: every secret sealed with the new key, none in clear" "$new_key 1 0" \
    "$(pg_psql tf_fleet -At -F ' ' -c "SELECT min(substr(secret_sealed, 11, 8)), count(DISTINCT substr(secret_sealed, 11, 8)),
        count(*) FILTER (WHERE secret_sealed IS NULL) FROM twofactor.authenticators")"
expect_eq "... uucp's row in clear too: it logs in" $SUCCESS \
    "$(login hostb uucp "$(oathtool --totp -b "$ga_secret" --now "@$(($(date +%s) + 30))")")"
admin key retire 2>/dev/null
hotp_login hostb
expect_eq "login, rotate --prepare, login, rotate, login, retire, login (host B): all accepted" "0 0 0 0 " "$rotation"
expect_eq "... the key file now holds the new key only" "$new_key current" \
    "$(awk '$1 == "key" { print $2, $3 }' "$PG_KEY" | tr '\n' ' ' | sed 's/ $//')"
[ "$old_key" != "$new_key" ] && ok "... a key other than the first" || not_ok "a new key" "$old_key"
expect_eq "pg_dump after the rotation: no secret" "" "$(dump_secrets)"

# ---- list over many users: one statement per 500 users ----

# 1,200 users made in SQL (TOTP only, enrolled_at 1700000000 + N), so that
# list reads them in three batches; then one user's code set damaged (a code
# row gone): that user is an error, every other user is listed.
pg_psql tf_fleet \
    -c "INSERT INTO twofactor.users (name) SELECT 'bulk' || lpad(g::text, 4, '0') FROM generate_series(1, 1200) g" \
    -c "INSERT INTO twofactor.authenticators (user_id, name, type, algorithm, digits, period, secret_base32, enrolled_at)
        SELECT user_id, 'default', 'totp', 'sha1', 6, 30, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1700000000 + substr(name, 5)::int
        FROM twofactor.users WHERE name LIKE 'bulk%'" >/dev/null
check_bulk() { # check_bulk FILE: "USERS BULK_OK ERRORS" of a list --json
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bulk = [u for u in d["users"] if u["user"].startswith("bulk")]
good = sum(1 for u in bulk if u.get("totp") and u["totp"]["enrolled_at"] == 1700000000 + int(u["user"][4:]))
print(len(d["users"]), good, " ".join(e["user"] for e in d["errors"]) or "-")' "$1"
}
listed=$(admin list --json | json 'len(d["users"])')
admin list --json >"$W/bulk.json" && ok "list over $listed users exits 0" || not_ok "list over $listed users exits 0"
expect_eq "... every bulk user listed once, with its own state" "$listed 1200 -" "$(check_bulk "$W/bulk.json")"
admin list bulk0500 bulk0501 bulk0500 --json >"$W/named.json"
expect_eq "list of named users, one of them twice: each answered" "bulk0500 bulk0501 bulk0500 1700000500" \
    "$(json '" ".join(u["user"] for u in d["users"]) + " " + str(d["users"][0]["totp"]["enrolled_at"])' <"$W/named.json")"
pg_psql tf_fleet -c "DELETE FROM twofactor.codes WHERE slot = 0 AND set_id =
    (SELECT s.set_id FROM twofactor.code_sets s JOIN twofactor.users u USING (user_id) WHERE u.name = 'man')" >/dev/null
set +e
admin list --json >"$W/bulk.json" 2>"$W/err"
rc=$?
set -e
expect_eq "a damaged user: exit 1, that user in errors, everyone else listed" "1 $((listed - 1)) 1200 man" \
    "$rc $(check_bulk "$W/bulk.json")"

sanitizers_quiet "$W/driver.err"

echo "# total $(($(now_ms) - started)) ms"
summary
