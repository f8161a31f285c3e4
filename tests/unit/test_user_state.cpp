// The state format: a full round trip of version 2, a version-1 file read
// and written as version 2, then tables of malformed files of both
// versions, each refused with the right typed error.
#include "errors.hpp"
#include "user_state.hpp"

#include <limits>

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

const std::string kSalt = "000102030405060708090a0b0c0d0e0f";
const std::string kHash = "aa" + std::string(62, '0');
const std::string kHash2 = "bb" + std::string(62, '1');
const std::string kDevice = "cc" + std::string(62, '2');
const std::string kDeviceLine
    = "device " + kDevice + " SHA256:tzFaPPZkZHh1tZ4fiNWqqRtfC4UKbOwB2sXlsDJCIW8 - 1700000100 1700000200 1700604900\n";
const std::string kSkewLine = "skew 1700000050 -300\n";

// A valid version-2 file with every record: a TOTP and an HOTP authenticator.
std::string valid2()
{
    return "twofactor-state 2\n"
           "user alice\n"
           "auth default totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000000 56666666 1700000000\n"
           "auth yubi.key-2_ hotp sha256 8 42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000050 1700000100\n"
           "failures 2 0\n"
        + kSkewLine
        + "last-login 1700000100 hotp yubi.key-2_ sshd 203.0.113.5 ssh\n"
          "codes 1700000000 8 14 8 1 "
        + kSalt + " 2\n" + "code " + kHash + " -\n" + "code " + kHash2 + " 1700000100 sshd 203.0.113.5 ssh\n"
        + kDeviceLine + "end\n";
}

// A valid version-1 file with every record (what older builds wrote).
std::string valid()
{
    return "twofactor-state 1\n"
           "user alice\n"
           "totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000000\n"
           "totp-last-step 56666666\n"
           "failures 2 0\n"
           "last-login 1700000100 backup_code sshd 203.0.113.5 ssh\n"
           "codes 1700000000 8 14 8 1 "
        + kSalt + " 2\n" + "code " + kHash + " -\n" + "code " + kHash2
        + " 1700000100 sshd 203.0.113.5 ssh\n"
          "end\n";
}

std::string replace(std::string s, const std::string& from, const std::string& to)
{
    const auto pos = s.find(from);
    assert_true(pos != std::string::npos);
    return s.replace(pos, from.size(), to);
}

void valid_file_round_trips(void** /*state*/)
{
    const UserState st = parse_user_state(valid());
    assert_string_equal(st.user.c_str(), "alice");
    assert_true(!st.authenticators.empty());
    assert_int_equal(st.find("default")->secret.size(), 20);
    assert_memory_equal(st.find("default")->secret.data(), "12345678901234567890", 20);
    assert_int_equal(*st.find("default")->last_step, 56666666);
    assert_int_equal(st.failures, 2);
    assert_int_equal(st.last_login->method, Method::backup_code);
    assert_int_equal(st.codes->slots.size(), 2);
    assert_false(st.codes->slots[0].used.has_value());
    assert_string_equal(st.codes->slots[1].used->rhost.c_str(), "203.0.113.5");
    assert_int_equal(st.codes->remaining(), 1);
    // Written as version 2: the `totp` record is the authenticator
    // "default", the last login names it.
    const SecureChars out = serialize_user_state(st);
    const std::string upgraded
        = replace(replace(replace(valid(), "twofactor-state 1", "twofactor-state 2"),
                          "totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000000\ntotp-last-step 56666666\n",
                          "auth default totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000000 56666666 -\n"),
                  "backup_code sshd", "backup_code - sshd");
    assert_string_equal(std::string(view(out)).c_str(), upgraded.c_str());
    assert_string_equal(std::string(view(serialize_user_state(parse_user_state(upgraded)))).c_str(), upgraded.c_str());
    // A version-1 TOTP login names the authenticator it became.
    const UserState totp_login = parse_user_state(replace(valid(), "backup_code sshd", "totp sshd"));
    assert_string_equal(totp_login.last_login->authenticator.c_str(), "default");
}

