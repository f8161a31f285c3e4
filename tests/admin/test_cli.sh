#!/bin/bash
# Drives the built twofactor-admin through every command and exit code in a
# private state directory: ./test_cli.sh PATH-TO-twofactor-admin VERSION
# Uses existing system accounts (daemon, bin, sys, lp) and never creates or
# changes an account, nor anything outside its temporary directory.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

for u in daemon bin sys lp; do
    getent passwd "$u" >/dev/null || { echo "system user $u missing"; exit 1; }
done
NOBODY_USER=nosuchuser-tf
! getent passwd "$NOBODY_USER" >/dev/null || { echo "$NOBODY_USER exists"; exit 1; }

uri_secret() { sed -n 's/^otpauth:.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$W/out" | head -1; }
codes_of() { grep -E '^ +[0-9]+\.  [A-Z0-9]+ ' "$W/out" | awk '{print $2}'; }
code_at() { oathtool --totp "$@"; }
now() { date +%s; }

echo "# basics"
expect "--version" 0 -- --version
check "--version prints the name and version" grep -qx "twofactor-admin ${VERSION:-[0-9.]*}" "$W/out"
expect "--help" 0 -- --help
check "--help lists every command" bash -c "for c in enroll issue list revoke unlock verify; do grep -q \"^  \$c \" '$W/out' || exit 1; done"
check "--help documents the exit codes" grep -q "3 user not enrolled or unknown" "$W/out"
for c in enroll issue list revoke unlock verify; do
    expect "$c --help" 0 -- "$c" --help
    check "$c --help shows its usage" grep -q "^Usage: twofactor-admin .* $c " "$W/out"
    expect "$c -h" 0 -- "$c" -h
    expect "--help $c" 0 -- --help "$c"
done
expect "no command" 2 -- 
expect "unknown command" 2 -- frobnicate
expect "unknown global flag" 2 -- --bogus list
expect "unknown command flag" 2 -- issue bin --bogus
expect "abbreviated flag is not guessed" 2 -- list --js
expect "extra positional argument" 2 -- unlock bin extra
expect "missing USER" 2 -- issue
expect "USER is not a flag" 2 -- issue --user bin
expect "flag value missing" 2 -- issue bin --count
expect "--state-dir twice" 2 -- list --state-dir "$STATE"
expect "--qr with a bad style" 2 -- enroll daemon --qr=sixel --no-confirm
expect "--json with a QR style" 2 -- enroll daemon --qr=utf8 --json --no-confirm
expect "revoke with two methods" 2 -- revoke bin --codes --totp
expect "empty list" 0 -- list
check "empty list says so on stderr" grep -q "no user has second-factor state" "$W/err"

echo "# enroll"
expect "enroll unknown user" 3 -- enroll "$NOBODY_USER" --no-confirm --qr=none
expect "enroll --no-confirm" 0 -- enroll daemon --no-confirm --qr=none
SECRET=$(uri_secret)
check "URI has the otpauth form of twofactor-admin(8)" grep -Eqx "otpauth://totp/[A-Za-z0-9._~%-]+:daemon\?secret=[A-Z2-7]{32}&issuer=[A-Za-z0-9._~%-]+&algorithm=SHA1&digits=6&period=30" "$W/out"
check "secret only on stdout" bash -c "! grep -qF '$SECRET' '$W/err'"
check "the stored secret is the printed one" grep -qx "auth default totp sha1 6 30 $SECRET [0-9]* - -" "$STATE/daemon"
HOST=$(hostname)
if [[ $HOST =~ ^[A-Za-z0-9._~-]+$ ]]; then
    check "issuer defaults to the host name" grep -q "^otpauth://totp/$HOST:daemon?.*&issuer=$HOST&" "$W/out"
fi
expect "verify: oathtool's code for the next step is accepted" 0 "$(code_at -b "$SECRET" --now "@$(($(now) + 30))")" -- verify daemon
check "verify says how it was accepted" grep -q "TOTP code accepted" "$W/out"
expect "verify: the same TOTP code again is a replay" 1 "$(code_at -b "$SECRET" --now "@$(($(now) + 30))")" -- verify daemon
check "replay is named as such" grep -q "already used" "$W/err"
expect "verify: an earlier step is refused too" 1 "$(code_at -b "$SECRET")" -- verify daemon
# Five minutes behind (six if the step turned meanwhile): the module's words.
expect "verify: a code from minutes ago" 1 "$(code_at -b "$SECRET" --now "@$(($(now) - 300))")" -- verify daemon
check "...says the device's clock is off" grep -Eq "code rejected: The code is from (5|6) minutes ago: check your device's clock[.]$" "$W/err"
expect "list USER shows the last clock skew" 0 -- list daemon
check "...in seconds" grep -Eq "^  Clock skew: +-(300|330) s " "$W/out"
expect_unchanged "enroll refuses to overwrite without --force" 1 -- enroll daemon --no-confirm --qr=none
check "refusal names --force" grep -q -- "--force" "$W/err"
expect_unchanged "enroll: a wrong confirmation code stores nothing" 1 "abcdef" -- enroll daemon --force --qr=none
expect_unchanged "enroll: no confirmation code stores nothing" 1 -- enroll daemon --force --qr=none

# The confirmation step, fed by oathtool from the URI the tool just printed.
mkfifo "$W/to" "$W/from"
"${ADMIN[@]}" enroll daemon --force --qr=none <"$W/to" >"$W/from" 2>"$W/err" &
PID=$!
exec {TO}>"$W/to" {FROM}<"$W/from"
URI=""
while IFS= read -r -t 20 line <&"$FROM"; do
    case $line in otpauth://*) URI=$line; break ;; esac
done
NEW_SECRET=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<<"$URI")
printf '%s\n' "$(code_at -b "$NEW_SECRET")" >&"$TO"
exec {TO}>&-
cat <&"$FROM" >/dev/null
exec {FROM}<&-
set +e; wait "$PID"; RC=$?; set -e
check "enroll confirmation accepts oathtool's code (exit $RC)" test "$RC" -eq 0
check "--force made a new secret" test -n "$NEW_SECRET" -a "$NEW_SECRET" != "$SECRET"
check "stderr says the secret was replaced" grep -q "replaced the authenticator default of daemon" "$W/err"
expect "the new secret's next code verifies" 0 "$(code_at -b "$NEW_SECRET" --now "@$(($(now) + 30))")" -- verify daemon
expect "the old secret's codes no longer do" 1 "$(code_at -b "$SECRET" --now "@$(($(now) + 60))")" -- verify daemon
expect "unlock daemon (clear that failure)" 0 -- unlock daemon

