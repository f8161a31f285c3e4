#!/usr/bin/env bash
# Tests of twofactor(1), the setuid self-service command, run the way a user
# runs it: a throwaway account (useradd; userdel on exit) runs a root-owned
# mode-4755 copy of the built binary through setpriv, in a pty driven by
# expect (drive.exp). The tool reads fixed paths, so every run happens in a
# private mount namespace (in_namespace.sh) where the test configuration,
# a test /etc/pam.d/twofactor (the shipped stack with the built module) and
# a syslog socket cover the host's: the host's /etc is checked unchanged at
# the end.
# Usage: selfservice_test.sh TOOL MODULE ADMIN_TOOL VERSION
# Exit: 0 all passed, 1 a failure, 77 skipped (not root, no mount namespaces,
# no setuid possible here).
set -o pipefail
tool=$(realpath "$1")
module=$(realpath "$2")
admin=$(realpath "$3")
version=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

skip() { echo "skipping: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (useradd, a setuid copy, mount namespaces)"
unshare -m true 2>/dev/null || skip "no mount namespaces here"
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status && skip "no_new_privs is set: setuid has no effect"
for cmd in expect oathtool setpriv findmnt useradd chpasswd strace sysctl /usr/bin/python3; do
  command -v "$cmd" >/dev/null || { echo "missing $cmd (see TESTING-NOTES: apt-get install expect oathtool ...)"; exit 1; }
done

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
not_ok() {
  failed=$((failed + 1)); echo "FAIL - $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    | /'
  return 0
}
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')" "$(tail -n 25 "$work/out" 2>/dev/null)"; fi
}
check_contains() { # check_contains NAME NEEDLE FILE
  if grep -qF -- "$2" "$3"; then ok "$1"; else not_ok "$1 ('$2' missing)" "$(tail -n 25 "$3")"; fi
}
check_absent() { # check_absent NAME NEEDLE FILE
  if grep -qF -- "$2" "$3"; then not_ok "$1 ('$2' present)" "$(grep -F -- "$2" "$3" | head -3)"; else ok "$1"; fi
}

