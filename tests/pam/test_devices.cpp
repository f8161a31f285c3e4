// Recognised devices through the real module (pam_twofactor(8), RECOGNISED
// DEVICES; docs/devices.md): a good code from an SSH key remembers it, the
// next login from that key skips the prompt, another key, an expired or
// forgotten device, a locked-out user, a forged SSH_AUTH_INFO_0 (process
// environment, another service, malformed) are asked for a code; every bad
// value of the new keys fails closed. SSH_AUTH_INFO_0 is put in the PAM
// environment as sshd puts it (pam_putenv before the stack runs).
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

#include <cstdlib>

using namespace pamtest;

namespace {

const std::string kKeyA = "AAAAC3NzaC1lZDI1NTE5AAAAIJgSssSrIOneifwpUM02GR2GgsviF6UrEP/jqopqmtUM";
const std::string kKeyAFingerprint = "SHA256:3tEjATN74rgKQVJWmdBYq3fXbLLS5Ylt72hxWPC3s+M";
const std::string kKeyB = "AAAAC3NzaC1lZDI1NTE5AAAAIEveyN/h6EhM20YTu8p3t1Zi4ilBtYaf6+U4KcawlsGo";
const std::string kKeyC = "AAAAC3NzaC1lZDI1NTE5AAAAII5Xxe0TxuQVI3Ox12U9baXH6YJNVHakRRD0H9yNA1L9";
constexpr std::int64_t kDay = 86400;

std::string auth_info(const std::string& key) { return "SSH_AUTH_INFO_0=publickey ssh-ed25519 " + key + "\n"; }

// A login by `service` from `key` (empty: none in the PAM environment)
// answering `answers` (none: any prompt fails the conversation).
LoginResult from(const std::string& key, const std::vector<std::string>& answers = {},
                 const std::string& service = "sshd", const std::string& rhost = "203.0.113.5")
{
    LoginRequest request;
    request.service = service;
    request.rhost = rhost;
    for (const std::string& a : answers)
        request.replies.push_back(Reply::of(a));
    if (!key.empty())
        request.pam_env.push_back(auth_info(key));
    return login(request);
}

void expect_skipped(const LoginResult& r)
{
    assert_pam(r.rc, PAM_SUCCESS);
    if (!r.prompts.empty() || r.extra_prompt)
        fail_msg("asked for a code; log:\n%s", r.log_text().c_str());
    if (r.log_text().find("accepted user=alice service=") == std::string::npos
        || r.log_text().find(" decision=remembered device=") == std::string::npos)
        fail_msg("no remembered line in:\n%s", r.log_text().c_str());
}

// Asked for a code (and, given none, refused): never skipped.
void expect_asked(const LoginResult& r)
{
    assert_int_equal(r.prompts.size(), 1);
    assert_true(r.rc != PAM_SUCCESS);
    if (r.log_text().find("decision=remembered") != std::string::npos)
        fail_msg("skipped:\n%s", r.log_text().c_str());
}

// A good code from `key` at `t`: accepted, and the key remembered.
void code_from(const std::string& key, std::int64_t t, const std::string& service = "sshd")
{
    set_time(t);
    const LoginResult r = from(key, {totp_code(t)}, service);
    assert_pam(r.rc, PAM_SUCCESS);
    assert_int_equal(r.prompts.size(), 1);
}

void remembered_key_skips_the_prompt(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0);
    const twofactor::UserState st = dir.load("alice");
    assert_int_equal(st.devices.size(), 1);
    assert_string_equal(st.devices[0].fingerprint.c_str(), kKeyAFingerprint.c_str());
    assert_true(st.devices[0].address.empty());
    assert_int_equal(st.devices[0].first_used, kT0);
    assert_int_equal(st.devices[0].expires_at, kT0 + 7 * kDay);
    // The raw key is not stored.
    assert_null(strstr(read_file(dir.path("alice")).c_str(), kKeyA.substr(20, 30).c_str()));