expect "enroll --json with sha256, 8 digits, 60 s" 0 -- enroll sys --no-confirm --json \
    --algorithm sha256 --digits 8 --period 60 --issuer "Example Org"
check "enroll JSON has exactly the documented keys" json "assert set(d) == {'version','user','uri','secret','algorithm','digits','period','issuer','name','type'}, sorted(d)"
check "enroll JSON values" json "assert (d['version'],d['user'],d['algorithm'],d['digits'],d['period'],d['issuer']) == (1,'sys','sha256',8,60,'Example Org'), d"
check "enroll JSON URI carries the secret and parameters" json "
want = 'otpauth://totp/Example%20Org:sys?secret=SECRET&issuer=Example%20Org&algorithm=SHA256&digits=8&period=60'
assert d['uri'] == want.replace('SECRET', d['secret']), d['uri']
assert len(d['secret']) == 52"
SYS_SECRET=$(json "print(d['secret'])")
expect "sha256/8/60 code from oathtool verifies" 0 "$(oathtool --totp=sha256 -d 8 -s 60 -b "$SYS_SECRET" --now "@$(($(now) + 60))")" -- verify sys

if command -v zbarimg >/dev/null; then
    for style in utf8 ansi; do
        expect "enroll --qr=$style" 0 -- enroll daemon --force --no-confirm --qr="$style" --algorithm sha512
        URI=$(grep '^otpauth://' "$W/out")
        /usr/bin/python3 "$HERE/qr_to_pbm.py" "$style" "$W/qr.pbm" <"$W/out"
        check "the $style QR code scans to the printed URI" test "$(zbarimg --raw -q "$W/qr.pbm" 2>/dev/null)" = "$URI"
    done
