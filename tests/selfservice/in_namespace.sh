#!/usr/bin/env bash
# Runs COMMAND in the private mount namespace it is started in (unshare -m)
# after putting the test's files where twofactor(1) and libpam look, which
# are fixed paths: the test config over /etc/security/twofactor.conf (or a
# copy of the whole /etc/security holding it, when the host has no such
# file), a copy of /etc/pam.d with the test "twofactor" service over
# /etc/pam.d, and the test's syslog socket at /dev/log. Nothing outside this
# namespace changes.
# Usage: unshare -m in_namespace.sh WORK -- COMMAND ARGS...
set -euo pipefail
work=$1
shift
[ "$1" = -- ] && shift

mount --make-rprivate /
if [ -e /etc/security/twofactor.conf ]; then
  mount --bind "$work/etc-security/twofactor.conf" /etc/security/twofactor.conf
else
  mount --bind "$work/etc-security" /etc/security
fi
mount --bind "$work/pam.d" /etc/pam.d

if [ -e /dev/log ] || [ -L /dev/log ]; then
  mount --bind "$work/log.sock" /dev/log
else
  # No /dev/log to cover: rebuild /dev on a tmpfs from the real one (bind
  # mounts of each entry), plus our socket.
  mkdir -p "$work/realdev"
  mount --rbind /dev "$work/realdev"
  mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
  for entry in "$work/realdev"/* "$work/realdev"/.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry##*/}
    if [ "$name" = ptmx ]; then
      # A bind-mounted ptmx node finds no devpts beside it: use the
      # devpts instance's own ptmx (root, who runs expect, may open it).
      ln -s pts/ptmx /dev/ptmx
    elif [ -L "$entry" ]; then
      cp -P "$entry" "/dev/$name"
    elif [ -d "$entry" ]; then
      mkdir "/dev/$name"
      mount --rbind "$entry" "/dev/$name"
    else
      touch "/dev/$name"
      mount --bind "$entry" "/dev/$name"
    fi
  done
  touch /dev/log
  mount --bind "$work/log.sock" /dev/log
fi
exec "$@"