work=$(mktemp -d /tmp/tf-selfservice.XXXXXX)
user="tfself$$"
other="tfoth$$"
password="Pw-$RANDOM-$RANDOM-x"
sink_pid=
# The host files the test covers in its namespaces. Compared file by file
# at the end (a file another test adds meanwhile, like e2e's sshd service,
# is not ours to judge), plus the two paths this tool reads.
etc_sums() { find /etc/pam.d /etc/security -xdev -type f -print0 | sort -z | xargs -0 sha256sum; }
ours_state() { sha256sum /etc/pam.d/twofactor /etc/security/twofactor.conf 2>&1; }
etc_before=$(etc_sums)
ours_before=$(ours_state)
# The shipped stack's pam_faillock tally directory, on the host.
faildir=/run/twofactor-faillock
faildir_existed=no
[ -d "$faildir" ] && faildir_existed=yes
suid_dumpable_before=$(sysctl -n fs.suid_dumpable 2>/dev/null)
cleanup() {
  set +e
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
  [ -n "$suid_dumpable_before" ] && [ "$(sysctl -n fs.suid_dumpable)" != "$suid_dumpable_before" ] \
    && sysctl -qw fs.suid_dumpable="$suid_dumpable_before"
  if [ -d "$faildir" ]; then
    faillock --dir "$faildir" --user "$user" --reset 2>/dev/null
    rm -f "$faildir/$user"
    [ "$faildir_existed" = no ] && rmdir "$faildir" 2>/dev/null
  fi
  userdel -r "$user" 2>/dev/null
  userdel -r "$other" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
chmod 0755 "$work"

# --- the setuid copy: in a directory on a mount without nosuid -----------
bindir=
for candidate in "$work" /var/tmp "$(dirname "$tool")"; do
  if ! findmnt -no OPTIONS --target "$candidate" | tr ',' '\n' | grep -qx nosuid; then
    bindir=$(mktemp -d "$candidate/tf-bin.XXXXXX") && break
  fi
done
[ -n "$bindir" ] || skip "every candidate directory is on a nosuid mount"
[ "$bindir" = "${bindir#"$work"}" ] && trap 'cleanup; rm -rf "$bindir"' EXIT
chmod 0755 "$bindir"
bin=$bindir/twofactor
install -o root -g root -m 4755 "$tool" "$bin"
install -o root -g root -m 0755 "$tool" "$bindir/twofactor-nosuid"

# --- configuration, PAM service, state, syslog ---------------------------
state=$work/state
mkdir -m 0700 "$state"
cp -a /etc/security "$work/etc-security"
conf=$work/etc-security/twofactor.conf
write_conf() { # write_conf [EXTRA LINE...]
  # window = 10: the tests re-authenticate many times a minute, each with a
  # fresh TOTP step (a used step is refused as a replay).
  { printf 'state_dir = %s\nscrypt_log2_n = 10\nwindow = 10\nmax_failures = 5\n' "$state"
    [ $# -gt 0 ] && printf '%s\n' "$@"; } >"$conf"
  chmod 0644 "$conf"
}
write_conf
cp -a /etc/pam.d "$work/pam.d"
# pam_faillock's own settings, so that the host's faillock.conf does not
# change what the test sees; its tally directory is the shipped one (the
# host's /run), cleaned up on exit.
printf 'deny = 3\nunlock_time = 600\nfail_interval = 900\n' >"$work/faillock.conf"
# The shipped stack, with the built module, the test's faillock.conf and,
# unless "delay" is asked for, no failure delay.
shipped_pam() { # shipped_pam [delay]
  local -a no_delay=(-e 's#^\(auth[[:space:]].*[[:space:]]pam_unix\.so\)#\1 nodelay#')
  [ "${1:-}" = delay ] && no_delay=()
  sed -e "s#pam_twofactor\.so#$module#" "${no_delay[@]}" -e "s#pam_faillock\.so#& conf=$work/faillock.conf#" \
    "$source_dir/conf/pam.d/twofactor" >"$work/pam.d/twofactor"
}
shipped_pam
grep -q "$module nullok" "$work/pam.d/twofactor" && grep -q "pam_unix\.so.* nodelay" "$work/pam.d/twofactor" \
  || { echo "could not adapt conf/pam.d/twofactor"; exit 1; }

/usr/bin/python3 "$here/syslog_sink.py" "$work/log.sock" "$work/syslog" &
sink_pid=$!
for _ in $(seq 50); do [ -S "$work/log.sock" ] && break; sleep 0.1; done

useradd -m -s /bin/sh "$user"
useradd -m -s /bin/sh "$other"
echo "$user:$password" | chpasswd
uid=$(id -u "$user")
ADMIN=("$admin" --config "$conf")
"${ADMIN[@]}" enroll "$other" --no-confirm --json >/dev/null 2>&1
"${ADMIN[@]}" issue "$other" >/dev/null 2>&1
other_before=$(sha256sum <"$state/$other")

# run_self [-e VAR=VALUE]... [-p PROBE_DIR] [-w SHELL_WRAPPER] ANSWER... -- ARGS...
# Runs the setuid copy as $user with ARGS, answering prompts with ANSWERs;
# sets RC and leaves the output (pty: stdout and stderr) in $work/out.
run_self() {
  local probe=- wrapper='exec "$@"'
  local -a envs=() answers=()
  while :; do
    case $1 in
      -e) envs+=("$2"); shift 2 ;;
      -p) probe=$2; shift 2 ;;
      -w) wrapper=$2; shift 2 ;;
      *) break ;;
    esac
  done
  while [ "$1" != -- ]; do answers+=("$1"); shift; done
  shift
  unshare -m "$here/in_namespace.sh" "$work" -- \
    expect "$here/drive.exp" 30 "$probe" "${answers[@]}" -- \
    sh -c "$wrapper" sh setpriv --reuid="$user" --regid="$user" --init-groups -- \
    env -i PATH=/usr/bin:/bin HOME="/home/$user" TERM=dumb "${envs[@]}" "$bin" "$@" >"$work/out.raw" 2>&1
  RC=$?
  tr -d '\r' <"$work/out.raw" >"$work/out"
}

# Re-authentication needs a TOTP code of a step not used before: CODE gets
# the next one of SECRET (steps only go up; window = 10 allows that).
SECRET=
NEXT_STEP=0
next_code() {
  local now_step=$(( $(date +%s) / 30 ))
  [ "$NEXT_STEP" -lt $((now_step - 9)) ] && NEXT_STEP=$((now_step - 9))
  CODE=$(oathtool --totp -b "$SECRET" --now "@$((NEXT_STEP * 30))")
  NEXT_STEP=$((NEXT_STEP + 1))
}
code_of() { oathtool --totp -b "$1" --now "@$((($(date +%s) / 30 - 1) * 30))"; }
printed_secret() { grep -o 'secret=[A-Z2-7]*' "$work/out" | head -1 | cut -d= -f2; }
printed_codes() { grep -oE '^ +[0-9]+\.  [A-Z0-9]{8} ' "$work/out" | awk '{print $2}'; }
totp_secret() { awk '$1 == "auth" && $2 == "default" {print $7}' "$state/$user" 2>/dev/null; }
codes_header() { grep '^codes ' "$state/$user" 2>/dev/null; }
state_sum() { sha256sum <"$state/$user" 2>/dev/null; }
admin_verify() { printf '%s\n' "$1" | "${ADMIN[@]}" verify "$2" >/dev/null 2>&1; echo $?; }