else
    echo "# skip: zbarimg (zbar-tools) not installed: QR codes not decoded"
fi

echo "# issue"
expect "issue unknown user" 3 -- issue "$NOBODY_USER"
expect "issue bin (no TOTP)" 0 -- issue bin
mapfile -t CODES < <(codes_of)
check "10 codes of 8 characters" bash -c "[ ${#CODES[@]} -eq 10 ] && printf '%s\n' ${CODES[*]} | grep -Exc '[A-Z0-9]{8}' | grep -qx 10"
check "codes are distinct" test "$(printf '%s\n' "${CODES[@]}" | sort -u | wc -l)" -eq 10
check "the block names user and host" grep -q "^Backup codes for bin on " "$W/out"
check "the block carries one line of advice" grep -q "each works once" "$W/out"
check "stderr says codes-only" grep -q "codes-only second factor" "$W/err"
check "no code is stored in clear" bash -c "! grep -rqF -e '${CODES[0]}' -e '${CODES[9]}' '$STATE'"
expect "verify a printed code" 0 "${CODES[0]}" -- verify bin
check "verify reports what remains" grep -qx "Backup code accepted; 9 of 10 backup codes remain." "$W/out"
expect "the same code a second time fails" 1 "${CODES[0]}" -- verify bin
expect "a lower-case code is accepted" 0 "${CODES[1],,}" -- verify bin
expect "surrounding whitespace is trimmed" 0 "  ${CODES[2]}	" -- verify bin
expect "list --json after three uses" 0 -- list bin --json
check "7 of 10 left, 3 slots used by twofactor-admin" json "
c = d['users'][0]['codes']
assert (c['remaining'], c['total']) == (7, 10), c
used = [s for s in c['slots'] if s['used']]
assert len(used) == 3 and all(s['service'] == 'twofactor-admin' for s in used), used"
OLD=("${CODES[@]}")
expect "issue again" 0 -- issue bin
check "stderr says the old set is replaced" grep -q "replaced the previous set of bin .*7 of 10 unused" "$W/err"
mapfile -t CODES < <(codes_of)
expect "an unused code of the old set now fails" 1 "${OLD[5]}" -- verify bin
expect "a code of the new set works" 0 "${CODES[3]}" -- verify bin
expect "issue --json --count 5 --length 12" 0 -- issue bin --json --count 5 --length 12
check "issue JSON shape" json "
import re
assert set(d) == {'version','user','host','issued_at','length','count','replaced_previous_set','totp_enrolled','codes'}, sorted(d)
assert (d['version'], d['user'], d['length'], d['count'], d['replaced_previous_set'], d['totp_enrolled']) == (1, 'bin', 12, 5, True, False), d
assert len(d['codes']) == 5 and all(re.fullmatch('[A-Z0-9]{12}', c) for c in d['codes']), d['codes']"
JCODE=$(json "print(d['codes'][4])")
expect "a JSON-issued code verifies" 0 "$JCODE" -- verify bin
check "...with the count from the new set" grep -qx "Backup code accepted; 4 of 5 backup codes remain." "$W/out"
expect "issue daemon (has TOTP)" 0 -- issue daemon
check "no codes-only note for a TOTP user" bash -c "! grep -q codes-only '$W/err'"
expect "enroll --force keeps the backup codes" 0 -- enroll daemon --force --no-confirm --qr=none
expect "list daemon --json" 0 -- list daemon --json
check "daemon still has 10 codes and a TOTP" json "u = d['users'][0]; assert u['codes']['remaining'] == 10 and u['totp']['algorithm'] == 'sha1', u"

