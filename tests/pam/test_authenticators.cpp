// Several authenticators per user through the real module: HOTP tokens with
// the RFC 4226 vectors (codes from oathtool --hotp), the look-ahead window
// and replay; two TOTP authenticators with different algorithms, each
// accepted on its own, each revocable alone; a version-1 state file, as the
// previous build wrote it, logs in and is written back as version 2.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;
using twofactor::Authenticator;
using twofactor::AuthenticatorType;
using twofactor::TotpAlgorithm;
using twofactor::TotpParams;

namespace {

// RFC 4226, appendix D: the key "12345678901234567890" and its codes for
// counters 0 to 9.
constexpr const char* kHotpHex = "3132333435363738393031323334353637383930";
const char* const kRfc4226[]
    = {"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"};

std::string oath_hotp(std::uint64_t counter)
{
    std::string code
        = run_output({env_or_die("TWOFACTOR_OATHTOOL"), "--hotp", "-c", std::to_string(counter), kHotpHex});
    if (!code.empty() && code.back() == '\n')
        code.pop_back();
    return code;
}

void put(StateDir& dir, const std::string& user, Authenticator a)
{
    dir.store().update(user, [&](std::optional<twofactor::UserState>& state) {
        if (!state) {
            state = twofactor::UserState{};
            state->user = user;
        }
        state->put(std::move(a));
        return true;
    });
}

Authenticator token(const std::string& name)
{
    const std::string key = "12345678901234567890";
    Authenticator a{twofactor::SecureBytes(key.begin(), key.end()), TotpParams{}, kT0 - 3600, std::nullopt};
    a.name = name;
    a.type = AuthenticatorType::hotp;
    return a;
}

void assert_log_has(const LoginResult& r, const std::string& needle)
{
    if (r.log_text().find(needle) == std::string::npos)
        fail_msg("log lacks '%s'; log was:\n%s", needle.c_str(), r.log_text().c_str());
}

std::uint64_t counter_of(StateDir& dir, const std::string& user, const std::string& name)
{
    return dir.load(user).find(name)->counter;
}

void hotp_rfc4226_vectors_and_window(void** state)
{
    StateDir& dir = dir_of(state);
    for (std::uint64_t i = 0; i < 10; ++i)
        assert_text(oath_hotp(i), kRfc4226[i]);
    put(dir, "alice", token("yubikey"));

    LoginResult r = login_with("alice", oath_hotp(0));
    assert_pam(r.rc, PAM_SUCCESS);
    assert_log_has(r,
                   "accepted user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=hotp authenticator=yubikey");
    assert_log_free_of(r, {oath_hotp(0)});
    assert_int_equal(counter_of(dir, "alice", "yubikey"), 1);
    assert_text(dir.load("alice").last_login->authenticator, "yubikey");

    // Replayed, or an earlier counter: refused, nothing moves.
    assert_pam(login_with("alice", oath_hotp(0)).rc, PAM_AUTH_ERR);
    assert_int_equal(counter_of(dir, "alice", "yubikey"), 1);

    // Pressed away from the prompt: 1 + 10 is the last counter looked at.
    assert_pam(login_with("alice", oath_hotp(12)).rc, PAM_AUTH_ERR);
    assert_int_equal(counter_of(dir, "alice", "yubikey"), 1);
    assert_pam(login_with("alice", oath_hotp(11)).rc, PAM_SUCCESS);
    assert_int_equal(counter_of(dir, "alice", "yubikey"), 12);
    // Every counter skipped over is spent with it.
    for (const std::uint64_t spent : {std::uint64_t{5}, std::uint64_t{11}})
        assert_pam(login_with("alice", oath_hotp(spent)).rc, PAM_AUTH_ERR);
    dir.clear_lockout("alice");
    assert_pam(login_with("alice", oath_hotp(12)).rc, PAM_SUCCESS);
}

void hotp_window_is_a_setting(void** state)
{
    StateDir& dir = dir_of(state);
    put(dir, "alice", token("yubikey"));
    assert_pam(login_with("alice", oath_hotp(3), "twofactor_hotp_window2").rc, PAM_AUTH_ERR);
    assert_pam(login_with("alice", oath_hotp(2), "twofactor_hotp_window2").rc, PAM_SUCCESS);
    assert_int_equal(counter_of(dir, "alice", "yubikey"), 3);
    // A bad value is a configuration error: denied, nothing changed.
    const LoginResult r = login_with("alice", oath_hotp(3), "twofactor_hotp_window_bad");
    assert_pam(r.rc, PAM_SERVICE_ERR);
    assert_log_has(r, "hotp_window");
    assert_int_equal(counter_of(dir, "alice", "yubikey"), 3);
}

void two_totp_authenticators(void** state)
{
    StateDir& dir = dir_of(state);
    Authenticator phone{test_secret(), TotpParams{}, kT0 - 3600, std::nullopt};
    phone.name = "phone";
    const TotpParams sha256{TotpAlgorithm::sha256, 6, 30};
    Authenticator spare{twofactor::random_bytes(32), sha256, kT0 - 3600, std::nullopt};
    spare.name = "spare";
    const auto spare_code
        = [&](std::int64_t t) { return std::string(view(twofactor::totp_generate(spare.secret, sha256, t))); };
    put(dir, "alice", phone);
    put(dir, "alice", spare);
    put(dir, "alice", token("key"));

    set_time(kT0 + 5);
    LoginResult r = login_with("alice", spare_code(kT0));
    assert_pam(r.rc, PAM_SUCCESS);
    assert_log_has(r, "method=totp authenticator=spare");
    // The step spent on the spare is untouched on the phone, and the token's
    // counter too.
    twofactor::UserState st = dir.load("alice");
    assert_false(st.find("phone")->last_step.has_value());
    assert_int_equal(*st.find("spare")->last_step, kT0 / 30);
    assert_int_equal(st.find("key")->counter, 0);
    r = login_with("alice", totp_code(kT0));
    assert_pam(r.rc, PAM_SUCCESS);
    assert_log_has(r, "method=totp authenticator=phone");
    assert_pam(login_with("alice", spare_code(kT0)).rc, PAM_AUTH_ERR); // replay on the spare
    assert_pam(login_with("alice", totp_code(kT0)).rc, PAM_AUTH_ERR);  // and on the phone

    // Revoking the spare leaves the phone (and the token) working.
    dir.store().update("alice", [](std::optional<twofactor::UserState>& s) { return s->remove("spare"); });
    dir.clear_lockout("alice");
    set_time(kT0 + 35);
    assert_pam(login_with("alice", spare_code(kT0 + 30)).rc, PAM_AUTH_ERR);
    assert_pam(login_with("alice", totp_code(kT0 + 30)).rc, PAM_SUCCESS);
    assert_pam(login_with("alice", oath_hotp(0)).rc, PAM_SUCCESS);
}

// A state file exactly as the build before version 2 wrote it.
void version_1_file_logs_in_and_is_upgraded(void** state)
{
    StateDir& dir = dir_of(state);
    const std::string v1 = "twofactor-state 1\n"
                           "user alice\n"
                           "totp sha1 6 30 "
        + std::string(kSecretBase32) + " " + std::to_string(kT0 - 3600) + "\n" + "totp-last-step "
        + std::to_string(kT0 / 30 - 1) + "\nfailures 1 0\nlast-login " + std::to_string(kT0 - 30)
        + " totp sshd 203.0.113.9 ssh\nend\n";
    write_file(dir.path("alice"), v1, 0600);
    set_time(kT0 + 3);
    // The step it recorded stays spent.
    assert_pam(login_with("alice", totp_code(kT0 - 30)).rc, PAM_AUTH_ERR);
    assert_text(read_file(dir.path("alice")).substr(0, 18), "twofactor-state 2\n");
    const LoginResult r = login_with("alice", totp_code(kT0));
    assert_pam(r.rc, PAM_SUCCESS);
    assert_log_has(r, "method=totp authenticator=default");
    const std::string now_text = read_file(dir.path("alice"));
    const std::string auth = "auth default totp sha1 6 30 " + std::string(kSecretBase32) + " "
        + std::to_string(kT0 - 3600) + " " + std::to_string(kT0 / 30) + " " + std::to_string(kT0 + 3) + "\n";
    if (now_text.find(auth) == std::string::npos || now_text.find("\ntotp") != std::string::npos)
        fail_msg("not upgraded as expected:\n%s", now_text.c_str());
    assert_true(now_text.find("last-login " + std::to_string(kT0 + 3) + " totp default twofactor ")
                != std::string::npos);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hotp_rfc4226_vectors_and_window, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(hotp_window_is_a_setting, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(two_totp_authenticators, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(version_1_file_logs_in_and_is_upgraded, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