echo "# setuid copy: $bin"

# --- the command line: nothing names another user, a config or a state dir
run_self -- --help
check "--help exits 0" 0 "$RC"
check_contains "--help shows the commands" "twofactor new-codes" "$work/out"
run_self -- --version
check "--version" "0 twofactor $version" "$RC $(head -1 "$work/out")"
run_self --
check "no command: usage error" 2 "$RC"
run_self -- status "$other"
check "status OTHER_USER: usage error" 2 "$RC"
check_contains "a user name is refused as such" "takes no user name" "$work/out"
for args in "new-codes $other" "enroll $other" "--user=$other status" "--user $other status" \
            "--config $work/evil.conf status" "--state-dir $work status" "status --qr utf8" "enroll --qr bogus" \
            "status status" "-u $other status" "status --name phone" "enroll --name Phone" "enroll --name a/b" \
            "enroll --name a --name b" "enroll --name"; do
  # shellcheck disable=SC2086
  run_self -- $args
  check "usage error: twofactor $args" 2 "$RC"
done
setpriv --reuid="$user" --regid="$user" --init-groups "$bindir/twofactor-nosuid" status >"$work/out" 2>&1
check "without the setuid bit: refused" 1 "$?"
check_contains "without the setuid bit: says why" "not installed setuid root" "$work/out"

# A user database that cannot be read (every lookup fails with EIO): an
# error that stops the tool, not "you have no account". Root runs the copy
# without the setuid bit, which honours LD_PRELOAD.
if [ -n "${TWOFACTOR_BROKEN_PASSWD:-}" ]; then
  unshare -m "$here/in_namespace.sh" "$work" -- env -i PATH=/usr/bin:/bin LD_PRELOAD="$TWOFACTOR_BROKEN_PASSWD" \
    "$bindir/twofactor-nosuid" status </dev/null >"$work/out" 2>&1
  check "passwd lookup fails: refused" 1 "$?"
  check_contains "passwd lookup fails: says the user database failed" "cannot look up your account" "$work/out"
  check_absent "passwd lookup fails: not taken for a missing account" "has no account name" "$work/out"
else
  echo "# skip: TWOFACTOR_BROKEN_PASSWD not set (run through ctest): failing passwd lookups not checked"
fi

# --- first enrolment: no state, so the stack's nullok asks no code --------
run_self -- status
check "status without a second factor: exit 3" 3 "$RC"
check_contains "status says none is set up" "No second factor is set up for $user" "$work/out"
run_self "$password" @TOTP -- enroll
check "first enroll (password, confirmation code)" 0 "$RC"
check_absent "first enroll asks no verification code" "Verification code" "$work/out"
check_contains "enroll shows a QR code" "█" "$work/out"
SECRET=$(printed_secret)
check "first enroll stored the secret shown" "${SECRET:-none shown}" "$(totp_secret)"
check "state file is root:root 0600" "root:root 600" "$(stat -c '%U:%G %a' "$state/$user")"
check "lock file is root's" "root:root" "$(stat -c '%U:%G' "$state/.$user.lock")"
NEXT_STEP=$(( $(date +%s) / 30 + 2 ))

run_self -- status
check "status after enrolment" 0 "$RC"
check_contains "status: app set up" "set up" "$work/out"
check_contains "status: no codes yet" "none" "$work/out"

# --- new-codes: shown once, verifiable, the old set invalid ---------------
next_code
run_self "$password" "$CODE" -- new-codes
check "new-codes (password + TOTP)" 0 "$RC"
mapfile -t codes_a < <(printed_codes)
check "new-codes prints 10 codes" 10 "${#codes_a[@]}"
check_contains "new-codes: password manager or paper" "password manager or on paper" "$work/out"
check "a new code verifies (twofactor-admin verify)" 0 "$(admin_verify "${codes_a[0]}" "$user")"