    set_time(kT0 + 3600);
    const LoginResult again = from(kKeyA);
    expect_skipped(again);
    const std::string id = twofactor::short_id(st.devices[0].id);
    if (again.log_text().find("device=" + id) == std::string::npos)
        fail_msg("device id %s not in:\n%s", id.c_str(), again.log_text().c_str());
    // The last use moves; the expiry does not.
    const twofactor::UserState after = dir.load("alice");
    assert_int_equal(after.devices[0].last_used, kT0 + 3600);
    assert_int_equal(after.devices[0].expires_at, kT0 + 7 * kDay);
    // The failure count of the user is untouched by a skip.
    assert_int_equal(after.failures, 0);

    // Another key is asked, and a wrong code from it is a failure as usual.
    expect_asked(from(kKeyB, {wrong_totp_code(kT0 + 3600)}));
    assert_int_equal(dir.load("alice").failures, 1);
}

void expiry_counts_from_the_code(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0);
    set_time(kT0 + 7 * kDay - 1);
    expect_skipped(from(kKeyA)); // used the day before expiry: the expiry stays
    set_time(kT0 + 7 * kDay);
    expect_asked(from(kKeyA, {wrong_totp_code(kT0 + 7 * kDay)}));
    // The failed attempt's write dropped the expired device.
    assert_true(dir.load("alice").devices.empty());
}

// remember_days lowered after the fact: what was stored for 7 days lasts 1.
void lowered_remember_days_applies_at_once(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0); // remembered by "sshd", remember_days=7
    set_time(kT0 + kDay - 1);
    expect_skipped(from(kKeyA, {}, "sshd_1day"));
    set_time(kT0 + kDay);
    expect_asked(from(kKeyA, {}, "sshd_1day"));
    expect_skipped(from(kKeyA)); // still 7 days where remember_days is 7
}

void forgotten_device_is_asked(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0);
    set_time(kT0 + 60);
    expect_skipped(from(kKeyA));
    // What `twofactor-admin forget alice --all` does, through the core.
    dir.store().update("alice", [](std::optional<twofactor::UserState>& s) {
        s->devices.clear();
        return true;
    });
    expect_asked(from(kKeyA));
    // A new TOTP enrolment forgets them too (the admin tool clears them).
    code_from(kKeyA, kT0 + 120);
    assert_int_equal(dir.load("alice").devices.size(), 1);
}

void forged_or_malformed_auth_info_never_skips(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0);
    set_time(kT0 + 60);

    // The process environment is the user's under su or sudo: never read.
    setenv("SSH_AUTH_INFO_0", ("publickey ssh-ed25519 " + kKeyA + "\n").c_str(), 1);
    expect_asked(from(""));
    unsetenv("SSH_AUTH_INFO_0");

    // The same PAM environment through a service not in remember_services.
    expect_asked(from(kKeyA, {}, "su"));
    // remember_days 0 on a service that is listed: off.
    expect_asked(from(kKeyA, {}, "sshd_off"));

    // Malformed: two keys, a certificate, a key whose type does not match,
    // bad base64. Each is no device, logged, and asked.
    const std::vector<std::string> bad = {
        "SSH_AUTH_INFO_0=publickey ssh-ed25519 " + kKeyA + "\npublickey ssh-ed25519 " + kKeyB + "\n",
        "SSH_AUTH_INFO_0=publickey ssh-ed25519-cert-v01@openssh.com " + kKeyA + " ID x (serial 1) CA y\n",
        "SSH_AUTH_INFO_0=publickey ssh-rsa " + kKeyA + "\n",
        "SSH_AUTH_INFO_0=publickey ssh-ed25519 " + kKeyA.substr(1) + "\n",
    };
    for (const std::string& entry : bad) {
        LoginRequest request;
        request.service = "sshd";
        request.pam_env.push_back(entry);
        const LoginResult r = login(request);
        expect_asked(r);
        if (r.log_text().find("reason=no_device") == std::string::npos)
            fail_msg("no no_device note for %s:\n%s", entry.c_str(), r.log_text().c_str());
    }
    // Empty (no method completed before ours): asked.
    LoginRequest empty;
    empty.service = "sshd";
    empty.pam_env.push_back("SSH_AUTH_INFO_0=");
    expect_asked(login(empty));
    // And the good one still skips.
    expect_skipped(from(kKeyA));
}