void version_2_round_trips(void** /*state*/)
{
    const UserState st = parse_user_state(valid2());
    assert_int_equal(st.authenticators.size(), 2);
    const Authenticator& totp = st.authenticators[0];
    const Authenticator& hotp = st.authenticators[1];
    assert_string_equal(totp.name.c_str(), "default");
    assert_int_equal(totp.type, AuthenticatorType::totp);
    assert_int_equal(*totp.last_step, 56666666);
    assert_int_equal(totp.last_used, 1700000000);
    assert_string_equal(hotp.name.c_str(), "yubi.key-2_");
    assert_int_equal(hotp.type, AuthenticatorType::hotp);
    assert_int_equal(hotp.params.algorithm, TotpAlgorithm::sha256);
    assert_int_equal(hotp.params.digits, 8);
    assert_int_equal(hotp.counter, 42);
    assert_false(hotp.last_step.has_value());
    assert_int_equal(hotp.enrolled_at, 1700000050);
    assert_int_equal(hotp.last_used, 1700000100);
    assert_int_equal(st.last_login->method, Method::hotp);
    assert_string_equal(st.last_login->authenticator.c_str(), "yubi.key-2_");
    assert_string_equal(std::string(view(serialize_user_state(st))).c_str(), valid2().c_str());
    // Never used, no step yet: "-".
    const std::string fresh = replace(valid2(), "56666666 1700000000\n", "- -\n");
    const UserState f = parse_user_state(fresh);
    assert_false(f.authenticators[0].last_step.has_value());
    assert_int_equal(f.authenticators[0].last_used, 0);
    assert_string_equal(std::string(view(serialize_user_state(f))).c_str(), fresh.c_str());
}

void awkward_text_fields_round_trip(void** /*state*/)
{
    UserState st;
    st.user = "bob";
    st.last_login = LastLogin{5, Method::totp, "", "-", "has space%and\x01", "default"};
    const SecureChars out = serialize_user_state(st);
    const UserState back = parse_user_state(view(out));
    assert_string_equal(back.last_login->service.c_str(), "");
    assert_string_equal(back.last_login->rhost.c_str(), "-");
    assert_string_equal(back.last_login->tty.c_str(), "has space%and\x01");
    // Minimal file: no methods at all.
    const UserState minimal = parse_user_state("twofactor-state 1\nuser bob\nfailures 0 0\nend\n");
    assert_false(minimal.enrolled());
}

struct Case {
    const char* name;
    std::string text;
    StateErrc expected;
};

void expect_refused(const std::vector<Case>& cases);

