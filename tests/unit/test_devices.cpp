// Recognised devices, the pure part (common/devices.hpp): SSH_AUTH_INFO_0
// parsed strictly (anything odd is no device), fingerprints as OpenSSH
// prints them, ids that do not correlate across users or modes, expiry, and
// max_devices eviction; and the verifier remembering a device only on an
// accepted code.
#include "devices.hpp"
#include "totp.hpp"
#include "user_state.hpp"
#include "verifier.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

// ssh-keygen -t ed25519 / -t rsa -b 1024, and what ssh-keygen -lf printed.
const std::string kEd25519 = "AAAAC3NzaC1lZDI1NTE5AAAAII5Xxe0TxuQVI3Ox12U9baXH6YJNVHakRRD0H9yNA1L9";
const std::string kEd25519Fp = "SHA256:tzFaPPZkZHh1tZ4fiNWqqRtfC4UKbOwB2sXlsDJCIW8";
const std::string kRsa = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDPaKIeohesZ5I9HxlIzexyaKFLH2uNyyKOhjCUpN5xaqa5BqDHe2HMVY2ih+N+"
                         "RYVaF06quFLGUlgZ8XniZsXB991LBt0FEwoid6byfvT16btZnMNwimIRb1rfNCr8M8czOcq29uwEYyR5v36g5Os+"
                         "vLhYFEKgNnSar5X+aecXUQ==";
const std::string kRsaFp = "SHA256:1G2pstf77XI0vy4ahnSFWQGNU1yDufX8GT2Mpqp6Mg4";

std::string info(const std::string& type, const std::string& key) { return "publickey " + type + " " + key + "\n"; }

void well_formed_auth_info(void** /*state*/)
{
    std::string problem;
    auto blob = parse_auth_info(info("ssh-ed25519", kEd25519), problem);
    assert_true(blob.has_value());
    assert_string_equal(key_fingerprint(*blob).c_str(), kEd25519Fp.c_str());
    // Without the trailing newline, and after another method's line.
    blob = parse_auth_info("keyboard-interactive/pam\npublickey ssh-rsa " + kRsa, problem);
    assert_true(blob.has_value());
    assert_string_equal(key_fingerprint(*blob).c_str(), kRsaFp.c_str());
}

void malformed_auth_info_is_no_device(void** /*state*/)
{
    const std::string good = info("ssh-ed25519", kEd25519);
    const struct {
        const char* name;
        std::string text;
        const char* problem;
    } cases[] = {
        {"empty", "", "no_completed_method"},
        {"no publickey", "password\n", "no_publickey"},
        {"two keys", good + info("ssh-rsa", kRsa), "auth_info_two_keys"},
        {"certificate fields", "publickey ssh-ed25519-cert-v01@openssh.com " + kEd25519 + " ID x (serial 1) CA y\n",
         "auth_info_publickey_fields"},
        {"key only", "publickey " + kEd25519 + "\n", "auth_info_publickey_fields"},
        {"no key", "publickey\n", "auth_info_publickey_fields"},
        {"double space", "publickey ssh-ed25519  " + kEd25519 + "\n", "auth_info_publickey_fields"},
        {"type mismatch", info("ssh-rsa", kEd25519), "auth_info_bad_key"},
        {"upper-case type", info("SSH-ED25519", kEd25519), "auth_info_bad_key"},
        {"bad base64", info("ssh-ed25519", kEd25519.substr(0, 20) + "!" + kEd25519.substr(21)), "auth_info_bad_key"},
        {"unpadded", info("ssh-rsa", kRsa.substr(0, kRsa.size() - 2)), "auth_info_bad_key"},
        {"nonzero pad bits", info("ssh-rsa", kRsa.substr(0, kRsa.size() - 3) + "R=="), "auth_info_bad_key"},
        {"short blob", info("ssh-ed25519", "AAAAC3Nz"), "auth_info_bad_key"},
        {"blank line", "\n" + good, "auth_info_empty_line"},
        {"control byte", "publickey ssh-ed25519 \x01" + kEd25519 + "\n", "auth_info_not_text"},
        {"carriage return", "publickey ssh-ed25519 " + kEd25519 + "\r\n", "auth_info_not_text"},
        {"too long", good + std::string(kMaxAuthInfoBytes, 'a'), "auth_info_too_long"},
    };
    for (const auto& c : cases) {
        std::string problem;
        if (parse_auth_info(c.text, problem))
            fail_msg("%s: accepted", c.name);
        if (problem != c.problem)
            fail_msg("%s: problem %s, expected %s", c.name, problem.c_str(), c.problem);
    }
}

