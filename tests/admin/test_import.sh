#!/bin/bash
# twofactor-admin import: files made by google-authenticator's own tool and
# used by its own module, pam_oath users files used by pam_oath, otpauth
# lines; then logins through the built pam_twofactor module (pam_wrapper and
# the login driver): the old secret's code from oathtool logs in, a scratch
# code logs in once, a step spent under the old module stays spent, and
# --dry-run changes nothing. System accounts (daemon, bin, ...) are the
# users, in a private state directory: nothing on the host changes.
# Usage: test_import.sh ADMIN; the environment names the module, the login
# driver and the pam_wrapper preload (tests/admin/CMakeLists.txt).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

MODULE=${TWOFACTOR_PAM_MODULE:?}
DRIVER=${TWOFACTOR_LOGIN_DRIVER:?}
PRELOAD=${TWOFACTOR_PAM_PRELOAD:?}
SCALE_USERS=${TWOFACTOR_IMPORT_USERS:-0} # accounts made up by the alias preload; 0: system accounts only
for tool in google-authenticator; do
    command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install libpam-google-authenticator)"; exit 1; }
done
GA_MODULE=$(find /lib /usr/lib -name pam_google_authenticator.so -print -quit 2>/dev/null)
OATH_MODULE=$(find /lib /usr/lib -name pam_oath.so -print -quit 2>/dev/null)
[ -n "$GA_MODULE" ] && [ -n "$OATH_MODULE" ] || { echo "libpam-google-authenticator and libpam-oath are required"; exit 1; }

SUCCESS=0 AUTH_ERR=7

mkdir -m 0700 "$W/services" "$W/ga" "$W/src"
echo "auth required pam_deny.so" >"$W/services/other"
MCONF=$W/module.conf
printf 'state_dir = %s\nmax_failures = 100\n' "$STATE" >"$MCONF"
echo "auth required $MODULE config=$MCONF" >"$W/services/twofactor"
echo "auth required $GA_MODULE secret=$W/ga/\${USER}/.google_authenticator user=root" >"$W/services/ga"
echo "auth required $OATH_MODULE usersfile=$W/src/users.oath window=5" >"$W/services/oath"

# login SERVICE USER CODE: the PAM return code of one login. Sanitizer
# reports land in driver.err, checked at the end; the other modules' own
# leaks (pam_oath's) are not ours to report.
login() {
    local leaks=1
    [ "$1" = twofactor ] || leaks=0
    printf '%s\n' "$3" | env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/services" \
        ASAN_OPTIONS="detect_leaks=$leaks" "$DRIVER" "$1" "$2" 2>>"$W/driver.err" | sed -n 's/^result //p' || true
}
expect_login() { # expect_login NAME WANT SERVICE USER CODE
    local got
    got=$(login "$3" "$4" "$5")
    if [ "$got" = "$2" ]; then ok "$1"; else not_ok "$1" "PAM result '$got', want $2; $(tail -3 "$W/driver.err")"; fi
}
totp() { # totp BASE32 [oathtool options]: the current code
    local secret=$1
    shift
    oathtool --totp -b "$@" "$secret"
}
# ga_file USER OPTIONS...: a .google_authenticator made by its own tool.
ga_file() {
    local user=$1
    shift
    mkdir -p "$W/ga/$user"
    google-authenticator -f -q -Q NONE -C "$@" -s "$W/ga/$user/.google_authenticator" >/dev/null
    echo "$W/ga/$user/.google_authenticator"
}
secret_of() { head -1 "$1"; }
scratch_of() { grep -E '^[0-9]{8}$' "$1" | sed -n "${2}p"; }
import() { run import "$@"; }
# json_lines EXPR: EXPR holds for d, the --json lines of the last run by user.
json_lines() {
    /usr/bin/python3 -c "import json,sys; d={x['user']: x for x in map(json.loads, open('$W/out'))}; sys.exit(not ($1))"
}

# ---- google-authenticator: TOTP, five scratch codes, reuse disallowed ----
f=$(ga_file daemon -t -d -r 3 -R 30 -w 3 -e 5)
sum_before=$(sha256sum "$f")
before=$(state_sum "$STATE")
import --from google-authenticator "$f" --user daemon --dry-run
check "dry run exits 0" test "$RC" = 0
check "dry run says what it would do" grep -q '^daemon: would import' "$W/out"
check "dry run writes nothing" test "$(state_sum "$STATE")" = "$before"

# A step spent through google-authenticator's own module stays spent.
code=$(totp "$(secret_of "$f")")
expect_login "google-authenticator's module takes the code" "$SUCCESS" ga daemon "$code"
check "its module recorded the spent step" grep -q '^" DISALLOW_REUSE [0-9]' "$f"
# ... and a scratch code spent there is gone.
spent_scratch=$(scratch_of "$f" 1)
expect_login "google-authenticator's module takes a scratch code" "$SUCCESS" ga daemon "$spent_scratch"
sum_before=$(sha256sum "$f")