echo "# list"
expect "list" 0 -- list
check "table header" grep -Eq '^USER +AUTHENTICATORS +CODES +ISSUED +LOCKED UNTIL +LAST USE$' "$W/out"
check "a row per user" bash -c "grep -Eq '^bin +- +4/5 ' '$W/out' && grep -Eq '^daemon +default +10/10 ' '$W/out' && grep -Eq '^sys +default +- ' '$W/out'"
check "last use shows the service" grep -Eq '^bin .* twofactor-admin$' "$W/out"
expect "list USER details every slot" 0 -- list bin
check "one line per slot, used ones with service" bash -c "[ \$(grep -Ec '^  [0-9]+ +(unused|used)' '$W/out') -eq 5 ] && grep -Eq '^  5 +used +[0-9-]+ [0-9:]+ +twofactor-admin / - / -$' '$W/out'"
expect "list --json" 0 -- list --json
check "list JSON shape (docs/json.md)" json "
assert set(d) == {'version','users','errors','not_enrolled'} and d['version'] == 1, sorted(d)
assert [u['user'] for u in d['users']] == ['bin','daemon','sys'], d['users']
for u in d['users']:
    assert set(u) == {'user','enrolled','totp','authenticators','codes','failures','locked','locked_until','last_skew','last_login','devices'}, sorted(u)
    assert u['devices'] == [], u['devices']
    assert u['enrolled'] is True
b = d['users'][0]
assert b['totp'] is None and b['codes']['length'] == 12
assert set(b['codes']) == {'issued_at','length','total','remaining','slots'}
assert set(b['last_login']) == {'at','method','service','rhost','tty','authenticator'} and b['last_login']['method'] == 'backup_code'
assert {'slot','used','used_at','service','rhost','tty'} == set(b['codes']['slots'][4])
assert {'slot','used'} == set(b['codes']['slots'][0])
s = d['users'][2]
assert s['codes'] is None and s['totp'] == {'algorithm':'sha256','digits':8,'period':60,'enrolled_at':s['totp']['enrolled_at'],'last_step':s['totp']['last_step']}
assert d['errors'] == [] and d['not_enrolled'] == []"
echo "# forget (recognised devices; docs/devices.md)"
expect "forget without DEVICE or --all" 2 -- forget bin
expect "forget with DEVICE and --all" 2 -- forget bin abcdef0123 --all
expect "forget with a short DEVICE" 2 -- forget bin abc
expect "forget a device bin does not have" 3 -- forget bin abcdef0123
expect "forget --all with none remembered" 0 -- forget bin --all
check "says none were forgotten" grep -q "forgot 0 recognised device(s) of bin" "$W/err"
expect "forget for a user without state" 3 -- forget nobody --all
expect "list bin says no device is remembered" 0 -- list bin
check "Devices: none remembered" grep -q "^  Devices:       none remembered$" "$W/out"
# A remote host name is chosen by whoever connects: one holding terminal
# escapes must not reach the admin's terminal raw, and must survive in JSON.
sed -i 's/ twofactor-admin - / twofactor-admin %1B%5D0%3Bpwned%07%FF /' "$STATE/bin"
expect "list with a hostile remote host" 0 -- list bin
check "...prints no control bytes" bash -c "! LC_ALL=C grep -q \$'[\\x01-\\x08\\x0b-\\x1f\\x7f-\\xff]' '$W/out' && grep -q '?\\]0;pwned??' '$W/out'"
expect "list --json with a hostile remote host" 0 -- list bin --json
check "...keeps it, escaped, as valid JSON" json "assert d['users'][0]['last_login']['rhost'] == '\\x1b]0;pwned\\x07\\ufffd', d['users'][0]['last_login']"
expect "list of a user without state" 3 -- list "$NOBODY_USER"
expect "list of two users, one without state" 3 -- list bin "$NOBODY_USER"
check "...still lists the other" grep -Eq '^bin ' "$W/out"
printf 'garbage\n' >"$STATE/corrupt"
chmod 0600 "$STATE/corrupt"
expect "list with a corrupt state file" 1 -- list
check "...reports it and lists the rest" bash -c "grep -q 'corrupt' '$W/err' && grep -Eq '^daemon ' '$W/out'"
expect "list --json with a corrupt state file" 1 -- list --json
check "...names it under errors" json "assert [e['user'] for e in d['errors']] == ['corrupt'] and len(d['users']) == 3, d['errors']"
expect "verify against a corrupt state file" 1 "12345678" -- verify corrupt
rm -f "$STATE/corrupt"