void identity_by_mode(void** /*state*/)
{
    const std::optional<std::string> auth = info("ssh-ed25519", kEd25519);
    std::string problem;
    const auto key = identify_device("alice", RememberBy::key, auth, "192.0.2.1", problem);
    assert_true(key.has_value());
    assert_string_equal(key->fingerprint.c_str(), kEd25519Fp.c_str());
    assert_true(key->address.empty());
    // The same key from elsewhere is the same device by key only.
    assert_true(identify_device("alice", RememberBy::key, auth, "192.0.2.9", problem)->id == key->id);
    // Another user, another mode: another id.
    assert_false(identify_device("bob", RememberBy::key, auth, "192.0.2.1", problem)->id == key->id);
    const auto both = identify_device("alice", RememberBy::key_address, auth, "192.0.2.1", problem);
    assert_false(both->id == key->id);
    assert_string_equal(both->address.c_str(), "192.0.2.1");
    assert_false(identify_device("alice", RememberBy::key_address, auth, "192.0.2.9", problem)->id == both->id);
    const auto address = identify_device("alice", RememberBy::address, std::nullopt, "192.0.2.1", problem);
    assert_true(address.has_value());
    assert_true(address->fingerprint.empty());
    // What the mode needs, missing: no device.
    assert_false(identify_device("alice", RememberBy::key, std::nullopt, "192.0.2.1", problem).has_value());
    assert_string_equal(problem.c_str(), "no_auth_info");
    assert_false(identify_device("alice", RememberBy::key_address, auth, "", problem).has_value());
    assert_string_equal(problem.c_str(), "no_rhost");
    assert_false(identify_device("alice", RememberBy::address, auth, "", problem).has_value());
    // The id is no function of the key alone: it does not contain the blob's hash.
    assert_string_not_equal(short_id(key->id).c_str(), "");
    assert_int_equal(short_id(key->id).size(), kShortIdDigits);
}

DeviceIdentity identity(unsigned char tag)
{
    DeviceIdentity d;
    d.id.fill(tag);
    d.fingerprint = "SHA256:x";
    return d;
}

void expiry_and_eviction(void** /*state*/)
{
    std::vector<Device> devices;
    remember_device(devices, identity(1), 1000, 1, 3);
    assert_int_equal(devices.size(), 1);
    assert_int_equal(devices[0].expires_at, 1000 + 86400);
    assert_non_null(find_device(devices, identity(1).id, 1000 + 86399));
    assert_null(find_device(devices, identity(1).id, 1000 + 86400)); // expired at that second
    assert_null(find_device(devices, identity(2).id, 1000));

    remember_device(devices, identity(2), 2000, 1, 3);
    remember_device(devices, identity(3), 3000, 1, 3);
    remember_device(devices, identity(4), 4000, 1, 3); // over max_devices: 1 expires first, goes
    assert_int_equal(devices.size(), 3);
    assert_null(find_device(devices, identity(1).id, 4000));
    assert_non_null(find_device(devices, identity(2).id, 4000));
    // A device remembered again starts over and is not counted twice.
    remember_device(devices, identity(2), 5000, 1, 3);
    assert_int_equal(devices.size(), 3);
    assert_int_equal(find_device(devices, identity(2).id, 5000)->expires_at, 5000 + 86400);
    remember_device(devices, identity(5), 6000, 1, 3); // now 3 expires first
    assert_null(find_device(devices, identity(3).id, 6000));
    assert_non_null(find_device(devices, identity(2).id, 6000));
    // Expired ones are dropped when another is remembered.
    remember_device(devices, identity(6), 6000 + 86400 - 500, 1, 3);
    assert_int_equal(devices.size(), 2); // 5 and 6
    assert_true(drop_expired_devices(devices, 6000 + 86400));
    assert_int_equal(devices.size(), 1);
    assert_false(drop_expired_devices(devices, 6000 + 86400));
}

