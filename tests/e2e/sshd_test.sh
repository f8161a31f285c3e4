#!/usr/bin/env bash
# End to end through a real OpenSSH sshd on 127.0.0.1 and the real ssh client
# (keyboard-interactive, driven by expect), with pam_unix + the built
# pam_twofactor.so. Needs root: it adds users and a file in /etc/pam.d, and
# removes them again whatever happens.
# Usage: sshd_test.sh MODULE ADMIN_TOOL
set -euo pipefail
module=$1
admin=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "skipping: needs root"; exit 77; fi

tag="tf-e2e-$$"
service="sshd-$tag"
user="tfe2e$$"
user2="tfe2en$$"
group="tfe2eg$$"
password="Pw-$RANDOM-$RANDOM"
work=$(mktemp -d "/tmp/$tag.XXXXXX")
sshd_pid=""

cleanup() {
  set +e
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
  rm -f "/etc/pam.d/$service"
  userdel -r "$user" 2>/dev/null
  userdel -r "$user2" 2>/dev/null
  groupdel "$group" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

chmod 0755 "$work"
mkdir -m 0700 "$work/state"
write_config() { # write_config [EXTRA LINE...]
  {
    printf '%s\n' "state_dir = $work/state" "scrypt_log2_n = 10" "max_failures = 3" "lockout_seconds = 600"
    [ $# -eq 0 ] || printf '%s\n' "$@"
  } > "$work/twofactor.conf"
}
write_config
tf_admin() { "$admin" --config "$work/twofactor.conf" "$@"; }

useradd -m -s /bin/sh "$user"
useradd -m -s /bin/sh "$user2"
groupadd "$group"
usermod -a -G "$group" "$user"
echo "$user:$password" | chpasswd
echo "$user2:$password" | chpasswd

# The stack under test. Rewritten between scenarios: sshd's child reads it at
# each pam_start.
write_stack() { # write_stack "MODULE OPTIONS" [forward]
  if [ "${2:-}" = forward ]; then
    cat > "/etc/pam.d/$service" <<PAM
auth required $module config=$work/twofactor.conf $1
auth required pam_unix.so nodelay use_first_pass
account required pam_unix.so
session required pam_permit.so
password required pam_deny.so
PAM
  else
    cat > "/etc/pam.d/$service" <<PAM
auth required pam_unix.so nodelay
auth required $module config=$work/twofactor.conf $1
account required pam_unix.so
session required pam_permit.so
password required pam_deny.so
PAM
  fi
}
write_stack ""

# sshd uses the basename of argv[0] as its PAM service: run it through a symlink.
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $work/hostkey
PidFile $work/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
AuthenticationMethods keyboard-interactive
PermitRootLogin no
AllowUsers $user $user2
MaxAuthTries 1
LogLevel VERBOSE
CONF
ln -s /usr/sbin/sshd "$work/$service"
"$work/$service" -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do grep -q "Server listening" "$work/sshd.log" && break; sleep 0.1; done
grep -q "Server listening" "$work/sshd.log" || { cat "$work/sshd.log"; echo "sshd did not start"; exit 1; }

login() { # login USER ANSWER... ; prints the session to $work/out, returns expect's code
  local who=$1; shift
  local rc=0
  # An interactive shell on a tty: sshd shows what PAM said after the last
  # prompt (the remaining-codes message) only as a login message, which it
  # prints for a tty session without a command. answer.exp then types the
  # marker command at the shell prompt.
  "$here/answer.exp" 20 "$@" -- ssh -tt -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no \
    -o NumberOfPasswordPrompts=1 -o LogLevel=ERROR "$who@127.0.0.1" >"$work/out" 2>&1 || rc=$?
  echo "$rc"
}
totp_now() { oathtool --totp -b "$secret"; }

# Enrol TOTP (the confirmation code from oathtool) and issue backup codes.
tf_admin enroll "$user" --no-confirm --qr none --json >"$work/enroll.json"
secret=$(json_field "$work/enroll.json" secret)
tf_admin issue "$user" --json >"$work/issue.json" 2>/dev/null
mapfile -t codes < <(json_field "$work/issue.json" codes)
check "ten backup codes issued" 10 "${#codes[@]}"

echo "# password + current TOTP"
check "TOTP login" 0 "$(login "$user" "$password" "$(totp_now)")"
check_contains "remote command ran" "LOGIN-OK" "$work/out"

echo "# password + backup code"
check "backup-code login" 0 "$(login "$user" "$password" "${codes[0]}")"
check_contains "remaining-codes message reaches the client" "9 of 10 backup codes remain" "$work/out"

echo "# refusals"
check "same backup code again" 1 "$(login "$user" "$password" "${codes[0]}")"
check "wrong password + right code" 1 "$(login "$user" "wrong-$password" "${codes[1]}")"
check "right password + wrong code" 1 "$(login "$user" "$password" "000000")"

echo "# lockout after max_failures (3), then twofactor-admin unlock"
tf_admin unlock "$user" >/dev/null
for i in 1 2 3; do check "wrong code $i" 1 "$(login "$user" "$password" "ZZZZZZZZ")"; done
check "locked out: right backup code refused" 1 "$(login "$user" "$password" "${codes[2]}")"
# OpenSSH shows nothing a PAM module says after the last prompt of a failed
# keyboard-interactive login; the lockout message is checked on the console.
tf_admin unlock "$user" >/dev/null
check "after unlock: same backup code accepted" 0 "$(login "$user" "$password" "${codes[2]}")"

echo "# unenrolled user"
check "unenrolled, no nullok: denied" 1 "$(login "$user2" "$password" "123456")"
write_stack "nullok"
check "unenrolled, nullok: password alone" 0 "$(login "$user2" "$password")"
check "enrolled, nullok: still asked" 0 "$(login "$user" "$password" "${codes[3]}")"

# answer.exp exits 3 when asked more than it was given: "password only"
# logins tell "let in without a code" (0) from "asked for one" (3).
echo "# exemptions (sshd gives PAM_RHOST 127.0.0.1)"
write_stack ""
write_config "exempt_groups = $group"
check "in an exempt group: password alone" 0 "$(login "$user" "$password")"
check "not in it: asked for a code" 3 "$(login "$user2" "$password")"
write_config "exempt_networks = 192.0.2.0/24, 127.0.0.0/8"
check "from an exempt network: password alone, not enrolled" 0 "$(login "$user2" "$password")"
check "from an exempt network: still needs the password" 1 "$(login "$user2" "wrong-$password")"
write_config "exempt_networks = 10.0.0.0/8, ::1/128"
check "from another network: asked for a code" 3 "$(login "$user2" "$password")"
write_config "require_groups = $group"
check "outside require_groups: password alone" 0 "$(login "$user2" "$password")"
check "inside require_groups: asked for a code" 3 "$(login "$user" "$password")"
check "inside require_groups: code accepted" 0 "$(login "$user" "$password" "${codes[6]}")"
for bad in "exempt_networks = 127.0.0.1/8" "exempt_networks = localhost/32" "exempt_groups = $group,"; do
  write_config "$bad"
  check "bad value '$bad': right password and code refused" 1 "$(login "$user" "$password" "$(totp_now)")"
done
write_config
tf_admin unlock "$user" >/dev/null 2>&1 || true

echo "# forward_pass: one prompt carries password and code"
write_stack "forward_pass" forward
check "password+TOTP in one answer" 0 "$(login "$user" "$password$(oathtool --totp -b "$secret" --now "@$(( $(date +%s) + 30 ))")")"
check "password+backup code in one answer" 0 "$(login "$user" "$password${codes[4]}")"
check "wrong password + code in one answer" 1 "$(login "$user" "x$password${codes[5]}")"

if ! grep -q "pam_twofactor" "$work/sshd.log"; then :; fi
for c in "${codes[@]}"; do
  if grep -qF "$c" "$work/sshd.log"; then check "no backup code in the sshd log" absent present; break; fi
done
summary