echo "# lockout and unlock"
expect "issue lp" 0 -- issue lp
mapfile -t LP < <(codes_of)
for i in 1 2 3 4; do expect "wrong code $i" 1 "WRONGCD$i" -- verify lp; done
expect "fifth wrong code starts a lockout" 1 "WRONGCD5" -- verify lp
check "...and says until when" grep -q "now locked out until" "$W/err"
expect "a right code is refused while locked" 1 "${LP[0]}" -- verify lp
check "...saying so" grep -q "is locked out until" "$W/err"
expect "list shows the lockout" 0 -- list lp --json
check "...locked, code not spent" json "u = d['users'][0]; assert u['locked'] and u['codes']['remaining'] == 10, u"
expect "unlock lp" 0 -- unlock lp
check "unlock says what it did" grep -q "unlocked lp" "$W/err"
expect "the right code works after unlock" 0 "${LP[0]}" -- verify lp
expect_unchanged "unlock of an unlocked user writes nothing" 0 -- unlock lp
expect "unlock a user without state" 3 -- unlock "$NOBODY_USER"

echo "# verify"
expect_unchanged "verify with nothing on stdin" 2 -- verify lp
expect_unchanged "verify a user without state" 3 "12345678" -- verify "$NOBODY_USER"
expect_unchanged "the code is never an argument" 2 -- verify lp "${LP[1]}"

echo "# revoke"
expect "revoke --codes" 0 -- revoke daemon --codes
expect "list daemon --json" 0 -- list daemon --json
check "codes gone, TOTP kept" json "u = d['users'][0]; assert u['codes'] is None and u['totp'] is not None, u"
expect_unchanged "revoke --codes again" 3 -- revoke daemon --codes
expect_unchanged "revoke --totp of a codes-only user" 3 -- revoke bin --totp
expect "revoke --totp removes the last method" 0 -- revoke daemon --totp
check "...and the state file" test ! -e "$STATE/daemon"
expect "revoke (default --all)" 0 -- revoke bin
check "...removes the state file" test ! -e "$STATE/bin"
expect "revoke --all" 0 -- revoke sys --all
expect "list of a revoked user" 3 -- list bin
expect_unchanged "verify of a revoked user" 3 "${CODES[4]}" -- verify bin
expect_unchanged "revoke a user without state" 3 -- revoke "$NOBODY_USER"

echo "# an account without a second factor, whose failed codes the module counted"
# The record pam_twofactor writes for it (docs/state-format.md): the count alone.
failures_only() {
    printf 'twofactor-state 1\nuser sys\nfailures %s %s\nend\n' "$1" "$2" >"$STATE/sys"
    chmod 0600 "$STATE/sys"
}
failures_only 0 $(($(now) + 300))
expect "list with such a record" 0 -- list
check "...a row without TOTP or codes, locked" grep -Eq '^sys +- +- +- +[0-9]{4}-' "$W/out"
expect "list sys: not enrolled" 3 -- list sys
check "...says so" bash -c "grep -q 'sys is not enrolled' '$W/err' && grep -q '^  Not enrolled:' '$W/out' && grep -q 'locked until' '$W/out'"
expect "list sys --json" 3 -- list sys --json
check "...enrolled false, locked, under not_enrolled" json "
u = d['users'][0]
assert (u['user'], u['enrolled'], u['locked'], u['totp'], u['codes']) == ('sys', False, True, None, None), u
assert d['not_enrolled'] == ['sys'], d"
expect "list --json of everyone" 0 -- list --json
check "...lists it, not enrolled, not_enrolled empty" json "
assert [u['enrolled'] for u in d['users'] if u['user'] == 'sys'] == [False] and d['not_enrolled'] == [], d"
expect_unchanged "verify refuses it as not enrolled" 3 "12345678" -- verify sys
expect_unchanged "revoke has nothing to revoke" 3 -- revoke sys
check "...saying only failed codes are recorded" grep -q "sys is not enrolled (only failed codes are recorded" "$W/err"
expect "unlock removes the record" 0 -- unlock sys
check "...the file is gone" test ! -e "$STATE/sys"
check "...and says so" bash -c "grep -q 'unlocked sys' '$W/err' && grep -q 'record of its failed codes is removed' '$W/err'"
failures_only 3 0
expect "issue over such a record" 0 -- issue sys
expect "list sys --json" 0 -- list sys --json
check "...a fresh state: codes, no failures" json "u = d['users'][0]; assert u['enrolled'] and u['failures'] == 0 and u['codes']['remaining'] == 10, u"
failures_only 0 $(($(now) + 300))
expect "enroll over such a record" 0 -- enroll sys --no-confirm --qr=none
expect "list sys --json" 0 -- list sys --json
check "...a fresh state: TOTP, not locked" json "u = d['users'][0]; assert u['enrolled'] and not u['locked'] and u['codes'] is None, u"
expect "revoke sys" 0 -- revoke sys

