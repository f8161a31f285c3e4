#!/usr/bin/env bash
# What the calling user can do to a running twofactor(1), for drive.exp's
# @SH steps: finds the tool's process (the newest whose command line starts
# with BIN, the test's setuid copy) and appends what it saw to LOG.
#   signal SIG...  as USER, sends each SIG: "SIG sent" or "SIG refused: ERROR"
#   state          the process's state letter (S sleeping, T stopped, ...)
#   trace          attaches strace (as root) in the background, every call
#                  to LOG.strace; the getresuid and getresgid calls that
#                  follow a credential change are held 150 ms on entry.
#                  Returns once strace is attached.
#   watch          in the background until the process ends (at most ~60 s):
#                  whenever the process is held in one of those calls, one
#                  line "held owner=UID environ=readable|unreadable": the
#                  owner of /proc/PID/environ (the kernel gives the files
#                  there to the effective uid only while the process is
#                  dumpable) and whether USER can read it (dumpable and all
#                  its ids USER's); "watched N samples" at the end. Only
#                  the held calls count: ptrace stops the process at every
#                  call, which makes even the instant between a set*id call
#                  and the PR_SET_DUMPABLE right after it last long enough
#                  to be seen.
# Usage: caller_probe.sh USER BIN LOG signal|state|watch|trace [SIG...]
set -uo pipefail
user=$1 bin=$2 log=$3 what=$4
shift 4
pid=$(pgrep -n -f "^$bin( |\$)") || { echo "no process for $bin" >>"$log"; exit 1; }
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups "$@"; }

case $what in
  signal)
    for sig; do
      if out=$(as_user kill -s "$sig" "$pid" 2>&1); then echo "$sig sent" >>"$log"
      else echo "$sig refused: $out" >>"$log"; fi
    done ;;
  state)
    sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$pid/status" >>"$log" ;;
  trace)
    strace -qq -o "$log.strace" -e trace=all -e inject=getresuid,getresgid:delay_enter=150ms -p "$pid" \
      </dev/null >/dev/null 2>&1 &
    for _ in $(seq 100); do
      [ "$(awk '/^TracerPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" -gt 0 ] 2>/dev/null && exit 0
      sleep 0.05
    done
    echo "strace did not attach" >>"$log"
    exit 1 ;;
  watch)
    held_calls=$(printf 'SYS_getresuid SYS_getresgid\n' | cpp -P -include sys/syscall.h | tail -1)
    [ -n "$held_calls" ] || { echo "no syscall numbers (cpp)" >>"$log"; exit 1; }
    call() { cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null; }
    {
      n=0
      while [ -d "/proc/$pid" ] && [ "$n" -lt 3000 ]; do
        before=$(call)
        if [ -n "$before" ] && [[ " $held_calls " == *" $before "* ]]; then
          owner=$(stat -c %u "/proc/$pid/environ" 2>/dev/null)
          environ=unreadable
          as_user head -c 1 "/proc/$pid/environ" >/dev/null 2>&1 && environ=readable
          [ "$(call)" = "$before" ] && echo "held owner=$owner environ=$environ"
        fi
        n=$((n + 1))
        sleep 0.02
      done
      echo "watched $n samples"
    } </dev/null >>"$log" 2>&1 &
    ;;
  *)
    echo "unknown probe $what" >&2
    exit 2 ;;
esac
