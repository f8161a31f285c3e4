#!/usr/bin/env bash
# Recognised devices end to end (docs/devices.md): a real OpenSSH sshd on
# 127.0.0.1 with AuthenticationMethods publickey,keyboard-interactive and
# ExposeAuthInfo yes, the real ssh client with two generated ed25519 keys,
# and the built pam_twofactor.so with remember_days = 1. The first login from
# a key asks for the code, the next one does not, the other key does; after
# `twofactor-admin forget` it asks again, and so it does once sshd's clock
# (libfaketime) is a day on. A forged SSH_AUTH_INFO_0 in the process
# environment, or in the PAM environment of a service not in
# remember_services, never skips. Needs root; cleans up whatever happens.
# Usage: sshd_devices_test.sh MODULE ADMIN_TOOL
set -euo pipefail
module=$1
admin=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "skipping: needs root"; exit 77; fi
faketime_lib=""
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
  [ -e "$f" ] && faketime_lib=$f && break
done
[ -n "$faketime_lib" ] || { echo "libfaketime not found (Debian package faketime)"; exit 1; }

tag="tf-dev-$$"
service="sshd-$tag"
other="su-$tag"
listed="listed-$tag"
user="tfdev$$"
work=$(mktemp -d "/tmp/$tag.XXXXXX")
sshd_pid=""