import --from google-authenticator "$f" --user daemon
check "import exits 0" test "$RC" = 0
check "the file is not modified" test "$(sha256sum "$f")" = "$sum_before"
check "the closing advice names the PAM line to remove" grep -q 'pam_google_authenticator.so' "$W/err"
expect_login "the step spent before the import is refused" "$AUTH_ERR" twofactor daemon "$code"
next=$(totp "$(secret_of "$f")" --now "@$(($(date +%s) + 30))")
expect_login "the next step's code from oathtool logs in" "$SUCCESS" twofactor daemon "$next"
scratch=$(scratch_of "$f" 2)
expect_login "a scratch code logs in" "$SUCCESS" twofactor daemon "$scratch"
expect_login "the same scratch code is refused the second time" "$AUTH_ERR" twofactor daemon "$scratch"
expect_login "a scratch code spent before the import is refused" "$AUTH_ERR" twofactor daemon "$spent_scratch"
run list daemon --json
check "three of the four scratch codes remain" json 'assert d["users"][0]["codes"]["remaining"] == 3, d'

# Enrolled users are kept unless --force.
before=$(state_sum "$STATE")
import --from google-authenticator "$f" --user daemon
check "an enrolled user is skipped (exit 1)" test "$RC" = 1
check "the skip says why" grep -q '^daemon: skipped: already enrolled' "$W/out"
check "and the state is kept" test "$(state_sum "$STATE")" = "$before"

# ---- reuse allowed, 60 s steps, no rate limit, three codes; --force ----
f=$(ga_file daemon -t -D -u -S 60 -w 5 -e 3)
import --from google-authenticator "$f" --user daemon --force
check "--force replaces the enrolment" test "$RC" = 0
expect_login "a 60 s step code logs in" "$SUCCESS" twofactor daemon "$(totp "$(secret_of "$f")" -s 60s)"
expect_login "a scratch code of the new file logs in" "$SUCCESS" twofactor daemon "$(scratch_of "$f" 3)"

# ---- HOTP: an HOTP authenticator with the file's counter ----
f=$(ga_file bin -c -w 3 -e 5 -u)
import --from google-authenticator "$f" --user bin --json
check "an HOTP file is imported (exit 0)" test "$RC" = 0
check "as imported in JSON" json 'assert d["status"] == "imported", d'
counter=$(sed -n 's/^" HOTP_COUNTER \([0-9]*\)$/\1/p' "$f")
hotp_code=$(oathtool --hotp -b "$(secret_of "$f")" -c "$counter")
expect_login "oathtool's HOTP code at the file's counter logs in" "$SUCCESS" twofactor bin "$hotp_code"
expect_login "... once" "$AUTH_ERR" twofactor bin "$hotp_code"

# ---- the user is the file's owner by default ----
f=$(ga_file sys -t -d -w 3 -e 5 -r 3 -R 30)
chown sys "$f"
import --from google-authenticator "$f"
check "the owner is the user" grep -q '^sys: imported' "$W/out"
expect_login "the owner logs in with oathtool's code" "$SUCCESS" twofactor sys "$(totp "$(secret_of "$f")")"

# ---- safe reading ----
ln -s "$f" "$W/src/by-nobody"
chown -h nobody "$W/src/by-nobody"
import --from google-authenticator "$W/src/by-nobody" --user games
check "a symlink owned by someone else is not followed" grep -q 'symbolic link owned by uid' "$W/out"
ln -s "$f" "$W/src/by-root"
import --from google-authenticator "$W/src/by-root" --user games
check "a symlink owned by root is followed" grep -q '^games: imported' "$W/out"
mkfifo "$W/src/fifo"
import --from google-authenticator "$W/src/fifo" --user man
check "a FIFO is refused" grep -q 'not a regular file' "$W/out"
head -c 70000 /dev/zero | tr '\0' 'A' >"$W/src/big"
import --from google-authenticator "$W/src/big" --user man
check "an oversized file is refused" grep -q 'larger than' "$W/out"

# ---- a malformed file names its line and imports nothing; others still do ----
good=$(ga_file lp -t -d -w 3 -e 5 -u)
bad=$(ga_file mail -t -d -w 3 -e 5 -u)
chown lp "$good"
chown mail "$bad"
sed -i '3s/.*/" NO_SUCH_OPTION 1/' "$bad"
before=$(state_sum "$STATE")
import --from google-authenticator "$bad" "$good"
check "malformed: exit 1" test "$RC" = 1
check "malformed: file and line named" grep -q "^failed: unknown or malformed option .* \[$bad:3\]" "$W/out"
check "the good file still imports" grep -q '^lp: imported' "$W/out"
run list mail
check "nothing from the malformed file" test "$RC" = 3

