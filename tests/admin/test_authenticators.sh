#!/bin/bash
# Several authenticators per user through the built twofactor-admin: enroll
# --name/--type, an HOTP token's own secret on standard input, list, verify
# naming the authenticator, revoke --authenticator, resync, and every bad
# value refused with one clear line and nothing changed.
# ./test_authenticators.sh PATH-TO-twofactor-admin
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

for u in daemon bin; do
    getent passwd "$u" >/dev/null || { echo "system user $u missing"; exit 1; }
done
uri_secret() { sed -n 's/^otpauth:.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$W/out" | head -1; }
now() { date +%s; }
# RFC 4226's key, in hex and base32.
HEX=3132333435363738393031323334353637383930
B32=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
hotp() { oathtool --hotp -c "$1" "$HEX"; }

echo "# two TOTP authenticators"
expect "enroll daemon (default)" 0 -- enroll daemon --no-confirm --qr=none
PHONE=$(uri_secret)
expect "enroll daemon --name spare, sha256" 0 -- enroll daemon --name spare --algorithm sha256 --no-confirm --qr=none
SPARE=$(uri_secret)
check "both stored, in order" bash -c "grep -c '^auth ' '$STATE/daemon' | grep -qx 2 && grep -q '^auth default totp sha1 ' '$STATE/daemon' && grep -q '^auth spare totp sha256 ' '$STATE/daemon'"
expect_unchanged "enroll the same name again needs --force" 1 -- enroll daemon --name spare --no-confirm --qr=none
check "...and says so" grep -q -- "--force" "$W/err"
expect "the spare's code verifies" 0 "$(oathtool --totp=sha256 -b "$SPARE")" -- verify daemon
check "verify names the authenticator" grep -q "TOTP code accepted (authenticator spare)" "$W/out"
expect "the phone's code of the same step verifies too" 0 "$(oathtool --totp -b "$PHONE")" -- verify daemon
check "...named default" grep -q "(authenticator default)" "$W/out"
expect "list daemon --json" 0 -- list daemon --json
check "list shows both, and the last login's authenticator" json "
u = d['users'][0]
a = u['authenticators']
assert [x['name'] for x in a] == ['default', 'spare'], a
assert a[1]['algorithm'] == 'sha256' and a[1]['type'] == 'totp' and a[1]['period'] == 30 and a[1]['last_used'] > 0, a
assert set(a[0]) == {'name','type','algorithm','digits','period','enrolled_at','last_step','last_used'}, sorted(a[0])
assert u['totp']['algorithm'] == 'sha1', u['totp']
assert u['last_login']['authenticator'] == 'default', u['last_login']"
expect "list daemon" 0 -- list daemon
check "the table names both" grep -Eq '^daemon +default,spare +- ' "$W/out"
check "the details show each" bash -c "grep -q '^  Authenticator: default, totp, sha1, 6 digits, 30 s' '$W/out' && grep -q '^  Authenticator: spare, totp, sha256' '$W/out'"
expect "revoke --authenticator spare" 0 -- revoke daemon --authenticator spare
check "...says the rest remain" grep -q "revoked the authenticator spare of daemon; the rest remain" "$W/err"
expect "the spare's next code is refused" 1 "$(oathtool --totp=sha256 -b "$SPARE" --now "@$(($(now) + 30))")" -- verify daemon
expect "the phone's next code still verifies" 0 "$(oathtool --totp -b "$PHONE" --now "@$(($(now) + 30))")" -- verify daemon
expect_unchanged "revoke an authenticator that is not there" 3 -- revoke daemon --authenticator spare
expect "revoke --authenticator default: the last one goes, the state with it" 0 -- revoke daemon --authenticator default
check "...no state file left" test ! -e "$STATE/daemon"

echo "# an HOTP token with its own secret"
expect "enroll bin --type hotp, hex secret on stdin, confirmed with counter 3" 0 "$HEX"$'\n'"$(hotp 3)" -- \
    enroll bin --name yubikey --type hotp --secret-stdin --secret-format hex --qr=none
check "the URI is otpauth://hotp with the counter" grep -Eq "^otpauth://hotp/[^?]+:bin\?secret=$B32&issuer=[^&]+&algorithm=SHA1&digits=6&counter=0$" "$W/out"
check "the counter moved past the confirmation code" grep -Eq "^auth yubikey hotp sha1 6 4 $B32 [0-9]+ -$" "$STATE/bin"
check "the secret is not on stderr" bash -c "! grep -q '$HEX\|$B32' '$W/err'"
expect "the confirmation code is spent" 1 "$(hotp 3)" -- verify bin
expect "the next code verifies" 0 "$(hotp 4)" -- verify bin
check "...as HOTP, named" grep -q "HOTP code accepted (authenticator yubikey)" "$W/out"
expect "replayed: refused" 1 "$(hotp 4)" -- verify bin
expect "within the window (counter 5 + 10)" 0 "$(hotp 15)" -- verify bin
expect "beyond it (counter 16 + 11)" 1 "$(hotp 27)" -- verify bin
expect "resync bin yubikey with two consecutive codes" 0 "$(hotp 40)"$'\n'"$(hotp 41)" -- resync bin yubikey
check "...the counter is past the second" grep -Eq "^auth yubikey hotp sha1 6 42 " "$STATE/bin"
expect "the code after them verifies" 0 "$(hotp 42)" -- verify bin
expect_unchanged "resync with codes that are not consecutive" 1 "$(hotp 50)"$'\n'"$(hotp 52)" -- resync bin yubikey
expect_unchanged "resync beyond 100 counters" 1 "$(hotp 150)"$'\n'"$(hotp 151)" -- resync bin yubikey
expect_unchanged "resync with one code" 2 "$(hotp 50)" -- resync bin yubikey
expect "enroll bin --name app (TOTP beside the token)" 0 -- enroll bin --name app --no-confirm --qr=none
expect_unchanged "resync of a TOTP authenticator is refused" 1 "$(hotp 50)"$'\n'"$(hotp 51)" -- resync bin app
check "...saying why" grep -q "is a TOTP authenticator" "$W/err"
expect_unchanged "resync of a name that is not there" 3 "1"$'\n'"2" -- resync bin nosuch
expect "a base32 secret (lower case, padded) also does" 0 "$(tr A-Z a-z <<<"$B32")="$'\n' -- \
    enroll bin --name key2 --type hotp --secret-stdin --secret-format base32 --no-confirm --json
check "...JSON has counter and no period" json "assert d['type'] == 'hotp' and d['counter'] == 0 and 'period' not in d and d['secret'] == '$B32' and d['name'] == 'key2', d"

echo "# bad values: one line, nothing changed"
expect_unchanged "--name with upper case" 2 -- enroll bin --name Phone --no-confirm --qr=none
expect_unchanged "--name too long" 2 -- enroll bin --name "$(printf 'a%.0s' {1..33})" --no-confirm --qr=none
expect_unchanged "--name with a slash" 2 -- enroll bin --name ../x --no-confirm --qr=none
expect_unchanged "--type motp" 2 -- enroll bin --type motp --no-confirm --qr=none
expect_unchanged "--type hotp --period" 2 -- enroll bin --name k3 --type hotp --period 30 --no-confirm --qr=none
expect_unchanged "--secret-stdin without --secret-format" 2 "$HEX" -- enroll bin --name k3 --secret-stdin --no-confirm --qr=none
expect_unchanged "--secret-format without --secret-stdin" 2 -- enroll bin --name k3 --secret-format hex --no-confirm --qr=none
expect_unchanged "--secret-format octal" 2 "$HEX" -- enroll bin --name k3 --secret-stdin --secret-format octal --no-confirm --qr=none
expect_unchanged "a secret that is not hex" 1 "xyz$HEX" -- enroll bin --name k3 --secret-stdin --secret-format hex --no-confirm --qr=none
check "...does not echo it" bash -c "! grep -q '$HEX' '$W/err'"
expect_unchanged "a secret of 9 bytes" 1 "313233343536373839" -- enroll bin --name k3 --secret-stdin --secret-format hex --no-confirm --qr=none
expect_unchanged "no secret at all" 1 -- enroll bin --name k3 --secret-stdin --secret-format hex --no-confirm --qr=none
expect_unchanged "revoke --authenticator with a bad name" 2 -- revoke bin --authenticator 'A B'
expect_unchanged "revoke --authenticator with --codes" 2 -- revoke bin --authenticator app --codes
printf 'hotp_window = 101\n' >>"$CONF"
expect_unchanged "hotp_window out of range: a config error naming file, line and key" 2 "$(hotp 43)" -- verify bin
check "...named" grep -q "twofactor.conf:3: hotp_window: must be between 1 and 100" "$W/err"
sed -i '$d' "$CONF"
printf 'max_authenticators = 3\n' >>"$CONF"
expect_unchanged "a fourth authenticator over max_authenticators = 3" 1 -- enroll bin --name k4 --no-confirm --qr=none
check "...refused saying so" grep -q "max_authenticators" "$W/err"
expect "re-enrolling an existing name is still allowed" 0 -- enroll bin --name app --force --no-confirm --qr=none
printf 'max_authenticators = 21\n' >>"$CONF"
expect_unchanged "max_authenticators out of range" 2 -- list bin
sed -i '$d' "$CONF"
sed -i '$d' "$CONF"

summary