stop_sshd() {
  if [ -n "$sshd_pid" ]; then
    kill "$sshd_pid" 2>/dev/null || true
    wait "$sshd_pid" 2>/dev/null || true
    sshd_pid=""
  fi
}
cleanup() {
  set +e
  stop_sshd
  rm -f "/etc/pam.d/$service" "/etc/pam.d/$other" "/etc/pam.d/$listed"
  userdel -r "$user" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

chmod 0755 "$work"
mkdir -m 0700 "$work/state"
cat > "$work/twofactor.conf" <<CONF
state_dir = $work/state
scrypt_log2_n = 10
remember_days = 1
# Each code login below uses the next time step (no waiting for one).
window = 10
CONF
tf_admin() { "$admin" --config "$work/twofactor.conf" "$@"; }

useradd -m -s /bin/sh "$user"
# The account must be usable without a password (public key only).
usermod -p '*' "$user"
install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$work/key_a"
ssh-keygen -q -t ed25519 -N '' -f "$work/key_b"
cat "$work/key_a.pub" "$work/key_b.pub" >"/home/$user/.ssh/authorized_keys"
chown "$user:$user" "/home/$user/.ssh/authorized_keys"
chmod 0600 "/home/$user/.ssh/authorized_keys"
chmod 0600 "$work/key_a" "$work/key_b"

# The key is the first factor; the code the second. `remember_services`
# names the test's service (sshd takes the basename of argv[0] as it).
cat > "/etc/pam.d/$service" <<PAM
auth required $module config=$work/twofactor.conf remember_services=$service
account required pam_permit.so
session required pam_permit.so
password required pam_deny.so
PAM
# Another service, whose PAM environment does get SSH_AUTH_INFO_0 (put there
# by a test module, as sshd would; as a module that lets users write the PAM
# environment could): it is not in remember_services, so it never skips.
putenv=${TWOFACTOR_TEST_PUTENV:?the test module pam_test_putenv.so (set by ctest)}
echo "publickey $(cut -d' ' -f1-2 "$work/key_a.pub")" >"$work/auth_info"
cat > "/etc/pam.d/$other" <<PAM
auth optional $putenv file=$work/auth_info
auth required $module config=$work/twofactor.conf remember_services=$service
account required pam_permit.so
PAM
# The same stack, listed: it does skip. The control that shows the check
# above can fail, and why nothing a user controls may feed a listed service.
cat > "/etc/pam.d/$listed" <<PAM
auth optional $putenv file=$work/auth_info
auth required $module config=$work/twofactor.conf remember_services=$service,$listed remember_by=key
account required pam_permit.so
PAM

mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $work/hostkey
PidFile $work/sshd.pid
UsePAM yes
PubkeyAuthentication yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
AuthenticationMethods publickey,keyboard-interactive
ExposeAuthInfo yes
PermitRootLogin no
AllowUsers $user
MaxAuthTries 3
LogLevel VERBOSE
CONF
ln -s /usr/sbin/sshd "$work/$service"

start_sshd() { # start_sshd [FAKETIME offset]: sshd (and the module in it) on a shifted clock
  stop_sshd
  : >"$work/sshd.log"
  if [ -n "${1:-}" ]; then
    LD_PRELOAD="$faketime_lib" FAKETIME="$1" FAKETIME_DONT_FAKE_MONOTONIC=1 \
      "$work/$service" -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
  else
    "$work/$service" -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
  fi
  sshd_pid=$!
  for _ in $(seq 100); do grep -q "Server listening" "$work/sshd.log" && break; sleep 0.1; done
  grep -q "Server listening" "$work/sshd.log" || { cat "$work/sshd.log"; echo "sshd did not start"; exit 1; }
}

login() { # login KEY ANSWER... ; 0 logged in, 1 denied, 3 asked more than answered
  local key=$1; shift
  local rc=0
  "$here/answer.exp" 20 "$@" -- ssh -tt -p "$port" -i "$key" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=publickey,keyboard-interactive \
    -o NumberOfPasswordPrompts=1 -o LogLevel=ERROR "$user@127.0.0.1" >"$work/out" 2>&1 || rc=$?
  echo "$rc"
}
step=0
code() { # code [OFFSET]: a code for step number $step from now, OFFSET seconds on (advance first)
  oathtool --totp -b "$secret" --now "@$(( $(date +%s) + ${1:-0} + 30 * step ))"
}
device_count() { tf_admin list "$user" --json >"$work/list.json"; /usr/bin/python3 -c 'import json,sys
print(len(json.load(open(sys.argv[1]))["users"][0]["devices"]))' "$work/list.json"; }

tf_admin enroll "$user" --no-confirm --qr none --json >"$work/enroll.json"
secret=$(json_field "$work/enroll.json" secret)
start_sshd

echo "# the first login from key A asks for the code; the next does not"
check "key A, no code: asked" 3 "$(login "$work/key_a")"
check "key A + code: logged in" 0 "$(login "$work/key_a" "$(code)")"
check "key A remembered" 1 "$(device_count)"
fp_a=$(ssh-keygen -lf "$work/key_a.pub" | cut -d' ' -f2)
check "list --json shows key A's fingerprint" "$fp_a" "$(/usr/bin/python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["users"][0]["devices"][0]["fingerprint"])' "$work/list.json")"
check "key A again: no code asked" 0 "$(login "$work/key_a")"
check "key B: asked" 3 "$(login "$work/key_b")"

echo "# forged SSH_AUTH_INFO_0 never skips"
# The process environment of a PAM application the user runs (su, sudo).
rc=0
SSH_AUTH_INFO_0="publickey $(cut -d' ' -f1-2 "$work/key_a.pub")" pamtester "$service" "$user" authenticate \
  </dev/null >"$work/pamtester.out" 2>&1 || rc=$?
check "process environment: not skipped" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
# The PAM environment of a service that is not in remember_services.
rc=0
pamtester "$other" "$user" authenticate </dev/null >"$work/pamtester.out" 2>&1 || rc=$?
check "another service: not skipped" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
rc=0
pamtester "$listed" "$user" authenticate </dev/null >"$work/pamtester.out" 2>&1 || rc=$?
check "control: the same PAM environment in a listed service skips" 0 "$rc"
check "key A still remembered over ssh" 0 "$(login "$work/key_a")"

echo "# twofactor-admin forget"
id_a=$(/usr/bin/python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["users"][0]["devices"][0]["id"])' "$work/list.json")
tf_admin forget "$user" "$id_a" 2>"$work/forget.err"
check_contains "forget names the device" "forgot device $id_a" "$work/forget.err"
check "after forget: asked" 3 "$(login "$work/key_a")"
# Remembered again; then a code from key B too, and forget --all.
step=1
check "key A + code again" 0 "$(login "$work/key_a" "$(code)")"
step=2
check "key B + code" 0 "$(login "$work/key_b" "$(code)")"
check "two devices" 2 "$(device_count)"
tf_admin forget "$user" --all 2>/dev/null
check "forget --all" 0 "$(device_count)"
check "after forget --all: key B asked" 3 "$(login "$work/key_b")"

echo "# expiry: a day later on sshd's clock"
step=3
check "key A + code" 0 "$(login "$work/key_a" "$(code)")"
start_sshd "+86000"
check "not quite a day later: not asked" 0 "$(login "$work/key_a")"
start_sshd "+1d"
check "a day later: asked" 3 "$(login "$work/key_a")"
check "a day later, with a code: logged in" 0 "$(login "$work/key_a" "$(code 86400)")"
start_sshd "+86410"
check "remembered again from that code" 0 "$(login "$work/key_a")"
summary