echo "# bad input: clear message, documented exit code, nothing changed"
LONG=$(printf 'a%.0s' $(seq 300))
for name in "a/b" ".." "../etc" $'a\001b' $'a\033[31mb' "$LONG" "" "-rf"; do
    shown=$(printf '%q' "$name" | cut -c1-24)
    for cmd in enroll issue list revoke unlock verify; do
        expect_unchanged "$cmd rejects the user name $shown" 2 "12345678" -- "$cmd" -- "$name"
    done
done
for v in 0 1000 -1 abc 1.5 ""; do
    expect_unchanged "issue --count=$v" 2 -- issue lp --count="$v"
    expect_unchanged "issue --length=$v" 2 -- issue lp --length="$v"
done
expect_unchanged "issue --count -1 (separate argument)" 2 -- issue lp --count -1
expect_unchanged "issue --length 7" 2 -- issue lp --length 7
expect_unchanged "issue --length 17" 2 -- issue lp --length 17
expect_unchanged "enroll --digits 9" 2 -- enroll sys --digits 9 --no-confirm
expect_unchanged "enroll --period 5" 2 -- enroll sys --period 5 --no-confirm
expect_unchanged "enroll --algorithm md5" 2 -- enroll sys --algorithm md5 --no-confirm
expect_unchanged "enroll --issuer with a colon" 2 -- enroll sys --issuer "a:b" --no-confirm
expect_unchanged "enroll unknown user" 3 -- enroll "$NOBODY_USER" --no-confirm
expect_unchanged "issue unknown user" 3 -- issue "$NOBODY_USER"

SAVED=("${ADMIN[@]}")
ADMIN=("$BIN" --config "$W/missing.conf" --state-dir "$STATE")
expect_unchanged "a missing config file" 2 -- issue lp
check "...named in the message" grep -q "missing.conf" "$W/err"
ADMIN=("$BIN" --config "$W" --state-dir "$STATE")
expect_unchanged "a directory as config file" 2 -- issue lp
printf 'scrypt_log2_n = 10\nbackup_code_count = many\n' >"$W/bad.conf"
ADMIN=("$BIN" --config "$W/bad.conf" --state-dir "$STATE")
expect_unchanged "a malformed config value" 2 -- issue lp
check "...with file and line" grep -q "bad.conf:2: backup_code_count" "$W/err"
printf 'scrypt_log2_n = 10\nfrobnicate = yes\n' >"$W/bad.conf"
expect_unchanged "an unknown config key" 2 -- list
# The config's own state_dir, without --state-dir.
printf 'scrypt_log2_n = 10\nstate_dir = %s\n' "$STATE" >"$W/own.conf"
ADMIN=("$BIN" --config "$W/own.conf")
expect "state_dir from the config file" 0 -- list lp
ADMIN=("${SAVED[@]}")