next_code
run_self "$password" "$CODE" -- new-codes
check "new-codes again" 0 "$RC"
mapfile -t codes_b < <(printed_codes)
check_contains "new-codes says the old set is gone" "previous backup codes no longer work" "$work/out"
check "an old-set code is refused" 1 "$(admin_verify "${codes_a[1]}" "$user")"
check "a new-set code verifies" 0 "$(admin_verify "${codes_b[0]}" "$user")"

# The shipped stack clears the exemptions: a member of an exempt group is
# still asked for a code (an exempt login checks none, and the change
# would be refused).
write_conf "exempt_groups = $(id -gn "$user")" "exempt_networks = 0.0.0.0/0, ::/0"
next_code
run_self "$password" "$CODE" -- new-codes
check "new-codes, exempt user: still asked, and done" 0 "$RC"
mapfile -t codes_b < <(printed_codes)
write_conf

run_self "$password" "${codes_b[1]}" -- new-codes
check "new-codes, re-authenticated with a backup code" 0 "$RC"
check_contains "the backup-code login message is shown" "Backup code accepted" "$work/out"
mapfile -t codes_c < <(printed_codes)
check "the set before is invalid" 1 "$(admin_verify "${codes_b[2]}" "$user")"

run_self -- status
check_contains "status: codes left" "10 of 10 left" "$work/out"
check_contains "status: last verified login" "backup code, via twofactor on /dev/pts/" "$work/out"

# --- forget: recognised devices shown by status, forgotten after re-auth ----
add_device() { # a remembered device, as pam_twofactor writes it (docs/state-format.md)
  local now; now=$(date +%s)
  sed -i "s/^end\$/device ${1}$(printf '0%.0s' $(seq 56)) SHA256:tzFaPPZkZHh1tZ4fiNWqqRtfC4UKbOwB2sXlsDJCIW8 - $now $now $((now + 86400))\nend/" \
    "$state/$user"
}
add_device 5a5a5a5a
run_self -- status
check_contains "status lists a recognised device" "5a5a5a5a0000" "$work/out"
run_self "wrong-$password" -- forget
check "forget with a wrong password: refused" 1 "$RC"
check "the device is kept" 1 "$(grep -c '^device ' "$state/$user")"
next_code
run_self "$password" "$CODE" -- forget
check "forget (password + TOTP)" 0 "$RC"
check_contains "forget says how many" "Forgot 1 recognised device" "$work/out"
check "no device left" 0 "$(grep -c '^device ' "$state/$user" || true)"
run_self -- forget
check "forget with none: nothing asked, done" 0 "$RC"
add_device 6b6b6b6b

# --- enroll over an existing secret: replaced only once confirmed ---------
codes_before=$(codes_header)
next_code
run_self "$password" "$CODE" @TOTP -- enroll --qr none
check "enroll again (password, code, confirmation)" 0 "$RC"
check_absent "--qr none draws no QR code" "█" "$work/out"
old_secret=$SECRET
SECRET=$(printed_secret)
if [ -n "$SECRET" ] && [ "$SECRET" != "$old_secret" ]; then ok "a new secret was shown"
else not_ok "a new secret was shown"; fi
check "the new secret is stored" "$SECRET" "$(totp_secret)"
check "backup codes kept" "$codes_before" "$(codes_header)"
check "a new secret forgets the devices" 0 "$(grep -c '^device ' "$state/$user" || true)"
NEXT_STEP=$(( $(date +%s) / 30 + 2 ))

before=$(state_sum)
run_self "$password" "$(code_of "$old_secret")" -- new-codes
check "a code of the replaced secret no longer re-authenticates" 1 "$RC"
check "backup codes unchanged after that" "$codes_before" "$(codes_header)"

