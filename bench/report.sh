# Sourced by scripts/bench: turns the figures in $RUN/out into
# bench/RESULTS.md. Uses the variables and helpers scripts/bench defines.

# The peer with the lowest median in a tsv (full runs only, not the
# "-without-fsync" diagnostics): "name<TAB>median".
fastest_peer() {
  awk -F'\t' '$1 !~ /^ours/ && $1 !~ /without-fsync/ { if (best == "" || $3 < m) { best = $1; m = $3 } }
              END { printf "%s\t%s\n", best, m }' "$1"
}

# median of pam_authenticate alone, and of the rest of the login (libpam
# loading and unloading the module in pam_start / pam_end), for case $2.
auth_only() { awk -F'\t' -v n="$2" '$1==n {print $10}' "$1"; }
load_part() { awk -F'\t' -v n="$2" '$1==n {printf "%.3f", $3 - $10}' "$1"; }
faults() { awk -F'\t' -v n="$2" '$1==n {printf "%.0f", $11}' "$1"; }
# system calls per login above pam_permit's (scenario 2c)
syscalls() {
  awk -F'\t' -v n="$1" '$2 == "total" { c[$1] = $3 } END { printf "%.0f", c[n] - c["permit"] }' "$RUN/out/s2c.tsv"
}

verdict_le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b ? "yes" : "**no**") }'; }

kdf_table() {
  awk -F'\t' '
    BEGIN { print "| attempt | unused codes before it | PAM result | scrypt evaluations |"; print "|---|--:|---|--:|" }
    {
      split($3, l, ":"); kind = l[1]; left = l[2]
      what = kind == "right" ? "right backup code" : kind == "wrong" ? "wrong backup code (ZZZZZZZZ)" \
           : kind == "reused" ? "a code already used" : "wrong 6-digit (TOTP-shaped) code"
      printf "| %s | %s | %s | %s |\n", what, left, $4, $6
    }' "$RUN/out/s5-trace.tsv"
}

# "yes" if every backup-code-shaped attempt with codes left ran exactly one
# KDF (the target). Attempts with no code left and 6-digit inputs are
# reported, not judged (a decoy KDF there is a timing choice, not a cost).
kdf_verdict() {
  awk -F'\t' '{ split($3, l, ":"); if ((l[1] == "wrong" || l[1] == "right") && l[2] > 0 && $6 != 1) bad++ }
              END { print bad ? "**no**" : "yes" }' "$RUN/out/s5-trace.tsv"
}