void locked_out_user_is_never_skipped(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0);
    dir.store().update("alice", [](std::optional<twofactor::UserState>& s) {
        s->locked_until = kT0 + 300;
        return true;
    });
    set_time(kT0 + 60);
    const LoginResult r = from(kKeyA, {totp_code(kT0 + 60)});
    assert_pam(r.rc, PAM_MAXTRIES);
    assert_int_equal(r.prompts.size(), 1);
    set_time(kT0 + 301);
    expect_skipped(from(kKeyA));
}

void unenrolled_user_is_never_skipped(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0);
    // Only the device list is left (no second factor): asked, denied.
    dir.store().update("alice", [](std::optional<twofactor::UserState>& s) {
        s->authenticators.clear();
        return true;
    });
    set_time(kT0 + 60);
    expect_asked(from(kKeyA));
}

void max_devices_evicts_the_oldest(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from(kKeyA, kT0);
    code_from(kKeyB, kT0 + 30);
    code_from(kKeyC, kT0 + 60); // max_devices=2 on this service: A goes
    assert_int_equal(dir.load("alice").devices.size(), 2);
    set_time(kT0 + 90);
    expect_skipped(from(kKeyB));
    expect_skipped(from(kKeyC));
    expect_asked(from(kKeyA));
}

void by_address_and_by_key_and_address(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    code_from("", kT0, "sshd_address");
    set_time(kT0 + 30);
    expect_skipped(from("", {}, "sshd_address")); // same PAM_RHOST, no key needed
    expect_asked(from("", {}, "sshd_address", "203.0.113.6"));
    expect_asked(from("", {}, "sshd_address", ""));

    code_from(kKeyA, kT0 + 60, "sshd_key_address");
    set_time(kT0 + 90);
    expect_skipped(from(kKeyA, {}, "sshd_key_address"));
    expect_asked(from(kKeyA, {}, "sshd_key_address", "203.0.113.6")); // same key, elsewhere
    expect_asked(from(kKeyB, {}, "sshd_key_address"));                // same place, another key
    expect_asked(from("", {}, "sshd_key_address"));                   // no key at all
}

void bad_values_fail_closed(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const struct {
        const char* service;
        const char* error;
    } cases[] = {
        {"sshd_days_91", "argument: remember_days: must be between 0 and 90"},
        {"sshd_days_negative", "argument: remember_days: expected a whole number, got '-1'"},
        {"sshd_days_x", "argument: remember_days: expected a whole number, got 'x'"},
        {"sshd_by_foo", "argument: remember_by: expected key, key+address or address, got 'foo'"},
        {"sshd_services_empty", "argument: remember_services: must not be empty"},
        {"sshd_devices_0", "argument: max_devices: must be between 1 and 50"},
        {"sshd_devices_huge", "argument: max_devices: expected a whole number, got '4294967296'"},
    };
    for (const auto& c : cases) {
        const LoginResult r = from(kKeyA, {totp_code(kT0)}, c.service);
        assert_pam(r.rc, PAM_SERVICE_ERR);
        assert_true(r.prompts.empty());
        if (r.decoded_log_text().find(c.error) == std::string::npos)
            fail_msg("%s: '%s' not in:\n%s", c.service, c.error, r.decoded_log_text().c_str());
    }
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(remembered_key_skips_the_prompt, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(expiry_counts_from_the_code, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(forgotten_device_is_asked, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(lowered_remember_days_applies_at_once, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(forged_or_malformed_auth_info_never_skips, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(locked_out_user_is_never_skipped, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(unenrolled_user_is_never_skipped, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(max_devices_evicts_the_oldest, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(by_address_and_by_key_and_address, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(bad_values_fail_closed, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