# Wrong confirmation codes: the old secret stays. Probed at each prompt:
# stray fds closed, no core dumps, the user's ids while waiting for input.
mkdir -p "$work/probe" && rm -f "$work/probe"/*
next_code
run_self -p "$work/probe" -w 'exec 7</etc/hostname 9</etc/hostname; exec "$@"' \
  "$password" "$CODE" 000000 000001 000002 -- enroll
check "enroll with wrong confirmation codes: refused" 1 "$RC"
check_contains "enroll: says the code does not match" "does not match the new secret" "$work/out"
check "the old secret is kept" "$SECRET" "$(totp_secret)"
check "backup codes kept" "$codes_before" "$(codes_header)"
if grep -q /etc/hostname "$work/probe/fds.0" 2>/dev/null || ! [ -s "$work/probe/fds.0" ]; then
  not_ok "inherited fds above 2 are closed" "$(cat "$work/probe/fds.0" 2>/dev/null)"
else ok "inherited fds above 2 are closed"; fi
check "no core dumps" "0 0" "$(awk '/^Max core file size/ {print $5, $6}' "$work/probe/limits.0" 2>/dev/null)"
check "root's uids, the real one too, only inside PAM (Password prompt)" "0 0 0 0" \
  "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$work/probe/status.0" 2>/dev/null)"
check "the user's euid while waiting for the confirmation code" "$uid $uid 0 $uid" \
  "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$work/probe/status.2" 2>/dev/null)"

next_code
run_self "$password" "$CODE" @EOF -- enroll
check "enroll with no confirmation (end of input): refused" 1 "$RC"
check "the old secret is kept" "$SECRET" "$(totp_secret)"

# --- re-authentication failures change nothing -----------------------------
before=$(state_sum)
run_self "wrong-$password" -- new-codes
check "wrong password: refused, no code asked" 1 "$RC"
check_contains "wrong password: says so" "authentication failed; nothing changed" "$work/out"
check "wrong password: state file untouched" "$before" "$(state_sum)"
run_self "wrong-$password" -- enroll
check "wrong password (enroll): refused" 1 "$RC"
check_absent "no secret shown before re-authentication" "otpauth://" "$work/out"

run_self "$password" 00000000 -- new-codes
check "right password, wrong code: refused" 1 "$RC"
check "wrong code: backup codes unchanged" "$codes_before" "$(codes_header)"
check "wrong code: secret unchanged" "$SECRET" "$(totp_secret)"
run_self "$password" 00000000 -- enroll
check "right password, wrong code (enroll): refused" 1 "$RC"
check_absent "no secret shown before re-authentication" "otpauth://" "$work/out"
check "wrong code (enroll): secret unchanged" "$SECRET" "$(totp_secret)"
run_self @EOF -- new-codes
check "no answer at the password prompt: refused" 1 "$RC"
check_contains "no answer: says so" "authentication aborted" "$work/out"
# Ctrl-C at the hidden password prompt: the tool dies of SIGINT, and the
# terminal has its echo back (the shell around it ignores SIGINT and then
# shows the pty's settings).
before=$(state_sum)
run_self -w 'trap "" INT; (trap - INT; exec "$@"); echo "status=$?"; stty -a' @INT -- new-codes
check_contains "Ctrl-C at the password prompt ends the tool (SIGINT)" "status=130" "$work/out"
check "Ctrl-C: terminal echo restored" yes "$(grep -qE '(^| )echo( |$)' "$work/out" && ! grep -qE '(^| )-echo( |$)' "$work/out" && echo yes || echo no)"
check "Ctrl-C: state unchanged" "$before" "$(state_sum)"

# --- the caller cannot stop the tool while it holds root ------------------
# While it runs PAM (or uses the store) its real, effective and saved uids
# are root's, so the caller may not signal it (a stopped process would hold
# its database connection); back at the caller's ids it may, as before.
probe=("$here/caller_probe.sh" "$user" "$bin")
rm -f "$work/signals"
next_code
run_self "@SH:${probe[*]} $work/signals signal STOP KILL" "$password" \
  "@SH:${probe[*]} $work/signals signal STOP KILL" "$CODE" \
  "@SH:${probe[*]} $work/signals signal STOP CONT" @TOTP -- enroll --qr none
check "enroll, signalled by the caller at each prompt: done" 0 "$RC"
mapfile -t signals <"$work/signals"
for i in 0 1; do
  where=$([ "$i" = 0 ] && echo "password prompt" || echo "code prompt")
  for j in 0 1; do
    line=${signals[$((i * 2 + j))]:-none}
    case $line in
      *"refused: "*"Operation not permitted"*) ok "caller's ${line%% *} at the $where: EPERM" ;;
      *) not_ok "caller's signal at the $where: EPERM" "$line" ;;
    esac
  done
done
check "caller's SIGSTOP, SIGCONT at the confirmation prompt (the caller's ids): sent" "STOP sent CONT sent" \
  "${signals[4]:-none} ${signals[5]:-none}"
new_secret=$(printed_secret)
check "enroll signalled by the caller stored its secret" "${new_secret:-none shown}" "$(totp_secret)"
[ -n "$new_secret" ] && SECRET=$new_secret && NEXT_STEP=$(( $(date +%s) / 30 + 2 ))

# Ctrl-Z: the terminal sends SIGTSTP to the foreground job without any
# permission check. While the tool holds root it is held back, and stops
# the tool once it is back at the caller's ids (after PAM). The job runs
# under a shell with job control, as at a prompt (an orphaned process
# group would ignore the stop), which continues it with fg a second later.
rm -f "$work/state.log"
next_code
run_self -w 'exec bash -c '\''set -m; "$@"; rc=$?; if [ "$rc" = 148 ]; then echo "job stopped"; sleep 1; fg >/dev/null; rc=$?; fi; echo "status=$rc"'\'' bash "$@"' \
  @TSTP "@SH:sleep 0.3; ${probe[*]} $work/state.log state" "$password" "$CODE" -- new-codes
check "Ctrl-Z at the password prompt: the tool keeps running in PAM" S "$(head -1 "$work/state.log" 2>/dev/null)"
check_contains "...and stops once back at the caller's ids (job stopped)" "job stopped" "$work/out"
check "...after re-authentication, not before" yes \
  "$(awk '/Verification code/ {asked = 1} /job stopped/ {print (asked ? "yes" : "no"); exit}' "$work/out")"
check_contains "...then, continued, finishes" "status=0" "$work/out"
mapfile -t codes_z < <(printed_codes)
check "...and prints its codes" 10 "${#codes_z[@]}"

# --- never dumpable after a credential change -----------------------------
# Each change of effective ids resets "dumpable" to fs.suid_dumpable. With
# it at 1, strace records every call and holds the getresuid/getresgid that
# follow each change while the caller watches: /proc/PID/* must stay
# root's, its memory unreadable, and every change must be followed at once
# by PR_SET_DUMPABLE 0.
if [ -n "$suid_dumpable_before" ] && sysctl -qw fs.suid_dumpable=1 2>/dev/null; then
  rm -f "$work/dump.log" "$work/dump.log.strace"
  next_code
  run_self "@SH:${probe[*]} $work/dump.log trace" "@SH:${probe[*]} $work/dump.log watch" "$password" "$CODE" -- new-codes
  check "new-codes under strace with fs.suid_dumpable = 1: done" 0 "$RC"
  for _ in $(seq 100); do grep -q '^watched' "$work/dump.log" 2>/dev/null && break; sleep 0.05; done
  sysctl -qw fs.suid_dumpable="$suid_dumpable_before"
  changes=$(grep -cE '^set(res|re)?[ug]id\(.* = 0$' "$work/dump.log.strace" 2>/dev/null)
  unguarded=$(awk 'pending != "" { if ($0 !~ /^prctl\(PR_SET_DUMPABLE, SUID_DUMP_DISABLE\)/) print pending " -> " $0; pending = "" }
                   /^set(res|re)?[ug]id\(.* = 0$/ { pending = $0 }' "$work/dump.log.strace" 2>/dev/null)
  if [ "${changes:-0}" -ge 6 ] && [ -z "$unguarded" ]; then
    ok "each of the $changes credential changes is followed at once by PR_SET_DUMPABLE 0"
  else
    not_ok "each credential change is followed at once by PR_SET_DUMPABLE 0 (${changes:-0} seen)" "$unguarded"
  fi
  held=$(grep -c '^held ' "$work/dump.log" 2>/dev/null)
  if [ "${held:-0}" -ge 3 ]; then ok "the caller looked while the calls after the changes were held ($held times)"
  else not_ok "the caller looked while the calls after the changes were held (${held:-0} times)" \
    "$(cat "$work/dump.log" 2>/dev/null | tail -20)"; fi
  check "never dumpable there (/proc/PID/* stay root's)" 0 "$(grep -c '^held owner=[1-9]' "$work/dump.log")"
  check_absent "the caller never reads the tool's memory (/proc/PID/environ)" "environ=readable" "$work/dump.log"
else
  ok "# skip dumpable checks: fs.suid_dumpable cannot be set here"
fi

# --- password guesses through twofactor are counted (pam_faillock) --------
# Someone running commands as the user guesses the password: each wrong
# answer is cut short with Ctrl-C during the fail delay (the caller's own
# SIGKILL is refused there). The failures still count; once the limit is
# reached the right password is refused too.
faillock --dir "$faildir" --user "$user" --reset 2>/dev/null
# faillock lists one line per failure, each starting with its date.
failures() { faillock --dir "$faildir" --user "$user" 2>/dev/null | grep -cE '^[0-9]{4}-'; }
run_self @EOF -- new-codes
check "no answer (end of input): refused" 1 "$RC"
check "...and not counted as a failure" 0 "$(failures)"
shipped_pam delay
for i in 1 2 3; do
  run_self -w 'trap "" INT; (trap - INT; exec "$@"); echo "status=$?"' \
    "wrong-$i-$password" "@INTAFTER:[ \$(faillock --dir $faildir --user $user | grep -cE '^[0-9]{4}-') -ge $i ]" -- new-codes
  check_contains "wrong password $i, Ctrl-C in the fail delay: killed by SIGINT" "status=130" "$work/out"
done
check "the three failures are in faillock's tally" 3 "$(failures)"
faillock --dir "$faildir" --user "$user" >"$work/faillock.out" 2>&1
check_contains "...each from the tool's terminal" "TTY   /dev/pts/" "$work/faillock.out"
check "the tally directory is root's alone" "root:root 700" "$(stat -c '%U:%G %a' "$faildir" 2>/dev/null)"
setpriv --reuid="$user" --regid="$user" --init-groups sh -c ": > '$faildir/$user'" 2>/dev/null
check "the user cannot empty the tally" 3 "$(failures)"
before=$(state_sum)
run_self "$password" -- new-codes
check "then the right password is refused" 1 "$RC"
check_absent "...without asking a code" "Verification code" "$work/out"
check_contains "...and says the account is locked" "locked" "$work/out"
check "...state unchanged" "$before" "$(state_sum)"
shipped_pam
faillock --dir "$faildir" --user "$user" --reset
run_self "wrong-$password" -- new-codes
check "after faillock --reset a wrong password counts from 1" 1 "$(failures)"
next_code
run_self "$password" "$CODE" -- new-codes
check "...and the right password works again" 0 "$RC"
check "...and its success clears the count" 0 "$(failures)"

# A stack that does not verify the second factor is caught.
printf 'auth required pam_unix.so nodelay\naccount include common-account\n' >"$work/pam.d/twofactor"
before=$(state_sum)
run_self "$password" -- new-codes
check "stack without pam_twofactor: refused" 1 "$RC"
check_contains "says the second factor was not checked" "did not check your second factor" "$work/out"
check "stack without pam_twofactor: state untouched" "$before" "$(state_sum)"
rm "$work/pam.d/twofactor"
run_self -- new-codes
check "no /etc/pam.d/twofactor: refused" 1 "$RC"
check_contains "no /etc/pam.d/twofactor: says so" "/etc/pam.d/twofactor is missing" "$work/out"
shipped_pam

# --- operations forbidden by twofactor.conf --------------------------------
before=$(state_sum)
for op in status new-codes enroll; do
  key=allow_user_${op//-/_}
  write_conf "$key = no"
  run_self -- "$op"
  check "$key = no: twofactor $op refused" 1 "$RC"
  check_contains "$key = no: says so" "is not allowed on this host" "$work/out"
done
check "forbidden operations: state untouched" "$before" "$(state_sum)"
write_conf "bogus_key = 1"
run_self -- status
check "bad configuration: refused" 1 "$RC"
check_contains "bad configuration: says ask the administrator" "ask your administrator" "$work/out"
write_conf

# --- an administrator's change while the tool waits for the user wins -----
cp -p "$state/$user" "$work/user.state.saved"
next_code
run_self "$password" "$CODE" "@SH:${ADMIN[*]} revoke $user --all" @TOTP -- enroll --qr none
check "enroll, revoked by the admin at the confirmation prompt: refused" 1 "$RC"
check_contains "...says the second factor changed meanwhile" "was changed while you were being asked" "$work/out"
check "...the revocation stands (no state file)" no "$([ -e "$state/$user" ] && echo yes || echo no)"
cp -p "$work/user.state.saved" "$state/$user"
next_code
run_self "$password" "@SH:${ADMIN[*]} issue $user --count 3" "$CODE" -- new-codes
check "new-codes, the admin issued a set at the code prompt: refused" 1 "$RC"
check "...no codes shown" 0 "$(printed_codes | wc -l)"
check "...the admin's set stays" 3 "$(awk '$1 == "codes" {print $NF}' "$state/$user")"
# A first set of codes is a first second factor: allow_user_enroll = no
# forbids it too.
"${ADMIN[@]}" revoke "$user" --all >/dev/null 2>&1
write_conf "allow_user_enroll = no"
run_self "$password" -- new-codes
check "allow_user_enroll = no: new-codes without a second factor refused" 1 "$RC"
check_contains "...says setting one up is not allowed" "setting one up yourself is not allowed" "$work/out"
check "...no state made" no "$([ -e "$state/$user" ] && echo yes || echo no)"
write_conf
cp -p "$work/user.state.saved" "$state/$user"

# --- environment and descriptors the user controls have no effect ---------
run_self -- status
cp "$work/out" "$work/status.plain"
mkdir -m 0700 "$work/evil-state"
if command -v cc >/dev/null; then
  printf '#include <unistd.h>\n__attribute__((constructor)) static void f(void) { write(2, "PWNED\\n", 6); }\n' \
    >"$work/evil.c"
  cc -shared -fPIC -o "$work/evil.so" "$work/evil.c"
  env LD_PRELOAD="$work/evil.so" /bin/true 2>"$work/control"
  check_contains "control: the preload library works on a normal program" PWNED "$work/control"
fi
printf 'state_dir = %s\nallow_user_status = no\n' "$work/evil-state" >"$work/evil.conf"
run_self -e LD_PRELOAD="$work/evil.so" -e LD_LIBRARY_PATH="$work" -e TZ=Pacific/Kiritimati \
  -e LANG=de_DE.UTF-8 -e LC_ALL=de_DE.UTF-8 -e TWOFACTOR_CONFIG="$work/evil.conf" \
  -e TWOFACTOR_STATE_DIR="$work/evil-state" -e PAM_WRAPPER=1 -- status
check "status with a hostile environment" 0 "$RC"
check_absent "LD_PRELOAD is ignored" PWNED "$work/out"
if diff -u "$work/status.plain" "$work/out" >"$work/diff"; then ok "TZ, locale, TWOFACTOR_* change nothing"
else not_ok "TZ, locale, TWOFACTOR_* change nothing" "$(cat "$work/diff")"; fi

before=$(state_sum)
run_self -w 'exec "$@" >&-' -- status
check "stdout closed: refused" 1 "$RC"
run_self -w 'exec "$@" 2>&-' -- status
check "stderr closed: refused" 1 "$RC"
run_self -w 'exec "$@" <&-' -- new-codes
check "stdin closed: refused" 1 "$RC"
run_self -w 'exec "$@" >&-' "$password" "$CODE" -- new-codes
check "new-codes with stdout closed: refused before asking" 1 "$RC"
check "closed descriptors: state untouched" "$before" "$(state_sum)"

# --- nothing else touched ---------------------------------------------------
check "the other user's state is untouched" "$other_before" "$(sha256sum <"$state/$other")"

sleep 0.2 # the sink writes each datagram as it comes
log=$work/syslog
check_contains "audit: new-codes success" "user=$user uid=$uid" "$log"
check_contains "audit: new-codes success" "operation=new-codes outcome=success count=10 replaced_set=yes" "$log"
check_contains "audit: enroll success" "operation=enroll outcome=success replaced=yes" "$log"
check_contains "audit: wrong password" "outcome=refused reason=reauthentication_failed" "$log"
check_contains "audit: wrong confirmation" "operation=enroll outcome=refused reason=confirmation_failed" "$log"
check_contains "audit: forbidden" "operation=new-codes outcome=refused reason=not_allowed" "$log"
check_contains "audit: unverified stack" "reason=second_factor_not_checked" "$log"
check_contains "audit: changed meanwhile" "operation=enroll outcome=refused reason=state_changed_meanwhile" "$log"
check_contains "audit: closed stdio" "standard input, output or error is closed" "$log"
[ -n "${TWOFACTOR_BROKEN_PASSWD:-}" ] &&
  check_contains "audit: failed passwd lookup" "operation=status outcome=refused reason=user_lookup_failed" "$log"
leaked=0
for secret in "${codes_a[@]}" "${codes_b[@]}" "${codes_c[@]}" "$SECRET" "$old_secret" "$password"; do
  [ -n "$secret" ] && grep -qF -- "$secret" "$log" && leaked=$((leaked + 1))
done
check "audit: no code, secret or password in the log" 0 "$leaked"

if changed=$(printf '%s\n' "$etc_before" | sha256sum --check --quiet 2>&1); then
  ok "host /etc/pam.d and /etc/security unchanged (sha256 of every file)"
else not_ok "host /etc/pam.d and /etc/security unchanged (sha256 of every file)" "$changed"; fi
check "host /etc/pam.d/twofactor and /etc/security/twofactor.conf as before" "$ours_before" "$(ours_state)"

echo "== $passed passed, $failed failed =="
[ "$failed" -eq 0 ]