void malformed_files_rejected(void** /*state*/)
{
    const std::string v = valid();
    const std::string auth_line = "auth phone totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1 - -\n";
    const std::vector<Case> cases = {
        {"empty", "", StateErrc::empty},
        {"too large", v + std::string(kMaxStateBytes + 1, '#'), StateErrc::too_large},
        {"NUL byte", replace(v, "alice", std::string("al\0ce", 5)), StateErrc::not_text},
        {"control byte",
         replace(v, "alice",
                 "al\x1b"
                 "ce"),
         StateErrc::not_text},
        {"carriage return", replace(v, "user alice\n", "user alice\r\n"), StateErrc::not_text},
        {"truncated mid-line", v.substr(0, v.size() - 20), StateErrc::missing_newline},
        {"truncated at a line end", v.substr(0, v.find("codes ")), StateErrc::missing_end},
        {"no header", v.substr(v.find('\n') + 1), StateErrc::bad_header},
        {"wrong magic", replace(v, "twofactor-state 1", "twofactor-stat 1"), StateErrc::bad_header},
        {"missing version", replace(v, "twofactor-state 1", "twofactor-state"), StateErrc::bad_header},
        {"version 4", replace(v, "twofactor-state 1", "twofactor-state 4"), StateErrc::unsupported_version},
        {"auth in version 1", replace(v, "failures 2 0\n", auth_line + "failures 2 0\n"), StateErrc::unknown_key},
        {"hotp login in version 1", replace(v, "backup_code sshd", "hotp sshd"), StateErrc::bad_value},
        {"version 01", replace(v, "twofactor-state 1", "twofactor-state 01"), StateErrc::unsupported_version},
        {"unknown record", replace(v, "end\n", "color blue\nend\n"), StateErrc::unknown_key},
        {"duplicate user", replace(v, "user alice\n", "user alice\nuser alice\n"), StateErrc::duplicate_key},
        {"duplicate failures", replace(v, "failures 2 0\n", "failures 2 0\nfailures 0 0\n"), StateErrc::duplicate_key},
        {"out of order", replace(replace(v, "user alice\n", ""), "failures 2 0\n", "failures 2 0\nuser alice\n"),
         StateErrc::malformed_line},
        {"double space", replace(v, "user alice", "user  alice"), StateErrc::malformed_line},
        {"trailing space", replace(v, "user alice", "user alice "), StateErrc::malformed_line},
        {"blank line", replace(v, "user alice\n", "user alice\n\n"), StateErrc::malformed_line},
        {"extra field", replace(v, "user alice", "user alice bob"), StateErrc::malformed_line},
        {"missing user", replace(v, "user alice\n", ""), StateErrc::missing_field},
        {"missing failures", replace(v, "failures 2 0\n", ""), StateErrc::missing_field},
        {"bad base32", replace(v, "GEZDGNBVGY3TQOJQ 17", "GEZDGNBVGY3TQOJ1 17"), StateErrc::bad_base32},
        {"lower-case base32", replace(v, "GEZDGNBVGY3TQOJQ 17", "GEZDGNBVGY3TQOJq 17"), StateErrc::bad_base32},
        {"short secret", replace(v, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "GEZDGNBV"), StateErrc::bad_base32},
        {"unknown algorithm", replace(v, "totp sha1", "totp md5"), StateErrc::bad_value},
        {"5 digits", replace(v, "totp sha1 6", "totp sha1 5"), StateErrc::bad_value},
        {"9 digits", replace(v, "totp sha1 6", "totp sha1 9"), StateErrc::bad_value},
        {"period 0", replace(v, "sha1 6 30", "sha1 6 0"), StateErrc::bad_value},
        {"negative failures", replace(v, "failures 2 0", "failures -2 0"), StateErrc::bad_value},
        {"hex failures", replace(v, "failures 2 0", "failures 0x2 0"), StateErrc::bad_value},
        {"leading zero", replace(v, "failures 2 0", "failures 02 0"), StateErrc::bad_value},
        {"absurd failures", replace(v, "failures 2 0", "failures 99999999 0"), StateErrc::bad_value},
        {"overflowing step", replace(v, "56666666", "99999999999999999999999"), StateErrc::bad_value},
        {"last step without totp",
         replace(replace(v, "totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000000\n", ""), "", ""),
         StateErrc::missing_field},
        {"bad method", replace(v, "backup_code sshd", "password sshd"), StateErrc::bad_value},
        {"bad escape", replace(v, "sshd 203.0.113.5 ssh\ncodes", "ss%zz 203.0.113.5 ssh\ncodes"), StateErrc::bad_value},
        {"short escape", replace(v, "sshd 203.0.113.5 ssh\ncodes", "sshd 203.0.113.5 ss%4\ncodes"),
         StateErrc::bad_value},
        {"raw character in text", replace(v, "sshd 203.0.113.5 ssh\ncodes", "ss\"d 203.0.113.5 ssh\ncodes"),
         StateErrc::bad_value},
        {"short salt", replace(v, kSalt, kSalt.substr(2)), StateErrc::bad_value},
        {"non-hex hash", replace(v, kHash, "zz" + kHash.substr(2)), StateErrc::bad_value},
        {"code length 7", replace(v, "1700000000 8 14", "1700000000 7 14"), StateErrc::bad_value},
        {"scrypt cost 2^40", replace(v, "1700000000 8 14", "1700000000 8 40"), StateErrc::bad_value},
        {"absurd count", replace(v, kSalt + " 2", kSalt + " 1000000"), StateErrc::bad_value},
        {"count too small", replace(v, kSalt + " 2", kSalt + " 1"), StateErrc::too_many_codes},
        {"count too large", replace(v, kSalt + " 2", kSalt + " 3"), StateErrc::too_many_codes},
        {"code without set", replace(v, "codes 1700000000 8 14 8 1 " + kSalt + " 2\n", ""), StateErrc::missing_field},
        {"bad code state", replace(v, kHash + " -", kHash + " x"), StateErrc::bad_value},
        {"code with 3 fields", replace(v, kHash + " -", kHash + " - -"), StateErrc::malformed_line},
        {"overlong field", replace(v, "user alice", "user " + std::string(300, 'a')), StateErrc::field_too_long},
        {"overlong line", replace(v, "end\n", "end" + std::string(1100, ' ') + "\n"), StateErrc::field_too_long},
        {"data after end", v + "user bob\n", StateErrc::data_after_end},
        {"end twice", v + "end\n", StateErrc::data_after_end},
    };
    assert_true(cases.size() >= 30);
    expect_refused(cases);
}

