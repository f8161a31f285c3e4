// The state format: a full round trip, then a table of malformed files, each
// refused with the right typed error.
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

// A valid file with every record.
std::string valid()
{
    return "twofactor-state 2\n"
           "user alice\n"
           "totp sha1 6 30 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1700000000\n"
           "totp-last-step 56666666\n"
           "failures 2 0\n"
           "skew 1700000050 -300\n"
           "last-login 1700000100 backup_code sshd 203.0.113.5 ssh\n"
           "codes 1700000000 8 14 8 1 "
        + kSalt + " 2\n" + "code " + kHash + " -\n" + "code " + kHash2 + " 1700000100 sshd 203.0.113.5 ssh\n"
        + kDeviceLine + "end\n";
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
    assert_true(st.totp.has_value());
    assert_int_equal(st.totp->secret.size(), 20);
    assert_memory_equal(st.totp->secret.data(), "12345678901234567890", 20);
    assert_int_equal(*st.totp->last_step, 56666666);
    assert_int_equal(st.failures, 2);
    assert_int_equal(st.last_skew->at, 1700000050);
    assert_int_equal(st.last_skew->seconds, -300);
    assert_int_equal(st.last_login->method, Method::backup_code);
    assert_int_equal(st.codes->slots.size(), 2);
    assert_false(st.codes->slots[0].used.has_value());
    assert_string_equal(st.codes->slots[1].used->rhost.c_str(), "203.0.113.5");
    assert_int_equal(st.codes->remaining(), 1);
    assert_int_equal(st.devices.size(), 1);
    assert_int_equal(st.devices[0].expires_at, 1700604900);
    assert_true(st.devices[0].address.empty());
    const SecureChars out = serialize_user_state(st);
    assert_string_equal(std::string(view(out)).c_str(), valid().c_str());
}

void awkward_text_fields_round_trip(void** /*state*/)
{
    UserState st;
    st.user = "bob";
    st.last_login = LastLogin{5, Method::totp, "", "-", "has space%and\x01"};
    const SecureChars out = serialize_user_state(st);
    const UserState back = parse_user_state(view(out));
    assert_string_equal(back.last_login->service.c_str(), "");
    assert_string_equal(back.last_login->rhost.c_str(), "-");
    assert_string_equal(back.last_login->tty.c_str(), "has space%and\x01");
    // Minimal file: no methods at all.
    const UserState minimal = parse_user_state("twofactor-state 1\nuser bob\nfailures 0 0\nend\n");
    assert_false(minimal.enrolled());
}

// Version 1 (no device records) is still read, and written back as 2.
void version_1_is_read(void** /*state*/)
{
    const std::string v1 = replace(replace(replace(valid(), "twofactor-state 2", "twofactor-state 1"), kDeviceLine, ""),
                                   "skew 1700000050 -300\n", "");
    const UserState st = parse_user_state(v1);
    assert_true(st.devices.empty());
    assert_int_equal(st.codes->slots.size(), 2);
    const std::string out(view(serialize_user_state(st)));
    assert_string_equal(out.c_str(), replace(v1, "twofactor-state 1", "twofactor-state 2").c_str());
    try {
        (void)parse_user_state(replace(v1, "end\n", kDeviceLine + "end\n"));
        fail_msg("a device record in version 1 was accepted");
    } catch (const StateFormatError& e) {
        assert_int_equal(e.errc(), StateErrc::unknown_key);
    }
    try {
        (void)parse_user_state(replace(v1, "last-login", "skew 1700000050 -300\nlast-login"));
        fail_msg("a skew record in version 1 was accepted");
    } catch (const StateFormatError& e) {
        assert_int_equal(e.errc(), StateErrc::unknown_key);
    }
}

struct Case {
    const char* name;
    std::string text;
    StateErrc expected;
};

void malformed_files_rejected(void** /*state*/)
{
    const std::string v = valid();
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
        {"wrong magic", replace(v, "twofactor-state 2", "twofactor-stat 1"), StateErrc::bad_header},
        {"missing version", replace(v, "twofactor-state 2", "twofactor-state"), StateErrc::bad_header},
        {"version 3", replace(v, "twofactor-state 2", "twofactor-state 3"), StateErrc::unsupported_version},
        {"version 02", replace(v, "twofactor-state 2", "twofactor-state 02"), StateErrc::unsupported_version},
        {"device before code", replace(replace(v, kDeviceLine, ""), "code " + kHash, kDeviceLine + "code " + kHash),
         StateErrc::malformed_line},
        {"device twice", replace(v, kDeviceLine, kDeviceLine + kDeviceLine), StateErrc::duplicate_key},
        {"device id short", replace(v, "device " + kDevice, "device " + kDevice.substr(2)), StateErrc::bad_value},
        {"device 5 fields", replace(v, " 1700604900\n", "\n"), StateErrc::malformed_line},
        {"device without key or address", replace(v, "SHA256:tzFaPPZkZHh1tZ4fiNWqqRtfC4UKbOwB2sXlsDJCIW8 -", "- -"),
         StateErrc::missing_field},
        {"device negative expiry", replace(v, " 1700604900\n", " -1\n"), StateErrc::bad_value},
        {"device bad address", replace(v, "W8 -", "W8 a\"b"), StateErrc::bad_value},
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
        {"skew before failures",
         replace(replace(v, "skew 1700000050 -300\n", ""), "failures 2 0\n", "skew 1700000050 -300\nfailures 2 0\n"),
         StateErrc::malformed_line},
        {"skew twice", replace(v, "skew 1700000050 -300\n", "skew 1700000050 -300\nskew 1700000050 -300\n"),
         StateErrc::duplicate_key},
        {"skew -0", replace(v, "skew 1700000050 -300", "skew 1700000050 -0"), StateErrc::bad_value},
        {"skew leading zero", replace(v, "skew 1700000050 -300", "skew 1700000050 -0300"), StateErrc::bad_value},
        {"skew beyond a day", replace(v, "skew 1700000050 -300", "skew 1700000050 86401"), StateErrc::bad_value},
        {"skew without seconds", replace(v, "skew 1700000050 -300", "skew 1700000050"), StateErrc::malformed_line},
        {"end twice", v + "end\n", StateErrc::data_after_end},
    };
    assert_true(cases.size() >= 30);
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
        assert_string_equal(e.what(), "unknown record at line 12 (color)");
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
    st.totp = TotpState{SecureBytes(128, 0xff), TotpParams{}, big, std::numeric_limits<std::uint64_t>::max()};
    st.failures = 1000000;
    st.locked_until = big;
    st.last_skew = SkewSeen{big, -86400};
    st.last_login = LastLogin{big, Method::backup_code, field, field, field};
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
    assert_string_equal(std::string(view(serialize_user_state(back))).c_str(), std::string(view(out)).c_str());
}

void too_many_devices_refused(void** /*state*/)
{
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
        cmocka_unit_test(valid_file_round_trips),     cmocka_unit_test(awkward_text_fields_round_trip),
        cmocka_unit_test(malformed_files_rejected),   cmocka_unit_test(error_messages_carry_no_content),
        cmocka_unit_test(largest_state_fits_the_cap), cmocka_unit_test(version_1_is_read),
        cmocka_unit_test(too_many_devices_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