# ---- pam_oath: a TOTP line spent through pam_oath, 60 s / 8 digits, refusals ----
hex() { head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
k1=$(hex) k2=$(hex) k3=$(hex) k4=$(hex)
cat >"$W/src/users.oath" <<OATH
# pam_oath users
HOTP/T30 news - $k1
HOTP/T60/8	uucp	-	$k2
HOTP proxy - $k3
HOTP/T30 www-data secretpw $k4
OATH
chmod 0600 "$W/src/users.oath"
c1=$(oathtool --totp "$k1")
expect_login "pam_oath takes the code" "$SUCCESS" oath news "$c1"
check "pam_oath recorded the last code" grep -q "news.*$c1" "$W/src/users.oath"
sum_before=$(sha256sum "$W/src/users.oath")
import --from pam_oath "$W/src/users.oath" --json
check "pam_oath: exit 1 (one user skipped)" test "$RC" = 1
check "pam_oath: the users file is not modified" test "$(sha256sum "$W/src/users.oath")" = "$sum_before"
/usr/bin/python3 - "$W/out" >"$W/st" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(d["user"], d["status"], d.get("reason", "")[:40].replace(" ", "_"))
PY
check "pam_oath: TOTP lines imported" grep -qx 'news imported ' "$W/st"
check "pam_oath: 60 s / 8 digit line imported" grep -qx 'uucp imported ' "$W/st"
check "pam_oath: HOTP line imported" grep -qx 'proxy imported ' "$W/st"
expect_login "pam_oath: oathtool's HOTP code at counter 0 logs in" "$SUCCESS" twofactor proxy "$(oathtool --hotp -c 0 "$k3")"
check "pam_oath: password line skipped" grep -q '^www-data skipped the_line_has_a_password' "$W/st"
expect_login "pam_oath: the code spent there is refused" "$AUTH_ERR" twofactor news "$c1"
expect_login "pam_oath: the next step logs in" "$SUCCESS" twofactor news "$(oathtool --totp --now "@$(($(date +%s) + 30))" "$k1")"
expect_login "pam_oath: oathtool's 8-digit 60 s code logs in" "$SUCCESS" twofactor uucp "$(oathtool --totp -s 60s -d 8 "$k2")"
printf 'HOTP/T30 news - %s\nHOTP/T31 uucp - %s\n' "$k1" "$k2" >"$W/src/bad.oath"
import --from pam_oath "$W/src/bad.oath" --force
check "pam_oath: a bad type names the line" grep -q "\[$W/src/bad.oath:2\]" "$W/out"
check "pam_oath: and nothing from that file is imported" bash -c "! grep -q imported '$W/out'"

# ---- otpauth lines on standard input: padding, SHA256, 8 digits, 60 s ----
s32=$(head -c 20 /dev/urandom | base32) # padded
run_in "backup otpauth://totp/Example:backup?secret=${s32//=/%3D}&issuer=Example&algorithm=SHA256&digits=8&period=60" \
    import --from otpauth -
check "otpauth: imported" grep -q '^backup: imported' "$W/out"
expect_login "otpauth: oathtool's SHA256 code logs in" "$SUCCESS" twofactor backup \
    "$(oathtool --totp=sha256 -d 8 -s 60s -b "${s32//=/}")"
run_in "list otpauth://totp/x?secret=${s32//=/}&period=0" import --from otpauth
check "otpauth: a bad period names the line" grep -q 'period.*\[-:1\]' "$W/out"

# ---- several tokens for one user: several authenticators ----
# pam_oath tries each line of a user in turn and takes a code of any of
# them: irc has three tokens, one of them used through pam_oath; list has
# six, more than max_authenticators (5): skipped, the others imported.
k5=$(hex) k6=$(hex) k7=$(hex)
{
    printf 'HOTP/T30 irc - %s\nHOTP/T30 list - %s\nHOTP/T60/8 irc - %s\nHOTP irc - %s\n' "$k5" "$(hex)" "$k6" "$k7"
    for _ in 1 2 3 4 5; do printf 'HOTP/T30 list - %s\n' "$(hex)"; done
} >"$W/src/several.oath"
c6=$(oathtool --totp -s 60s -d 8 "$k6")
printf 'auth required %s usersfile=%s window=5\n' "$OATH_MODULE" "$W/src/several.oath" >"$W/services/oath2"
expect_login "pam_oath takes the code of a user's second line" "$SUCCESS" oath2 irc "$c6"
import --from pam_oath "$W/src/several.oath" --json
check "several: exit 1 (list skipped)" test "$RC" = 1
check "several: irc's three tokens are three authenticators, named by their order" json_lines \
    'd["irc"]["status"] == "imported" and [(a["name"], a["type"], a.get("period")) for a in d["irc"]["authenticators"]]
     == [("pam_oath-1", "totp", 30), ("pam_oath-2", "totp", 60), ("pam_oath-3", "hotp", None)]'
check "several: list's six tokens are skipped with the reason" json_lines \
    'd["list"]["status"] == "skipped" and "6 tokens; max_authenticators is 5" in d["list"]["reason"]'
run list list
check "several: nothing imported for list" test "$RC" = 3
expect_login "several: the first token's code logs in" "$SUCCESS" twofactor irc "$(oathtool --totp "$k5")"
expect_login "... once" "$AUTH_ERR" twofactor irc "$(oathtool --totp "$k5")"
expect_login "several: the second token's step spent through pam_oath stays spent" "$AUTH_ERR" twofactor irc "$c6"
c6=$(oathtool --totp -s 60s -d 8 --now "@$(($(date +%s) + 60))" "$k6")
expect_login "several: the second token's next code logs in" "$SUCCESS" twofactor irc "$c6"
expect_login "... once" "$AUTH_ERR" twofactor irc "$c6"
expect_login "several: the HOTP token's code logs in" "$SUCCESS" twofactor irc "$(oathtool --hotp -c 0 "$k7")"
expect_login "... once" "$AUTH_ERR" twofactor irc "$(oathtool --hotp -c 0 "$k7")"

# google-authenticator files for one --user: one may bring scratch codes
# (a user has one backup-code set), not two.
g1=$(ga_file sync1 -t -d -w 3 -e 5 -u)
g2=$(ga_file sync2 -t -d -w 3 -e 0 -u)
g3=$(ga_file sync3 -t -d -w 3 -e 2 -u)
import --from google-authenticator "$g1" "$g2" --user sync
check "several files for one --user: imported" grep -q "^sync: imported google-authenticator-1 .*, google-authenticator-2 .*; 5 scratch codes" "$W/out"
expect_login "several files: the second file's code logs in" "$SUCCESS" twofactor sync "$(totp "$(secret_of "$g2")")"
expect_login "... once" "$AUTH_ERR" twofactor sync "$(totp "$(secret_of "$g2")")"
expect_login "several files: the first file's scratch code logs in" "$SUCCESS" twofactor sync "$(scratch_of "$g1" 1)"
before=$(state_sum "$STATE")
import --from google-authenticator "$g1" "$g3" --user sync --force
check "two scratch-code sets for one user: skipped" grep -q "^sync: skipped: scratch codes in $g1 and in $g3: a user has one backup-code set" "$W/out"
check "... and the state is kept" test "$(state_sum "$STATE")" = "$before"
import --from google-authenticator "$g2" "$g2" --user sync --force
check "one file twice (one secret twice): skipped" grep -q "^sync: skipped: .* hold the same secret" "$W/out"

# otpauth lines name the authenticators by their issuer.
s1=$(head -c 20 /dev/urandom | base32) s2=$(head -c 20 /dev/urandom | base32)
run_in "backup otpauth://totp/GitHub:backup?secret=$s1&issuer=GitHub
backup otpauth://totp/Example:backup?secret=$s2" import --from otpauth --force --json
check "otpauth: the issuers name the authenticators" json \
    'assert [a["name"] for a in d["authenticators"]] == ["github", "example"], d'
expect_login "otpauth: each token's code logs in: the first" "$SUCCESS" twofactor backup "$(totp "$s1")"
expect_login "... and the second" "$SUCCESS" twofactor backup "$(totp "$s2")"

# ---- usage ----
expect "no --from" 2 -- import "$f"
expect "unknown source" 2 -- import --from authy "$f"
expect "--user with pam_oath" 2 -- import --from pam_oath "$f" --user daemon

# ---- many users in one run (hashing spread over the cores) ----
users=$(awk -F: '$3 >= 1 && $3 < 65534 && $1 ~ /^[a-z_][a-z0-9_-]*$/ {print $1}' /etc/passwd | head -40)
n=0
mkdir "$W/many"
for u in $users; do
    mkdir -p "$W/many/$u"
    google-authenticator -t -d -f -q -Q NONE -C -w 3 -e 5 -u -s "$W/many/$u/ga" >/dev/null
    chown "$u" "$W/many/$u/ga"
    n=$((n + 1))
done
import --from google-authenticator "$W"/many/*/ga --force
check "$n system accounts import in one run" test "$(grep -c ': imported' "$W/out")" = "$n"
last=$(echo "$users" | tail -1)
expect_login "the last of them logs in with a scratch code" "$SUCCESS" twofactor "$last" "$(scratch_of "$W/many/$last/ga" 5)"

if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error' "$W/driver.err" 2>/dev/null; then
    not_ok "sanitizers are quiet in the login processes" "$(grep -m 5 -E 'Sanitizer|runtime error' "$W/driver.err")"
fi
summary