// Version 2: the `auth` records and the named last login.
void malformed_version_2_rejected(void** /*state*/)
{
    const std::string v = valid2();
    const std::string hotp
        = "auth yubi.key-2_ hotp sha256 8 42 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000050 1700000100\n";
    std::string twenty_one;
    for (int i = 0; i < 21; ++i)
        twenty_one += "auth a" + std::to_string(i) + " hotp sha1 6 0 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1 -\n";
    const std::vector<Case> cases = {
        {"version-1 totp in version 2",
         replace(v, "auth default", "totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1\nauth default"),
         StateErrc::unknown_key},
        {"totp-last-step in version 2", replace(v, "failures", "totp-last-step 5\nfailures"), StateErrc::unknown_key},
        {"upper-case name", replace(v, "auth default", "auth Default"), StateErrc::bad_value},
        {"name with a slash", replace(v, "auth default", "auth de/fault"), StateErrc::bad_value},
        {"name of 33", replace(v, "auth default", "auth " + std::string(33, 'a')), StateErrc::bad_value},
        {"name repeated", replace(v, "yubi.key-2_ hotp", "default hotp"), StateErrc::duplicate_key},
        {"unknown type", replace(v, "hotp sha256", "motp sha256"), StateErrc::bad_value},
        {"no type", replace(v, hotp, "auth yubi\n"), StateErrc::malformed_line},
        {"hotp with a step field", replace(v, "1700000050 1700000100", "1700000050 5 1700000100"),
         StateErrc::malformed_line},
        {"totp without a step field", replace(v, "56666666 1700000000", "1700000000"), StateErrc::malformed_line},
        {"overflowing counter", replace(v, "8 42 ", "8 9223372036854775808 "), StateErrc::bad_value},
        {"bad hotp secret", replace(v, "42 GEZDGNBVGY3TQOJQ", "42 GEZDGNBVGY3TQOJ1"), StateErrc::bad_base32},
        {"hotp 9 digits", replace(v, "sha256 8 42", "sha256 9 42"), StateErrc::bad_value},
        {"last used 0", replace(v, "56666666 1700000000", "56666666 0"), StateErrc::bad_value},
        {"auth after failures", replace(replace(v, hotp, ""), "failures 2 0\n", "failures 2 0\n" + hotp),
         StateErrc::malformed_line},
        {"21 authenticators", replace(v, hotp, twenty_one), StateErrc::bad_value},
        {"login without authenticator field", replace(v, "hotp yubi.key-2_ sshd", "hotp sshd"),
         StateErrc::malformed_line},
        {"login with a bad name", replace(v, "hotp yubi.key-2_ sshd", "hotp Yubi sshd"), StateErrc::bad_value},
        {"login with a bad method", replace(v, "hotp yubi.key-2_ sshd", "sms yubi.key-2_ sshd"), StateErrc::bad_value},
    };
    expect_refused(cases);
}