# What each module makes the dynamic loader map into a login process.
module_table() {
  local m path
  echo "| module | size, KiB | direct dependencies | shared objects loaded with it (\`ldd\`) |"
  echo "|---|--:|---|--:|"
  for m in "ours:$MODULE" \
           "google-authenticator:$(find /lib /usr/lib -name pam_google_authenticator.so -print -quit)" \
           "pam_oath:$(find /lib /usr/lib -name pam_oath.so -print -quit)"; do
    path=${m#*:}
    printf '| %s | %s | %s | %s |\n' "${m%%:*}" "$(( $(stat -c %s "$path") / 1024 ))" \
      "$(readelf -d "$path" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | paste -sd ' ' | sed 's/ /, /g')" \
      "$(ldd "$path" | grep -c '=>')"
  done
}

# One process per login (scenarios 1b and 2b): the table of tsv $1 (service,
# whole process µs, pam_start to pam_end µs).
process_table() {
  awk -F'\t' '
    function sortv(a, c,   i, j, x) { for (i = 2; i <= c; i++) { x = a[i] + 0; j = i - 1; while (j > 0 && a[j] + 0 > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x } }
    { w[$1] = w[$1] " " $2; p[$1] = p[$1] " " $3 }
    END {
      names["permit"] = "pam_permit (no module work)"
      names["ours-tmpfs"] = "ours"; names["ga-tmpfs"] = "google-authenticator"
      names["oath-tmpfs"] = "pam_oath"
      split("permit ours-tmpfs ga-tmpfs oath-tmpfs", order, " ")
      for (k = 1; k <= 4; k++) {
        s = order[k]
        c = split(substr(w[s], 2), a, " "); sortv(a, c)
        runs[s] = c; wmed[s] = a[int((c + 1) / 2)] / 1000; wp99[s] = a[int(0.99 * c + 0.999999)] / 1000
        c = split(substr(p[s], 2), b, " "); sortv(b, c)
        pmed[s] = b[int((c + 1) / 2)] / 1000; pp99[s] = b[int(0.99 * c + 0.999999)] / 1000
      }
      print "| PAM service | runs | whole process, median ms | p99 ms | pam_start to pam_end, median ms | p99 ms | pam_start to pam_end minus pam_permit, ms | ours ÷ this, pam_start to pam_end |"
      print "|---|--:|--:|--:|--:|--:|--:|--:|"
      for (k = 1; k <= 4; k++) {
        s = order[k]
        printf "| %s | %d | %.2f | %.2f | %.3f | %.3f | %.3f | %.2f |\n", names[s], runs[s], wmed[s], wp99[s], pmed[s], pp99[s], pmed[s] - pmed["permit"], pmed["ours-tmpfs"] / pmed[s]
      }
    }' "$1"
}

# Per-process figures of tsv $1, pam_start to pam_end: ours ÷ the faster
# peer (medians), and what ours and that peer add to pam_permit, in ms.
process_median() { awk -F'\t' -v s="$2" '$1 == s { print $3 }' "$1" | median_of /dev/stdin; }
process_figures() {
  local tsv=$1 ours peer permit
  ours=$(process_median "$tsv" ours-tmpfs)
  peer=$(for s in ga-tmpfs oath-tmpfs; do process_median "$tsv" "$s"; done | sort -n | head -1)
  permit=$(process_median "$tsv" permit)
  printf '%s\t%s\t%s\n' "$(div "$ours" "$peer")" \
    "$(awk -v a="$ours" -v b="$permit" 'BEGIN { printf "%.3f", (a - b) / 1000 }')" \
    "$(awk -v a="$peer" -v b="$permit" 'BEGIN { printf "%.3f", (a - b) / 1000 }')"
}

# Scenario 2c: system calls a login adds to pam_permit's, per module and
# code, one row per system call that any module makes at least 0.5 times
# more (or fewer) per login; "total" first.
syscall_table() {
  awk -F'\t' '
    { c[$1, $2] = $3; calls[$2] = 1 }
    END {
      n = split("ours-wrong google-authenticator-wrong pam_oath-wrong ours-right google-authenticator-right pam_oath-right", cols, " ")
      head = "| system call | pam_permit, whole login |"; rule = "|---|--:|"
      for (k = 1; k <= n; k++) { t = cols[k]; sub(/-wrong$/, ", wrong code", t); sub(/-right$/, ", right code", t); head = head " " t " |"; rule = rule "--:|" }
      print head; print rule
      rows = "total"
      for (s in calls) if (s != "total") {
        keep = 0
        for (k = 1; k <= n; k++) { d = c[cols[k], s] - c["permit", s]; if (d >= 0.5 || d <= -0.5) keep = 1 }
        if (keep) rows = rows " " s
      }
      m = split(rows, r, " ")
      for (i = 3; i <= m; i++) { x = r[i]; j = i - 1; while (j > 1 && c["ours-right", r[j]] - c["permit", r[j]] < c["ours-right", x] - c["permit", x]) { r[j + 1] = r[j]; j-- } r[j + 1] = x }
      for (i = 1; i <= m; i++) {
        line = "| " r[i] " | " sprintf("%.0f", c["permit", r[i]])
        for (k = 1; k <= n; k++) line = line " | +" sprintf("%.1f", c[cols[k], r[i]] - c["permit", r[i]])
        gsub(/\+-/, "−", line)
        print line " |"
      }
    }' "$RUN/out/s2c.tsv"
}

median_of() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Section 8's earlier measurements, which scripts/bench does not repeat
# (they need a test build: tests/pam's login driver).
pg_history() {
  cat <<'EOF_PG'
### Earlier measurements (bench/pg_bench.sh, 2026-12-05)

Not repeated by `scripts/bench`: run `sudo bench/pg_bench.sh build 200`
with a test build (it drives logins with tests/pam's login driver). Whole
PAM transactions through the built module, one at a time, a private server
on a Unix socket and on 127.0.0.1 (then with `sslmode=disable`, which the
store now refuses; TLS added about 4 ms per connection in a later short
run), the "file" rows with `store = file`. Load average 0.4–2.6.

### Whole logins (ms, 200 logins each)

| case                  | file p50 | pg, Unix socket p50 | pg, TCP 127.0.0.1 p50 | pg − file |
| --------------------- | -------: | ------------------: | --------------------: | --------: |
| wrong code            |     3.75 |               21.43 |                 23.91 | +18 to +20 |
| backup code (2^14)    |    42.90 |               62.57 |                 63.12 | +20 |
| backup code (2^10)    |     6.86 |               25.87 |                 25.89 | +19 |

Means and tails from the same run:

| case                     |     n | mean ms |  p50 ms |  p90 ms |  p99 ms |
| ------------------------ | ----- | ------- | ------- | ------- | ------- |
| file wrong code          |   200 |    3.97 |    3.75 |    4.18 |   10.48 |
| file backup (2^14)       |   200 |   43.31 |   42.90 |   43.61 |   55.81 |
| file backup (2^10)       |   200 |    6.90 |    6.86 |    7.09 |    7.45 |
| pg_unix wrong code       |   200 |   21.94 |   21.43 |   23.90 |   28.60 |
| pg_unix backup (2^14)    |   200 |   63.20 |   62.57 |   65.74 |   80.00 |
| pg_unix backup (2^10)    |   200 |   26.40 |   25.87 |   28.16 |   31.82 |
| pg_tcp wrong code        |   200 |   24.42 |   23.91 |   25.84 |   31.29 |
| pg_tcp backup (2^14)     |   200 |   63.62 |   63.12 |   65.74 |   77.73 |
| pg_tcp backup (2^10)     |   200 |   26.31 |   25.89 |   27.71 |   31.10 |

### Where the store's time goes (no PAM; `bench/pg_store_timing.cpp`)

| store    | operation                              |     n | mean ms |  p50 ms |  p90 ms |
| -------- | -------------------------------------- | ----- | ------- | ------- | ------- |
| pg_unix  | load(): connect, schema check, read    |   200 |    8.49 |    8.29 |    8.85 |
| pg_unix  | load() on the open connection          |   200 |    0.88 |    0.86 |    0.91 |
| pg_unix  | update(): lock, read, write, COMMIT    |   200 |    1.88 |    1.88 |    1.95 |
| pg_tcp   | load(): connect, schema check, read    |   200 |    8.85 |    8.52 |   10.15 |
| pg_tcp   | load() on the open connection          |   200 |    0.92 |    0.90 |    1.02 |
| pg_tcp   | update(): lock, read, write, COMMIT    |   200 |    2.01 |    1.97 |    2.15 |

A login through the module is: load() before the prompt on a new
connection (≈8.3 ms, nearly all of it the connection: a forked backend and
SCRAM; `SELECT 1` after connecting takes 0.26 ms), then the connection is
closed while the user types, then the verifier's load() on a new connection
(≈8.3 ms) and update() on that one (≈1.9 ms, mostly the WAL flush at COMMIT).
≈18.5 ms in all, which is the difference measured above. The queries
themselves are about 3 ms.

### Two design choices, measured

**Closing the connection while the user types** (`StateStore::idle()`,
called by the module before the prompt) costs one connection per login. The
same run with that call removed (connection held over the prompt):

| case                     | held: p50 ms | closed (shipped): p50 ms |
| ------------------------ | -----------: | -----------------------: |
| pg_unix wrong code       |        14.02 |                    21.43 |
| pg_unix backup (2^14)    |        54.69 |                    62.57 |
| pg_tcp wrong code        |        16.08 |                    23.91 |
| pg_tcp backup (2^14)     |        53.21 |                    63.12 |

About 8 ms per login. Kept: a held connection would occupy one of the
server's `max_connections` for as long as each prompt stays open (up to
sshd's `LoginGraceTime`, 120 s by default) on every host of the fleet, and
running out of them fails every login closed. A human does not notice 8 ms.

**Linking libpq into the module** (the obvious way: `pkg_check_modules`
and a plain link) means every PAM transaction loads libpq and what it
depends on (libssl, libgssapi_krb5, libldap, libgnutls, …): libpam
`dlopen`s the module at `pam_start` and closes it at `pam_end`. That costs
every login, **with `store = file` too**:

| case                 | module without libpq: p50 ms | with libpq (shipped): p50 ms |
| -------------------- | ---------------------------: | ---------------------------: |
| file wrong code      |                         0.77 |                         3.46 |
| file backup (2^14)   |                        38.20 |                        41.88 |
| file backup (2^10)   |                         3.04 |                         6.04 |

`dlopen`+`dlclose` of the module: 0.29 ms without libpq, 2.75 ms with it.
About 2.7 ms and 25 more shared objects mapped into every authenticating
process (sshd's child, su, sudo). Not noticeable to a user, but not free;
so libpq is now loaded only when `store = postgresql` (`common/pg/libpq.hpp`
`dlopen`s `libpq.so.5` on first use): file-store hosts no longer pay it, and
`tests/deps` fails the build's tests if the module or a tool links libpq
again. (The figures above were taken with libpq linked.)

### Found on the way

On a freshly created schema (before autovacuum's first ANALYZE) the
planner's estimates for the state query passed `jit_above_cost`, and
PostgreSQL's JIT compiled it on every execution: **about 250 ms per query**,
200–400 ms per login, with 1 s tails in one run. The store now sets
`jit = off` for its sessions (0.9 ms). Any site running other software
against small, unanalysed tables may see the same.
EOF_PG
}

# Section 8: the PostgreSQL store ($RUN/out/s8.md from bench/pg_load.sh,
# then the earlier measurements).
pg_section() {
  cat <<EOF
## 8. The PostgreSQL store: one login, and a fleet at once

\`bench/pg_load.sh\`: a private PostgreSQL 15 server (\`fsync\` on, its data
on the disk in \`/var/tmp\`) and PgBouncer in transaction pooling on a Unix
socket, set up as docs/fleet.md recommends (\`auth_type = trust\` in a
directory of PgBouncer's user, the role's settings instead of the startup
options), secrets sealed with a key file as the store requires. First one
login at a time in one process (\`pam_bench\`, no fail delay), a wrong TOTP
code, through the file store (its state on the same disk, and again on
\`/dev/shm\`), the server's socket (SCRAM, a new backend per connection)
and PgBouncer's; what one login does; then \`pg_load\`: simulated hosts,
each a process with its own configuration and PAM service, first logging
in back to back, then paced at fixed rates (logins arriving on a schedule,
as at a fleet, each latency counted from when the login was due). Two
hosts try each user at about the same moment, so with right codes one of
the two is a replay: "accepted" is about half, and a (user, step) accepted
twice would be a double accept. "max server connections" is the most
sessions of the role \`pg_stat_activity\` showed (polled every 200 ms:
short direct connections are undercounted). On $(nproc) CPUs, 300 logins
per second leave at most $(awk -v c="$(nproc)" 'BEGIN { printf "%.1f", c * 1000 / 300 }') ms of CPU per login for the login
process, the server and PgBouncer together; "machine busy" is the share
of all CPUs in use during the run.

$(cat "$RUN/out/s8.md")

Where a target is missed, and why (measured on an otherwise idle machine,
2026-12-06, the run above and one at 20:12 UTC that gave the same
picture):

* **A pooled login at most 2× a file-store login: 3.6×.** The server's
  share of a pooled login alone, the "CPU ms/login: server" column (about
  3 ms for the eight or eleven statements listed above), is already twice
  a whole file-store login on the same disk (the first table's \`file\`
  row, about 1.3–1.5 ms: an open, a read, a write and two fsyncs, in one
  process). The login process's own share (about 2.4 ms: PAM, the module,
  two connections to PgBouncer) and PgBouncer's (0.5 ms) come on top, and
  each of the seven round trips crosses three processes on the same two
  CPUs. The round trips cut so far took about 0.5 ms of CPU off a login
  (below); what is left to cut (the schema check riding with the first
  read, a wrong code's \`COMMIT\` with its writes) saves two round trips,
  not the server's statements, which are the cost now: the state read
  twice (before the prompt and under the row lock) and the writes.
* **300 logins/s with p99 under 100 ms: 297/s, p99 about 1 s.** A pooled
  login costs about 6.3 ms of CPU in all (the hosts', server's and
  PgBouncer's columns), against the 6.7 ms that 300 logins/s leave on two
  CPUs: at 300/s the machine is 95 % busy, the store keeps up (297 of
  300/s; back to back it did 310–318/s), and p99 is the queue of logins
  waiting for a CPU. At 200/s (72 % busy) the median login takes about
  11 ms and p99 is still several hundred ms: with the server, PgBouncer,
  32 hosts and the connection poller on two CPUs, a burst of logins (two
  hosts on one user, a checkpoint's writes) waits behind the others. A
  server on its own machine, as a fleet runs it, takes its half of the
  CPU off the hosts'.
* Back to back, 32 hosts keep 32 logins in flight, so their mean latency
  is 32 / throughput (Little's law): about 100 ms at 300–320/s, whatever
  the store. The paced rows are the ones the p99 target is judged on.

### Fewer round trips per login (2026-12-06)

What one login through PgBouncer did before (strace on the login,
\`log_statement = all\` on the server): 2 connections; a wrong code 11
round trips and 10 statements (the schema-version query on each
connection, the state read, then \`BEGIN\`, \`INSERT ... ON CONFLICT DO
NOTHING\`, \`SELECT ... FOR UPDATE\`, the state read under the lock,
\`UPDATE users\`, \`COMMIT\`, each a round trip); a right code 14 round
trips and 12 statements. Now 7 round trips whatever the code: the schema
checked once per login, \`BEGIN\` and the three statements that lock and
re-read sent together (libpq pipeline mode; the server still runs them
one after the other, the read with a snapshot taken once the lock is
held), the writes sent together, then \`COMMIT\` on its own, only after
every write that must change exactly one row did. Measured close
together on a shared machine (\`pg_load.sh build 32 50 8\`), CPU ms per
pooled login (hosts / server / PgBouncer): wrong code 2.49 / 2.92 / 0.64
before, 2.37 / 2.50 / 0.50 after; right code 2.38 / 3.00 / 0.64 before,
2.30 / 2.67 / 0.53 after.

$(pg_history)
EOF
}

write_report() {
  local date cpu cores kernel mem fsys version commit dirty cxx
  date=$(date -u '+%Y-%m-%d %H:%M UTC')
  cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  cores=$(nproc)
  kernel=$(uname -r)
  mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
  fsys=$(df -T "$RUN" | awk 'NR==2 { print $2 " on " $1 }')
  version=$(sed -n 's/^project(twofactor VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l)
  cxx=$(c++ --version | head -1)
  pkg() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

  # Summary figures.
  local s1d s1t s2d s2t p name
  local s1_ours s1_peer s1_name s1_ratio s1_nofsync s1t_ratio s1t_name
  s1_ours=$(med "$RUN/out/s1-disk.tsv" ours)
  IFS=$'\t' read -r s1_name s1_peer < <(fastest_peer "$RUN/out/s1-disk.tsv")
  s1_ratio=$(div "$s1_ours" "$s1_peer")
  s1_nofsync=$(div "$(med "$RUN/out/s1-disk.tsv" ours-without-fsync)" "$s1_peer")
  IFS=$'\t' read -r s1t_name p < <(fastest_peer "$RUN/out/s1-tmpfs.tsv")
  s1t_ratio=$(div "$(med "$RUN/out/s1-tmpfs.tsv" ours)" "$p")
  local pt_ratio pt_ours_share pt_peer_share p1_ratio p1_ours_share p1_peer_share
  IFS=$'\t' read -r pt_ratio pt_ours_share pt_peer_share < <(process_figures "$RUN/out/s2-process.tsv")
  IFS=$'\t' read -r p1_ratio p1_ours_share p1_peer_share < <(process_figures "$RUN/out/s1-process.tsv")
  local s2_ours s2_peer s2_name s2_ratio s2_nofsync s2t_ratio s2t_name s2_peer_nofsync
  s2_ours=$(med "$RUN/out/s2-disk.tsv" ours)
  IFS=$'\t' read -r s2_name s2_peer < <(fastest_peer "$RUN/out/s2-disk.tsv")
  s2_ratio=$(div "$s2_ours" "$s2_peer")
  s2_peer_nofsync=$(awk -F'\t' '$1 ~ /without-fsync/ && $1 !~ /^ours/ { if (m == "" || $3 < m) m = $3 } END { print m }' "$RUN/out/s2-disk.tsv")
  s2_nofsync=$(div "$(med "$RUN/out/s2-disk.tsv" ours-without-fsync)" "$s2_peer_nofsync")
  IFS=$'\t' read -r s2t_name p < <(fastest_peer "$RUN/out/s2-tmpfs.tsv")
  s2t_ratio=$(div "$(med "$RUN/out/s2-tmpfs.tsv" ours)" "$p")
  local s3_14 s3_10 s3_ga
  s3_14=$(med "$RUN/out/s3.tsv" 'ours-scrypt-2^14')
  s3_10=$(med "$RUN/out/s3.tsv" 'ours-scrypt-2^10')
  s3_ga=$(med "$RUN/out/s3.tsv" google-authenticator-scratch)
  local s4d s4d_mean s4t s4t_mean s4d_oath s4t_oath
  s4d=$(div "$(med "$RUN/out/s4-disk.tsv" "ours-$BIG")" "$(med "$RUN/out/s4-disk.tsv" ours-10)")
  s4d_mean=$(div "$(avg "$RUN/out/s4-disk.tsv" "ours-$BIG")" "$(avg "$RUN/out/s4-disk.tsv" ours-10)")
  s4t=$(div "$(med "$RUN/out/s4-tmpfs.tsv" "ours-$BIG")" "$(med "$RUN/out/s4-tmpfs.tsv" ours-10)")
  s4t_mean=$(div "$(avg "$RUN/out/s4-tmpfs.tsv" "ours-$BIG")" "$(avg "$RUN/out/s4-tmpfs.tsv" ours-10)")
  s4d_oath=$(div "$(med "$RUN/out/s4-disk.tsv" "pam_oath-$BIG")" "$(med "$RUN/out/s4-disk.tsv" pam_oath-10)")
  s4t_oath=$(div "$(med "$RUN/out/s4-tmpfs.tsv" "pam_oath-$BIG")" "$(med "$RUN/out/s4-tmpfs.tsv" pam_oath-10)")
  local issue_wall issue_per issue_one list_text list_json
  issue_wall=$(awk '{ printf "%.1f", $2 - $1 }' "$RUN/out/s6-issue.txt")
  issue_per=$(awk -v n="$ISSUE_USERS" '{ printf "%.0f", ($2 - $1) * 1000 / n }' "$RUN/out/s6-issue.txt")
  issue_one=$(awk '{ print ($2 - $1) * 1000 }' "$RUN/out/s6-issue-one.txt" | sort -n | awk 'NR==2 { printf "%.0f", $1 }')
  list_text=$(median_of "$RUN/out/s6-list-text.txt")
  list_json=$(median_of "$RUN/out/s6-list-json.txt")
  local rss_base rss_code
  rss_base=$(awk -F'\t' 'NR==1 { print $2 }' "$RUN/out/s7.tsv")
  rss_code=$(awk -F'\t' '/backup code \(scrypt 2\^14/ { print $2 }' "$RUN/out/s7.tsv")

  cat <<EOF
# Benchmark results

Written by \`scripts/bench\` on $date; do not edit by hand, run it again.
What each scenario measures and how: \`bench/README.md\`.

## Machine and versions

| | |
|---|---|
| CPU | $cpu, $cores cores (\`nproc\`) |
| Kernel | $kernel |
| Memory | $mem |
| State files | $fsys (the "tmpfs" tables: \`/dev/shm\`) |
| Load average (1/5/15 min) | at start $LOAD_START, at the end $LOAD_END |
| twofactor | $version, git $commit$( [ "$dirty" -gt 0 ] && echo " plus $dirty uncommitted paths" ), Release (-O3), $cxx |
| libpam-google-authenticator | $(pkg libpam-google-authenticator) |
| libpam-oath / liboath0 | $(pkg libpam-oath) / $(pkg liboath0) |
| libpam0g / libpam-wrapper | $(pkg libpam0g) / $(pkg libpam-wrapper) |
| libssl3 (scrypt) | $(pkg libssl3) |

A load average well above $cores means other work shared the CPUs during the
run: medians are robust to that, p99 columns are not.

## Summary

Ratios are ours ÷ peer: above 1 we are slower.

| # | scenario | result | target | met |
|---|---|---|---|---|
| 1 | wrong TOTP code | $(fmt "$s1_ours") ms vs $(fmt "$s1_peer") ms ($s1_name): **$s1_ratio×** on disk; $s1_nofsync× with our fsyncs removed; $s1t_ratio× on tmpfs (vs $s1t_name); $p1_ratio× as one process per login (tmpfs) | ≤ 1.0 apart from fsync | $(verdict_le "$s1_ratio" 1.0) on disk; $(verdict_le "$s1_nofsync" 1.0) without fsync; $(verdict_le "$s1t_ratio" 1.0) on tmpfs; $(verdict_le "$p1_ratio" 1.0) per process |
| 2 | right TOTP code | $(fmt "$s2_ours") ms vs $(fmt "$s2_peer") ms ($s2_name): **$s2_ratio×** on disk; $s2_nofsync× with every module's fsyncs removed; $s2t_ratio× on tmpfs (vs $s2t_name); $pt_ratio× as one process per login (tmpfs) | ≤ 1.0 apart from fsync | $(verdict_le "$s2_ratio" 1.0) on disk; $(verdict_le "$s2_nofsync" 1.0) without fsync; $(verdict_le "$s2t_ratio" 1.0) on tmpfs; $(verdict_le "$pt_ratio" 1.0) per process |
| 3 | backup code accepted | ours $(fmt "$s3_14") ms at the default scrypt cost, $(fmt "$s3_10") ms at the lowest (2^10); google-authenticator scratch code $(fmt "$s3_ga") ms | (say what hashing costs) | – |
| 4 | 10 → $BIG users, median (mean) | ours **$s4d×** ($s4d_mean×) on disk, **$s4t×** ($s4t_mean×) on tmpfs; pam_oath $s4d_oath× on disk, $s4t_oath× on tmpfs | ours ≤ 1.2× | $(verdict_le "$s4d" 1.2) on disk, $(verdict_le "$s4t" 1.2) on tmpfs |
| 5 | scrypt per backup-code attempt | see table: 1 per attempt with 10 or 1 unused codes | exactly 1 | $(kdf_verdict) |
| 6 | admin tool | \`issue\` × $ISSUE_USERS: $issue_wall s with 2 processes ($issue_per ms per user); \`list\` over $BIG users: $list_text s (text), $list_json s (JSON) | list < 2 s | $(verdict_le "$list_text" 2.0) (text), $(verdict_le "$list_json" 2.0) (JSON) |
| 7 | peak RSS of one login | $(awk -v a="$rss_code" 'BEGIN { printf "%.1f", a / 1024 }') MiB with a backup code at the default cost, $(awk -v a="$rss_base" 'BEGIN { printf "%.1f", a / 1024 }') MiB for the same harness with pam_permit | report | – |

## Where we are slower, and why

* **Module loading, in this harness.** libpam loads and unloads each module
  on every login. Here, the part of a login outside \`pam_authenticate\`
  (right code, tmpfs) is $(load_part "$RUN/out/s2-tmpfs.tsv" ours) ms for ours against
  $(load_part "$RUN/out/s2-tmpfs.tsv" google-authenticator) ms (google-authenticator) and
  $(load_part "$RUN/out/s2-tmpfs.tsv" pam_oath) ms (pam_oath): our module is larger
  (the core, and the C++ runtime linked in), and a whole login takes
  $(faults "$RUN/out/s2-tmpfs.tsv" ours) page faults against $(faults "$RUN/out/s2-tmpfs.tsv" google-authenticator) and $(faults "$RUN/out/s2-tmpfs.tsv" pam_oath): each
  page of the module the login touches is faulted in after \`dlopen\` and
  unmapped again at \`pam_end\` (built for size for that reason:
  docs/design.md). \`pam_bench\` is a C++ program with libstdc++ and liboath
  already mapped, so it charges us for our static copy of the runtime
  without crediting what that saves a C host (about 1 ms per process against
  the shared libstdc++, measured when the static link was chosen). In a C
  process, the way sshd, login and su run a module (one process per login,
  sections 1b and 2b), pam_start to pam_end took ${pt_ours_share} ms more than
  with pam_permit for ours with a right code, ${pt_peer_share} ms more for the
  faster peer; with a wrong code ${p1_ours_share} ms and ${p1_peer_share} ms
  (medians of $PT_RUNS runs each).
* **A wrong code is recorded; the peers record nothing.** pam_oath and
  google-authenticator (without \`RATE_LIMIT\`) write nothing on a failure.
  Ours counts it toward the lockout (pam_twofactor(8)), durably, under the user's
  lock: lock file, the state read again, temp file, write, rename, two
  fsyncs. That is $(syscalls ours-wrong) system calls per login above pam_permit's, against
  $(syscalls pam_oath-wrong) for pam_oath (section 2c).
  \`pam_authenticate\` alone on tmpfs: $(auth_only "$RUN/out/s1-tmpfs.tsv" ours) ms against
  $(auth_only "$RUN/out/s1-tmpfs.tsv" pam_oath) ms (pam_oath).
* **The right code's work.** \`pam_authenticate\` alone on tmpfs:
  $(auth_only "$RUN/out/s2-tmpfs.tsv" ours) ms against $(auth_only "$RUN/out/s2-tmpfs.tsv" google-authenticator) ms
  (google-authenticator) and $(auth_only "$RUN/out/s2-tmpfs.tsv" pam_oath) ms (pam_oath), with
  $(syscalls ours-right), $(syscalls google-authenticator-right) and $(syscalls pam_oath-right) system calls above pam_permit's: the
  peers also rewrite their file on a success. Ours also reads its config
  file, looks the user up in the user database (the state is the account's,
  by its own name; here a read of /etc/passwd, 6 of the system calls),
  reads the state before prompting (to fail closed on an unsafe file
  without asking for a code) and again under the lock, and syncs the
  directory after the rename: without that second fsync a crash could bring
  back a used TOTP step or backup code.

## How to read the tables

Each row is one PAM service (one module) driven by \`bench/pam_bench\`:
\`pam_start\` + \`pam_authenticate\` + \`pam_end\` per login, in one
process, under pam_wrapper, interleaved with the other rows in blocks of 10.
"median ms", "p99 ms" and "mean ms" are per whole login (the module is
loaded and unloaded by libpam each time, as in a fresh sshd child);
"pam_authenticate only" leaves out \`pam_start\`/\`pam_end\`. "fsync", "scrypt" and "syslog
lines" are counted per login by \`libbench_preload.so\`, "page faults" (minor:
a page mapped in from memory, no disk read) by \`getrusage\`. "ours ÷ case" above
1 means we are slower than that row. "-without-fsync" rows are the same
module with fsync/fdatasync turned into no-ops (diagnostic only: they are
not safe); "tmpfs" tables keep every module's files in \`/dev/shm\`, where
creating, renaming and syncing files costs no disk I/O.

The harness's users are in no user database; \`libbench_preload.so\`
answers for them with a real lookup of an existing account (\`root\`), so
that ours, which looks up every login name, pays what a login of a real
account costs, not NSS's slower path for unknown names (bench/README.md).

\`pam_bench\` is a C++ program and links liboath (to
compute codes) and, through the preload, libcrypto: those libraries and
libstdc++ are already mapped in it, so its tables leave out what loading
them costs a fresh process. sshd, login and su are C programs; the
one-process-per-login tables (1b, 2b) include that cost.

On this machine's disk (a shared virtual disk) an fsync costs either about
1 ms or 4–12 ms, depending on what else is writing at the time: disk
medians can jump from one mode to the other between runs, and a module
that syncs twice per login (ours) is hit twice. The tmpfs tables are the
stable comparison of the work each module does per login.

## 1. Wrong TOTP code, one enrolled user

Every login types a 6-digit code that matches no time step within ±25 h
(so google-authenticator's clock-skew search runs to the end without a
hit). Ours counts the failure in the state file (failure bookkeeping,
\`max_failures=100\`, reset by the harness every 50 logins outside the
timing); google-authenticator (no \`RATE_LIMIT\` line) and pam_oath write
nothing on a failure.

On disk ($fsys):

$(cat "$RUN/out/s1-disk.md")

On tmpfs:

$(cat "$RUN/out/s1-tmpfs.md")

### 1b. One process per login

One \`bench/pam_once\` process per login (a C program that links only
libpam, the way sshd, login and su run a module; like pamtester, but with a
fail-delay function that does not sleep), under the same pam_wrapper and
preload, files on tmpfs, $PT_RUNS runs per module interleaved. Two times per
run: the whole process, start included, taken by the shell (process
start-up here varies by about ±0.5 ms from run to run), and from
\`pam_start\` to the end of \`pam_end\`, taken inside the process: everything
that depends on the module (libpam loads it in \`pam_start\` and unloads it
in \`pam_end\`) without the start-up noise; the ratios use that. Here a module
also pays for loading what it needs that the process does not already have
mapped: liboath for ours and pam_oath (the preload maps libcrypto, which
sshd has mapped too). Before \`pam_start\`, untimed, \`pam_once\` looks
the user up, as sshd (in the process that then runs PAM), login and su do:
the user database is then set up, and a module that looks the user up
(ours; google-authenticator looks up the owner of its secret file) pays a
lookup, not that set-up. Ours links the C++ runtime statically
(\`TWOFACTOR_STATIC_CXX_RUNTIME\`, docs/design.md). google-authenticator runs
with \`noskewadj\` here (its ±25 h search would accept about one random code
in 300), and ours has its failure count cleared every 50 runs.

$(process_table "$RUN/out/s1-process.tsv")

## 2. Right TOTP code

One user per module; the harness moves every module's wall clock forward
one 30-second step before each login (\`libbench_preload.so\`), so each
login is a fresh step and no module's replay refusal interferes. Every
module records the step it accepted (ours: \`totp-last-step\`;
google-authenticator: \`DISALLOW_REUSE\`; pam_oath: the last OTP and time).

On disk:

$(cat "$RUN/out/s2-disk.md")

On tmpfs:

$(cat "$RUN/out/s2-tmpfs.md")

Loading the module is part of every login (libpam loads it in
\`pam_start\` and unloads it in \`pam_end\`), so what it drags in counts:

$(module_table)

### 2b. One process per login

One \`bench/pam_once\` process per login, right code (see 1b for how).

$(process_table "$RUN/out/s2-process.tsv")
$( [ -s "$RUN/out/per-process-retries.txt" ] && printf '\n%s runs (1b and 2b) failed while pam_wrapper started (before any module ran) and were run again:\n\n%s\n' \
     "$(grep -c ' run ' "$RUN/out/per-process-retries.txt")" "$(sed 's/^/    /' "$RUN/out/per-process-retries.txt")" )

### 2c. System calls per login

Counted with \`strace -c\` (files on tmpfs, the difference between a run of
110 logins and one of 10, per login), as a number above what the same login
through pam_permit makes. They are counts, free of the timing noise, and
show what each module does with the kernel; they do not include page faults
(see "page faults / login" in the tables above).

$(syscall_table)

## 3. Backup code accepted

Ours: 8-character codes, one scrypt evaluation per attempt (N=2^14, r=8,
p=1 by default: 16 MiB), then a constant-time compare with every unused
hash, then the slot is marked used (write + fsync). Also with sets issued at
the lowest cost (N=2^10), to show what the login costs outside the KDF.
google-authenticator: 8-digit scratch codes kept in plain text in the
secret file, compared as integers, the used one removed (file rewrite +
fsync). Each login uses a fresh code; users hold 10 codes each.

$(cat "$RUN/out/s3.md")

The KDF alone, in-process (\`bench/core_timing\`, no PAM, no file):

    $(sed -n 2p "$RUN/out/core-14.txt")
    $(sed -n 2p "$RUN/out/core-10.txt")

A wrong TOTP code is then looked up ten minutes either side, never
accepted there, to tell a device clock that is off from a mistyped code
(pam_twofactor(8), \`reason=clock_skew\`); what that costs per attempt:

    $(sed -n 3p "$RUN/out/core-14.txt")

## 4. Scaling with the number of enrolled users

Right TOTP codes, each login by a random user out of 10 / 1,000 / $BIG,
clock moved one step per login. Ours: one state file per user in one
directory. pam_oath: one users file with as many lines, which it parses up to
the user's line and rewrites whole on every success. Users written by
\`bench/make_users\` ($(awk '{ printf "%s%s users on %s: %s s", (NR > 1 ? "; " : ""), $2, $1, $3 }' "$RUN/out/s4-setup.txt")).
All files were just written, so they are in the page cache. Ours and
pam_oath are timed in separate runs (first table ours, second pam_oath): at
$BIG users pam_oath rewrites and syncs a 5 MB file per login, and the
writeback it leaves behind would slow whichever row came next. On disk,
the medians still move from run to run with the shared disk's fsync
latency, in both directions; the tmpfs figures show how the lookup
itself scales.

On disk:

$(cat "$RUN/out/s4-disk.md")

On tmpfs:

$(cat "$RUN/out/s4-tmpfs.md")

## 5. scrypt evaluations per backup-code attempt

One user, 10 codes at the default cost; attempts in this order through the
real module, each counted by interposing \`EVP_PBE_scrypt\` /
\`EVP_KDF_derive\` (the module carries its own copy of the core, so its
\`twofactor::scrypt_evaluations()\` counter is not visible from outside).
The target is one evaluation per backup-code-shaped attempt while codes
remain; the last two rows (no code left) show whether the verifier runs a
decoy KDF there, so that timing does not tell who still has codes.

$(kdf_table)

## 6. Admin tool

* \`twofactor-admin issue USER --json\` for $ISSUE_USERS users at the
  default cost, \`xargs -P2\` (both cores): **$issue_wall s** wall,
  $issue_per ms per user; one \`issue\` alone takes $issue_one ms (median
  of 3). Each set is 10 codes, so 10 scrypt evaluations.
* \`twofactor-admin list\` over $BIG users (each with TOTP and a 10-code
  set): **$list_text s** as text, **$list_json s** as JSON (median of 3;
  output $(wc -c < "$RUN/out/list.text") and $(wc -c < "$RUN/out/list.json") bytes).

## 7. Peak memory of one login

\`ru_maxrss\` of a \`pam_bench\` process that performs exactly one login.

| login | peak RSS, KiB | above the pam_permit baseline, MiB |
|---|--:|--:|
$(awk -F'\t' 'NR==1 { base = $2 } { printf "| %s | %s | %.1f |\n", $1, $2, ($2 - base) / 1024 }' "$RUN/out/s7.tsv")

$(pg_section)
EOF
}
