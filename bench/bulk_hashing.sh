#!/usr/bin/env bash
# Bulk hashing on every core: `twofactor-admin import` of USERS
# google-authenticator files with 5 scratch codes each, and `issue` of a
# 10-code set for USERS users, each in ONE run, at the default scrypt cost
# (2^14, 8, 1). Prints the wall time against the ideal, KDFs x one KDF /
# cores, where one KDF is the median of bench/core_timing's in-process
# backup-code check (one scrypt evaluation and a compare). The target is a
# ratio of at most 1.15. The CPU time against KDFs x one KDF shows the work
# beside the hashing whatever else runs on the machine (the wall ratio
# needs the cores to itself). Nothing here is a test: no timing is asserted.
# The accounts exist only inside a private mount namespace (as in
# scripts/bench, scenario 6): /etc there is a directory of links to the
# real one with its own passwd; nothing on the host changes.
# Needs root and google-authenticator(1). Usage:
#   bench/bulk_hashing.sh [BUILD_DIR] [USERS]    (defaults: build, 1000)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
USERS=${2:-1000}
ADMIN=$build/admin_tool/twofactor-admin
TIMING=$build/bench/core_timing
for f in "$ADMIN" "$TIMING"; do
    [ -x "$f" ] || { echo "missing $f (cmake --build $build --target twofactor-admin core_timing)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (accounts in a private mount namespace)" >&2; exit 1; }
command -v google-authenticator >/dev/null || { echo "needs google-authenticator (libpam-google-authenticator)" >&2; exit 1; }

W=$(mktemp -d /tmp/twofactor-bulk-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
CORES=$(nproc)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# One KDF at the default cost, on an otherwise idle core of this process.
kdf_ms=$("$TIMING" 20 14 | sed -n 's/^Backup-code verification (scrypt N=2^14.*median \([0-9.]*\) ms.*/\1/p')
[ -n "$kdf_ms" ] || { echo "core_timing printed no backup-code median" >&2; exit 1; }

mkdir -p "$W/etc" "$W/real-etc" "$W/ga"
mkdir -m 0700 "$W/state-import" "$W/state-issue"
find /etc -mindepth 1 -maxdepth 1 ! -name passwd -printf '%f\n' |
    while IFS= read -r name; do ln -s "$W/real-etc/$name" "$W/etc/$name"; done
cp /etc/passwd "$W/etc/passwd"
seq -f 'tfbulk%04g' 0 $((USERS - 1)) >"$W/users"
awk '{ printf "%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n", $1, 71000 + NR, 71000 + NR }' "$W/users" >>"$W/etc/passwd"
n=0
while IFS= read -r u; do
    n=$((n + 1))
    google-authenticator -t -d -f -q -Q NONE -C -w 3 -u -e 5 -s "$W/ga/$u" >/dev/null
    chown $((71000 + n)) "$W/ga/$u"
done <"$W/users"
printf 'scrypt_log2_n = 14\nscrypt_r = 8\nscrypt_p = 1\n' >"$W/twofactor.conf"

unshare --mount --propagation private bash -c '
    set -e
    W=$1 ADMIN=$2
    mount --bind /etc "$W/real-etc"
    mount --bind "$W/etc" /etc
    TIMEFORMAT="%R %U %S"
    { time "$ADMIN" --config "$W/twofactor.conf" --state-dir "$W/state-import" import \
        --from google-authenticator "$W"/ga/* >"$W/import.out" 2>"$W/import.err"; } 2>"$W/import.time"
    cut -d" " -f1-3 /proc/loadavg >>"$W/import.time"
    mapfile -t users <"$W/users"
    { time "$ADMIN" --config "$W/twofactor.conf" --state-dir "$W/state-issue" issue "${users[@]}" --json \
        >"$W/issue.out" 2>"$W/issue.err"; } 2>"$W/issue.time"
    cut -d" " -f1-3 /proc/loadavg >>"$W/issue.time"
' bench "$W" "$ADMIN"

imported=$(grep -c ': imported' "$W/import.out" || true)
issued=$(grep -c '"codes":\[' "$W/issue.out" || true)
[ "$imported" -eq "$USERS" ] || { echo "import: $imported of $USERS users imported" >&2; tail -3 "$W/import.err" >&2; exit 1; }
[ "$issued" -eq "$USERS" ] || { echo "issue: $issued of $USERS sets issued" >&2; tail -3 "$W/issue.err" >&2; exit 1; }

report() { # report NAME KDFS TIMEFILE (wall user sys, then the load average after)
    { read -r wall user sys; read -r load; } <"$3"
    awk -v name="$1" -v kdfs="$2" -v kdf="$kdf_ms" -v cores="$CORES" -v wall="$wall" -v user="$user" -v sys="$sys" \
        -v load="$load" 'BEGIN {
        ideal = kdfs * kdf / 1000 / cores; cpu = user + sys
        printf "| %s | %d | %.1f | %.1f | %.2f | %.1f | %.2f | %s |\n", name, kdfs, wall, ideal, wall / ideal, cpu,
            cpu / (kdfs * kdf / 1000), load }'
}
echo "Bulk hashing, $(date -u '+%Y-%m-%d %H:%M UTC'), $CORES cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), load average before: $LOAD_BEFORE"
echo "One KDF (scrypt 2^14, r=8, p=1; core_timing median): $kdf_ms ms"
echo
echo "| run | KDFs | wall s | ideal wall s (KDFs x one KDF / cores) | wall / ideal | CPU s (user+sys) | CPU / (KDFs x one KDF) | load average after |"
echo "|---|--:|--:|--:|--:|--:|--:|---|"
report "import, $USERS google-authenticator files x 5 scratch codes" $((USERS * 5)) "$W/import.time"
report "issue, $USERS users x 10 codes" $((USERS * 10)) "$W/issue.time"
