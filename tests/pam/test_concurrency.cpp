// One code, sixteen simultaneous logins, fifty rounds: exactly one login
// per round succeeds (docs/store.md: one code is never accepted twice, even
// by simultaneous logins). The user has two authenticators, a TOTP app and
// an HOTP token, and backup codes: rounds alternate between a backup code
// and the token's next code, and the app's step is never touched. Each login slot is its own process with its
// own libpam and its own PAM handle per transaction (pam_login_driver);
// each round, all sixteen get the code at the same moment. Debian 12's
// libpam-google-authenticator accepted a scratch code more than once in 11
// of 30 such rounds on this machine; we must be at zero.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "hotp.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

#include <memory>

using namespace pamtest;

namespace {

constexpr int kRounds = 50;
constexpr int kParallel = 16;

// The next "result RC" line of a driver (pam_wrapper may log other lines).
int next_result(ChildProcess& login, int round)
{
    while (const std::optional<std::string> line = login.read_line()) {
        if (line->rfind("result ", 0) == 0)
            return std::stoi(line->substr(7));
    }
    fail_msg("round %d: a login process ended early: %s", round, login.output().c_str());
    return -1;
}

void one_success_per_round(void** state)
{
    StateDir& dir = dir_of(state);
    const std::string driver = env_or_die("TWOFACTOR_LOGIN_DRIVER");
    std::vector<std::unique_ptr<ChildProcess>> logins;
    for (int i = 0; i < kParallel; ++i)
        logins.push_back(
            std::make_unique<ChildProcess>(std::vector<std::string>{driver, "twofactor_many_tries", "carol"}));

    dir.enroll_totp("carol", now());
    twofactor::Authenticator token{twofactor::random_bytes(20), twofactor::TotpParams{}, now(), std::nullopt};
    token.name = "token";
    token.type = twofactor::AuthenticatorType::hotp;
    dir.store().update("carol", [&](std::optional<twofactor::UserState>& s) {
        s->put(token);
        return true;
    });

    int failures_seen = 0;
    std::uint64_t hotp_rounds = 0;
    for (int round = 0; round < kRounds; ++round) {
        const std::vector<std::string> codes = dir.issue_codes("carol", now(), 2);
        dir.clear_lockout("carol"); // fifteen failures a round
        const bool hotp = round % 2 == 1;
        const std::string code
            = hotp ? std::string(view(twofactor::hotp_generate(token.secret, token.params, hotp_rounds++))) : codes[0];
        for (auto& login : logins)
            login->write(code + "\n");

        int successes = 0;
        for (auto& login : logins) {
            const int rc = next_result(*login, round);
            if (rc == PAM_SUCCESS)
                ++successes;
            else if (rc == PAM_AUTH_ERR)
                ++failures_seen;
            else
                fail_msg("round %d: a login returned %s", round, pam_name(rc));
        }
        if (successes != 1)
            fail_msg("round %d: %d logins accepted the same code", round, successes);
        const twofactor::UserState st = dir.load("carol");
        assert_int_equal(st.codes->remaining(), hotp ? 2 : 1);
        assert_int_equal(st.find("token")->counter, hotp_rounds);
        assert_false(st.find("default")->last_step.has_value());
    }
    assert_int_equal(failures_seen, kRounds * (kParallel - 1));
    for (auto& login : logins)
        assert_int_equal(login->finish(), 0);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_success_per_round, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
