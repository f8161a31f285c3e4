#!/bin/bash
# twofactor-admin explain (docs/exemptions.md): which rule decides a login,
# as text and as the JSON of docs/json.md, without changing anything.
# ./test_explain.sh PATH-TO-twofactor-admin VERSION. Uses the system
# accounts daemon and bin and their primary groups; creates no account or
# group, and touches nothing outside its temporary directory.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

for u in daemon bin; do
    [ "$(id -gn "$u" 2>/dev/null)" = "$u" ] || { echo "system user $u with group $u missing"; exit 1; }
done
NOGROUP=nosuchgroup-tf
! getent group "$NOGROUP" >/dev/null || { echo "$NOGROUP exists"; exit 1; }
NOBODY_USER=nosuchuser-tf

# config LINE...: the test configuration plus these lines.
config() { printf 'scrypt_log2_n = 10\nmax_failures = 5\n' >"$CONF"; [ $# -eq 0 ] || printf '%s\n' "$@" >>"$CONF"; }
# field KEY: a field of the JSON document in $W/out, as Python prints it.
field() { json "print(d['$1'])"; }
is() { # is NAME KEY WANT
    local got
    got=$(field "$2")
    if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1 ($2 is '$got', want '$3')"; fi
}

echo "# setup: daemon enrolled, bin not"
expect "enroll daemon" 0 -- enroll daemon --no-confirm --qr=none
expect "explain --help" 0 -- explain --help
check "explain --help shows its usage" grep -q "^Usage: twofactor-admin .* explain USER" "$W/out"
expect "--help lists explain" 0 -- --help
check "explain is in the overview" grep -q "^  explain " "$W/out"

echo "# no exemptions"
config
expect_unchanged "enrolled: asked" 0 -- explain daemon --service sshd --rhost 192.0.2.7 --json
check "the JSON has exactly the documented keys" json "assert set(d) == {'version','user','account','service','rhost','outcome','rule','asks','matched','enrolled','locked_until','remembered_device','problems'}, sorted(d)"
check "the JSON values" json "assert (d['version'],d['user'],d['account'],d['service'],d['rhost'],d['outcome'],d['rule'],d['asks'],d['matched'],d['enrolled'],d['locked_until'],d['remembered_device'],d['problems']) == (1,'daemon',True,'sshd','192.0.2.7','asked','ask',True,None,True,0,{'configured':False,'service_listed':True,'device':None,'remembered':False,'until':0},[]), d"
expect_unchanged "enrolled, as text" 0 -- explain daemon
check "text: asked for a code" grep -qx "Decision:  asked for a code" "$W/out"
check "text: the rule" grep -qx "Rule:      asks for a code (TOTP or backup code)" "$W/out"
check "text: no remote host never matches" grep -qx "Remote:    - (none: exempt_networks never match)" "$W/out"
check "text: the device rule is not configured" grep -q "^Device:    the remembered-device rule is not configured" "$W/out"
expect_unchanged "not enrolled: asked and denied" 0 -- explain bin --json
is "not enrolled: rule" rule not_enrolled
is "not enrolled: asks" asks True
is "not enrolled: enrolled false" enrolled False
config "nullok = yes"
expect_unchanged "not enrolled, nullok" 0 -- explain bin --json
is "nullok: ignored" outcome ignored
is "nullok: not asked" asks False
expect_unchanged "not enrolled, nullok, text" 0 -- explain bin
check "text: nullok named" grep -q "^Rule:      not enrolled, and nullok is set: not asked (PAM_IGNORE" "$W/out"

echo "# exempt_groups"
config "exempt_groups = $NOGROUP, daemon"
expect_unchanged "member of an exempt group" 0 -- explain daemon --json
is "group: outcome" outcome exempt
is "group: rule" rule group
is "group: matched" matched daemon
is "group: state not read" enrolled None
check "group: the missing group is a problem" json "assert d['problems'] == [{'key':'exempt_groups','group':'$NOGROUP','problem':'unknown_group'}], d['problems']"
expect_unchanged "member of an exempt group, text" 0 -- explain daemon
check "text: exempt by group" grep -qx "Rule:      exempt by group: a member of 'daemon' (exempt_groups)" "$W/out"
check "text: not asked" grep -qx "Decision:  not asked for a code" "$W/out"
check "text: the missing group is named" grep -qx "Warning:   exempt_groups: group '$NOGROUP' does not exist; it exempts nobody" "$W/out"
expect_unchanged "not a member" 0 -- explain bin --json
is "not a member: rule" rule not_enrolled
# An exempt login reads no state: an unsafe file does not matter, as in
# the module; a login that is asked reads it and fails.
chmod 0644 "$STATE/daemon"
expect "exempt: an unsafe state is not read" 0 -- explain daemon --json
is "exempt with an unsafe state" rule group
config
expect "asked: an unsafe state is an error" 1 -- explain daemon
chmod 0600 "$STATE/daemon"

echo "# require_groups"
config "require_groups = daemon"
expect_unchanged "outside require_groups" 0 -- explain bin --json
is "require_groups: outcome" outcome exempt
is "require_groups: rule" rule require_groups
expect_unchanged "outside require_groups, text" 0 -- explain bin
check "text: in none of require_groups" grep -qx "Rule:      exempt: in none of require_groups ('daemon')" "$W/out"
expect_unchanged "inside require_groups" 0 -- explain daemon --json
is "inside: asked" rule ask
config "require_groups = daemon, $NOGROUP"
expect_unchanged "a missing required group exempts nobody" 0 -- explain bin --json
is "missing required group: not exempt" rule not_enrolled
check "missing required group: named" json "assert d['problems'] == [{'key':'require_groups','group':'$NOGROUP','problem':'unknown_group'}], d['problems']"

echo "# exempt_networks"
config "exempt_networks = 10.0.0.0/8, 192.0.2.0/24, 2001:db8::/32"
for rhost in 192.0.2.7 ::ffff:192.0.2.7 10.1.2.3 2001:db8::5; do
    expect_unchanged "--rhost $rhost is exempt" 0 -- explain daemon --rhost "$rhost" --json
    is "$rhost: rule" rule network
done
is "the matched network" matched 2001:db8::/32
for rhost in 198.51.100.1 gateway.example 192.0.2.7.example "2001:db8::5%eth0" "" " 10.1.2.3"; do
    expect_unchanged "--rhost '$rhost' is not exempt" 0 -- explain daemon --rhost "$rhost" --json
    is "'$rhost': asked" rule ask
done
expect_unchanged "network, text" 0 -- explain daemon --rhost 192.0.2.7
check "text: exempt by network" grep -qx "Rule:      exempt by network: 192.0.2.7 is in 192.0.2.0/24 (exempt_networks)" "$W/out"
expect_unchanged "host name, text" 0 -- explain daemon --rhost gateway.example
check "text: a host name never matches" grep -qx "Remote:    gateway.example (not a numeric address: exempt_networks never match)" "$W/out"

echo "# bad values: a configuration error, exit 2"
for bad in "exempt_networks = 10.0.0.1/8" "exempt_networks = 10.0.0.0/40" "exempt_networks = gateway/32" \
    "exempt_networks = 10.0.0.0" "exempt_groups = daemon,,bin" "require_groups = daemon,"; do
    config "$bad"
    expect_unchanged "'$bad'" 2 -- explain daemon
    check "'$bad': file, line and key named" grep -q "^twofactor-admin: configuration: $CONF:3: ${bad%% *}: " "$W/err"
done
config

echo "# who and what"
expect_unchanged "a name that is no account: exit 3" 3 -- explain "$NOBODY_USER" --json
is "no account: account false" account False
check "no account: says so" grep -qx "twofactor-admin: unknown user '$NOBODY_USER' (not in the passwd database)" "$W/err"
config "exempt_networks = 192.0.2.0/24"
expect_unchanged "no account is never exempt" 3 -- explain "$NOBODY_USER" --rhost 192.0.2.7 --json
is "no account: not exempt" rule not_enrolled
config
expect "invalid user name" 2 -- explain "bad/name"
expect "--key that cannot be read" 1 -- explain daemon --key "$W/no-such-key.pub"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB4ZJ4dGPXqlxM7R0bqkYk7e1bdCZ1G1y1r4Q8sPqQ1c test\n' >"$W/key.pub"
expect_unchanged "--key is accepted" 0 -- explain daemon --key "$W/key.pub" --json
is "--key: the device rule is not configured" remembered_device "{'configured': False, 'service_listed': False, 'device': None, 'remembered': False, 'until': 0}"

echo "# a remembered device (remember_days), as the module would decide it"
# Remember the key for daemon: a device record as the module writes it
# (docs/state-format.md), its id computed here independently.
/usr/bin/python3 - "$STATE/daemon" "$W/key.pub" <<'PY'
import base64, hashlib, struct, sys, time
blob = base64.b64decode(open(sys.argv[2]).read().split()[1])
h = hashlib.sha256()
for part in (b"twofactor-device-v1", b"daemon", b"key", blob):
    h.update(struct.pack(">I", len(part)) + part)
fp = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
now = int(time.time())
text = open(sys.argv[1]).read()
text = text.replace("end\n", "device %s %s - %d %d %d\nend\n" % (h.hexdigest(), fp, now, now, now + 7 * 86400))
open(sys.argv[1], "w").write(text)
PY
config "remember_days = 7"
expect_unchanged "remembered key" 0 -- explain daemon --service sshd --key "$W/key.pub" --json
check "remembered key: not asked, by the device rule" json "assert (d['outcome'], d['rule'], d['asks']) == ('remembered', 'remembered_device', False), d"
check "remembered key: the device and until when" json "import time; r = d['remembered_device']; assert r['remembered'] and len(r['device']) == 12 and r['until'] > time.time() + 6 * 86400, r"
expect_unchanged "remembered key, text" 0 -- explain daemon --service sshd --key "$W/key.pub"
check "text: a remembered device" grep -qx "Rule:      a remembered device: not asked (PAM_SUCCESS)" "$W/out"
check "text: until when" grep -q "^Device:    [0-9a-f]\{12\}, remembered until " "$W/out"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFxrPl3lvSn0dTbaDQ3fhqv7GIxfPOU4tnVV8ad2IFWY other\n' >"$W/other.pub"
expect_unchanged "another key" 0 -- explain daemon --service sshd --key "$W/other.pub" --json
check "another key: asked" json "assert (d['rule'], d['asks'], d['remembered_device']['remembered']) == ('ask', True, False), d"
expect_unchanged "no key" 0 -- explain daemon --service sshd --json
check "no key: asked, no device" json "assert d['asks'] and d['remembered_device']['device'] is None, d"
expect_unchanged "su never skips" 0 -- explain daemon --service su --key "$W/key.pub" --json
check "su: not a remember_services service" json "r = d['remembered_device']; assert d['asks'] and not r['service_listed'] and not r['remembered'], d"
config

echo "# a lockout is shown"
for _ in 1 2 3 4 5; do run_in "000000" verify daemon; done
expect_unchanged "locked out" 0 -- explain daemon --json
check "locked_until is in the future" json "import time; assert d['locked_until'] > time.time(), d"
expect_unchanged "locked out, text" 0 -- explain daemon
check "text: locked until" grep -q "^Lockout:   locked until " "$W/out"

summary