void expect_refused(const std::vector<Case>& cases)
{
    for (const Case& c : cases) {
        bool threw = false;
        try {
            (void)parse_user_state(c.text);
        } catch (const StateFormatError& e) {
            threw = true;
            if (e.errc() != c.expected)
                fail_msg("%s: got '%s', expected '%s'", c.name, e.what(), to_string(c.expected));
        }
        if (!threw)
            fail_msg("%s: accepted", c.name);
    }
    print_message("%zu malformed states rejected with the expected error\n", cases.size());
}

void error_messages_carry_no_content(void** /*state*/)
{
    try {
        (void)parse_user_state(replace(valid(), "GEZDGNBVGY3TQOJQ 17", "GEZDGNBVGY3TQOJ1 17"));
        fail();
    } catch (const StateFormatError& e) {
        assert_null(strstr(e.what(), "GEZD"));
        assert_int_equal(e.line(), 3);
    }
    // A damaged file whose line starts with a secret or a hash: an unknown
    // record, named only if it looks like a record name.
    for (const std::string& line :
         {std::string("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), kHash, std::string("abcdefabcdefabcdefabc")}) {
        try {
            (void)parse_user_state(replace(valid(), "totp-last-step", line + "\ntotp-last-step"));
            fail();
        } catch (const StateFormatError& e) {
            assert_int_equal(e.errc(), StateErrc::unknown_key);
            assert_string_equal(e.what(), "unknown record at line 4");
        }
    }
    try {
        (void)parse_user_state(replace(valid(), "end\n", "color blue\nend\n"));
        fail();
    } catch (const StateFormatError& e) {
        assert_string_equal(e.what(), "unknown record at line 10 (color)");
    }
}

// The largest state the writer can produce: 100 used backup codes and a
// last login, every text field at its limit and every byte escaped, the
// largest secret and numbers. It must fit the cap the reader enforces (it
// did not fit the old 64 KiB one) and read back unchanged.
void largest_state_fits_the_cap(void** /*state*/)
{
    const std::string field(200, '\x01'); // truncated to the limit, each byte written as %01
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    UserState st;
    st.user = std::string(64, 'u');
    // As many authenticators as a state holds, every field at its largest.
    for (std::size_t i = 0; i < kMaxAuthenticators; ++i) {
        Authenticator a{SecureBytes(128, 0xff), TotpParams{}, big, std::numeric_limits<std::uint64_t>::max()};
        a.name = std::string(30, 'n') + std::to_string(10 + i);
        a.last_used = big;
        st.authenticators.push_back(a);
    }
    st.failures = 1000000;
    st.locked_until = big;
    st.last_skew = SkewSeen{big, -86400};
    st.last_login = LastLogin{big, Method::backup_code, field, field, field, {}};
    BackupCodeSet set;
    set.issued_at = big;
    set.length = kMaxBackupCodeLength;
    for (unsigned i = 0; i < kMaxBackupCodes; ++i)
        set.slots.push_back(CodeSlot{{}, CodeUse{big, field, field, field}});
    st.codes = set;
    for (std::size_t i = 0; i < kMaxDevices; ++i) {
        Device d;
        d.id.fill(static_cast<unsigned char>(i));
        d.fingerprint = field;
        d.address = field;
        d.first_used = d.last_used = d.expires_at = big;
        st.devices.push_back(d);
    }
    const SecureChars out = serialize_user_state(st);
    print_message("largest state: %zu bytes (cap %zu)\n", out.size(), kMaxStateBytes);
    assert_true(out.size() > std::size_t{64} * 1024);
    assert_true(out.size() <= kMaxStateBytes);
    const UserState back = parse_user_state(view(out));
    assert_true(back.codes.has_value());
    assert_int_equal(back.codes->slots.size(), kMaxBackupCodes);
    assert_int_equal(back.devices.size(), kMaxDevices);
    assert_int_equal(back.authenticators.size(), kMaxAuthenticators);
    assert_string_equal(std::string(view(serialize_user_state(back))).c_str(), std::string(view(out)).c_str());
}

// Devices and the last clock skew: version 2 only, checked like the rest.
void devices_and_skew(void** /*state*/)
{
    const UserState st = parse_user_state(valid2());
    assert_int_equal(st.devices.size(), 1);
    assert_int_equal(st.devices[0].expires_at, 1700604900);
    assert_true(st.devices[0].address.empty());
    assert_int_equal(st.last_skew->at, 1700000050);
    assert_int_equal(st.last_skew->seconds, -300);
    const std::string v = valid2();
    const std::vector<Case> cases = {
        {"device in version 1", replace(valid(), "end\n", kDeviceLine + "end\n"), StateErrc::unknown_key},
        {"skew in version 1", replace(valid(), "last-login", kSkewLine + "last-login"), StateErrc::unknown_key},
        {"device before code", replace(replace(v, kDeviceLine, ""), "code " + kHash, kDeviceLine + "code " + kHash),
         StateErrc::malformed_line},
        {"device twice", replace(v, kDeviceLine, kDeviceLine + kDeviceLine), StateErrc::duplicate_key},
        {"device id short", replace(v, "device " + kDevice, "device " + kDevice.substr(2)), StateErrc::bad_value},
        {"device 5 fields", replace(v, " 1700604900\n", "\n"), StateErrc::malformed_line},
        {"device without key or address", replace(v, "SHA256:tzFaPPZkZHh1tZ4fiNWqqRtfC4UKbOwB2sXlsDJCIW8 -", "- -"),
         StateErrc::missing_field},
        {"device negative expiry", replace(v, " 1700604900\n", " -1\n"), StateErrc::bad_value},
        {"device bad address", replace(v, "W8 -", "W8 a\"b"), StateErrc::bad_value},
        {"skew -0", replace(v, kSkewLine, "skew 1700000050 -0\n"), StateErrc::bad_value},
        {"skew twice", replace(v, kSkewLine, kSkewLine + kSkewLine), StateErrc::duplicate_key},
    };
    for (const Case& c : cases) {
        try {
            (void)parse_user_state(c.text);
            fail_msg("%s: accepted", c.name);
        } catch (const StateFormatError& e) {
            if (e.errc() != c.expected)
                fail_msg("%s: got %s", c.name, e.what());
        }
    }
    std::string lines;
    for (std::size_t i = 0; i <= kMaxDevices; ++i) {
        char id[3];
        snprintf(id, sizeof id, "%02zx", i);
        lines += "device " + std::string(id) + std::string(62, '0') + " - 192.0.2.1 1 1 2\n";
    }
    try {
        (void)parse_user_state("twofactor-state 2\nuser bob\nfailures 0 0\n" + lines + "end\n");
        fail_msg("more than kMaxDevices devices accepted");
    } catch (const StateFormatError& e) {
        assert_int_equal(e.errc(), StateErrc::bad_value);
    }
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_file_round_trips),       cmocka_unit_test(awkward_text_fields_round_trip),
        cmocka_unit_test(malformed_files_rejected),     cmocka_unit_test(error_messages_carry_no_content),
        cmocka_unit_test(largest_state_fits_the_cap),   cmocka_unit_test(version_2_round_trips),
        cmocka_unit_test(malformed_version_2_rejected), cmocka_unit_test(devices_and_skew),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