void prefixes(void** /*state*/)
{
    std::vector<Device> devices;
    remember_device(devices, identity(0xab), 1, 1, 10);
    remember_device(devices, identity(0xac), 1, 1, 10);
    assert_int_equal(match_device_prefix(devices, "abababab").size(), 1);
    assert_int_equal(match_device_prefix(devices, "ABABABAB").size(), 1);
    assert_int_equal(match_device_prefix(devices, short_id(identity(0xac).id)).front(), 1);
    assert_true(match_device_prefix(devices, "ababab").empty());   // too short
    assert_true(match_device_prefix(devices, "abababaz").empty()); // not hex
    assert_true(match_device_prefix(devices, "cdcdcdcd").empty()); // none
    assert_false(valid_device_prefix(std::string(65, 'a')));
}

void state_file_keeps_devices(void** /*state*/)
{
    UserState st;
    st.user = "alice";
    Device d;
    d.id.fill(0x5a);
    d.fingerprint = kEd25519Fp;
    d.address = "2001:db8::1 %odd";
    d.first_used = 10;
    d.last_used = 20;
    d.expires_at = 30;
    st.devices.push_back(d);
    const std::string text(view(serialize_user_state(st)));
    assert_int_equal(text.compare(0, 18, "twofactor-state 2\n"), 0);
    const UserState back = parse_user_state(text);
    assert_int_equal(back.devices.size(), 1);
    assert_true(back.devices[0].id == d.id);
    assert_string_equal(back.devices[0].address.c_str(), d.address.c_str());
    assert_string_equal(back.devices[0].fingerprint.c_str(), kEd25519Fp.c_str());
    assert_int_equal(back.devices[0].expires_at, 30);
    assert_null(strstr(text.c_str(), "AAAAC3"));
}

// The verifier remembers the login's device with an accepted code only.
void verifier_remembers_on_success_only(void** /*state*/)
{
    UserState st;
    st.user = "alice";
    TotpState totp;
    totp.secret = SecureBytes(20, 0x31);
    st.put(totp);
    VerifyPolicy policy;
    policy.remember_days = 7;
    policy.max_devices = 2;
    LoginContext context{"sshd", "192.0.2.1", "ssh"};
    context.device = identity(7);
    const std::int64_t now = 1700000000;

    VerifyResult r = decide(st, "000000", std::nullopt, now, policy, context);
    if (r.verdict == Verdict::accepted) // the one chance in a million the code is right
        return;
    assert_true(st.devices.empty());
    assert_true(r.remembered.empty());

    const std::string code(view(totp_generate(totp.secret, totp.params, now)));
    r = decide(st, code, std::nullopt, now, policy, context);
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_string_equal(r.remembered.c_str(), short_id(identity(7).id).c_str());
    assert_non_null(find_device(st.devices, identity(7).id, now + 7 * 86400 - 1));
    assert_null(find_device(st.devices, identity(7).id, now + 7 * 86400));

    // remember_days 0: nothing remembered.
    UserState other = st;
    other.devices.clear();
    other.find("default")->last_step.reset();
    policy.remember_days = 0;
    r = decide(other, code, std::nullopt, now, policy, context);
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_true(other.devices.empty());
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_formed_auth_info),
        cmocka_unit_test(malformed_auth_info_is_no_device),
        cmocka_unit_test(identity_by_mode),
        cmocka_unit_test(expiry_and_eviction),
        cmocka_unit_test(prefixes),
        cmocka_unit_test(state_file_keeps_devices),
        cmocka_unit_test(verifier_remembers_on_success_only),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