chmod 0777 "$STATE"
expect_unchanged "state dir mode 0777: list" 1 -- list
check "...says why" grep -q "accessible by group or others" "$W/err"
expect_unchanged "state dir mode 0777: issue" 1 -- issue lp
expect_unchanged "state dir mode 0777: verify" 1 "${LP[1]}" -- verify lp
expect_unchanged "state dir mode 0777: enroll" 1 -- enroll lp --no-confirm --qr=none
chmod 0700 "$STATE"
chown nobody "$STATE"
expect_unchanged "state dir owned by another user" 1 -- revoke lp
chown root "$STATE"
chmod 0644 "$STATE/lp"
expect_unchanged "state file mode 0644" 1 "${LP[1]}" -- verify lp
chmod 0600 "$STATE/lp"
ln -s "$STATE" "$W/link"
ADMIN=("$BIN" --config "$CONF" --state-dir "$W/link")
expect "state dir through a symlink" 1 -- list
ADMIN=("${SAVED[@]}")

echo "# not root"
as_nobody "$BIN" list >"$W/out" 2>"$W/err" && RC=0 || RC=$?
check "non-root against the default state dir is refused (exit $RC)" \
    bash -c "[ $RC -eq 1 ] && grep -q 'must be run as root' '$W/err'"
as_nobody "$BIN" --state-dir /var/lib/twofactor/ list >"$W/out" 2>"$W/err" && RC=0 || RC=$?
check "...also when named explicitly (exit $RC)" test "$RC" -eq 1
as_nobody "$BIN" --help >"$W/out" 2>"$W/err" && RC=0 || RC=$?
check "--help works as non-root" test "$RC" -eq 0
mkdir -m 0700 "$W/private"
chown nobody:nogroup "$W/private"
install -m 0644 "$CONF" "$W/nobody.conf"
as_nobody "$BIN" --config "$W/nobody.conf" --state-dir "$W/private" issue lp --count 2 >"$W/out" 2>"$W/err" && RC=0 || RC=$?
check "non-root with its own state dir works (exit $RC)" test "$RC" -eq 0
chmod 0000 "$W/nobody.conf"
as_nobody "$BIN" --config "$W/nobody.conf" --state-dir "$W/private" list >"$W/out" 2>"$W/err" && RC=0 || RC=$?
check "an unreadable config file (exit $RC)" bash -c "[ $RC -eq 2 ] && grep -q 'Permission denied' '$W/err'"

# A user database that ignores case for alice (tests/pam/alias_nss.c; not in
# sanitizer builds, whose runtime must come first in the preload list):
# state is only ever given under the account's own name, the one logins
# look it up by.
if [ -n "${TWOFACTOR_ALIAS_NSS:-}" ]; then
    SAVED=("${ADMIN[@]}")
    ADMIN=(env LD_PRELOAD="$TWOFACTOR_ALIAS_NSS" "${ADMIN[@]}")
    expect_unchanged "issue under another spelling of an account" 1 -- issue ALICE
    check "...names the account" grep -q "'ALICE' is the account 'alice'" "$W/err"
    expect_unchanged "enroll under another spelling of an account" 1 -- enroll Alice --no-confirm --qr=none
    expect "issue under the account's own name" 0 -- issue alice --count 2
    expect_unchanged "a failing user lookup" 1 -- issue nss-broken
    check "...says so" grep -q "cannot look up user 'nss-broken': Input/output error" "$W/err"
    ADMIN=("${SAVED[@]}")
fi

echo "# issue for several users"
expect_unchanged "issue with one unknown user issues nothing" 3 -- issue games "$NOBODY_USER" news
expect_unchanged "issue naming a user twice" 2 -- issue games news games
expect "issue games news --json" 0 -- issue games news --json --count 3
check "one JSON object a line, in the order given" /usr/bin/python3 -c "
import json
rows = [json.loads(l) for l in open('$W/out')]
assert [r['user'] for r in rows] == ['games', 'news'] and all(len(r['codes']) == 3 for r in rows), rows"
NEWS_CODE=$(/usr/bin/python3 -c "import json; print(json.loads(open('$W/out').readlines()[1])['codes'][0])")
expect "news's own code verifies for news" 0 "$NEWS_CODE" -- verify news
expect "and not for games" 1 "$NEWS_CODE" -- verify games

summary
