// Wrong codes do not tell who is enrolled. Under alias_nss.c alice and carol
// are accounts; alice is enrolled (TOTP and backup codes), carol has no
// second factor, and the module is used without nullok. Over max_failures+1
// wrong codes both must get the same return codes, prompts, messages and
// delays, and both must have their failures written: an enrolled account
// used to be locked out with "Too many failed verification codes" and
// PAM_MAXTRIES, an unenrolled one never, and only the enrolled path wrote a
// file. A name that is no account is not counted (pam_twofactor(8)).
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

void assert_same_outside(const LoginResult& a, const LoginResult& b, int attempt)
{
    const auto prompts = [](const LoginResult& r) {
        std::string out;
        for (const Prompt& p : r.prompts)
            out += std::to_string(p.style) + ":" + p.text + "\n";
        return out;
    };
    const auto lines = [](const std::vector<std::string>& v) {
        std::string out;
        for (const std::string& s : v)
            out += s + "\n";
        return out;
    };
    if (a.rc != b.rc || prompts(a) != prompts(b) || lines(a.errors) != lines(b.errors)
        || lines(a.infos) != lines(b.infos) || a.fail_delay_us != b.fail_delay_us)
        fail_msg("attempt %d differs:\nenrolled:   %s, prompts %s errors %s infos %s delay %u\nunenrolled: %s, prompts "
                 "%s errors %s infos %s delay %u",
                 attempt, pam_name(a.rc), prompts(a).c_str(), lines(a.errors).c_str(), lines(a.infos).c_str(),
                 a.fail_delay_us, pam_name(b.rc), prompts(b).c_str(), lines(b.errors).c_str(), lines(b.infos).c_str(),
                 b.fail_delay_us);
}

void enrolled_and_unenrolled_accounts_look_alike(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    dir.issue_codes("alice", kT0 - 3600);
    const std::string lockout = "Too many failed verification codes; try again in 5 minutes.";
    // Both shapes of wrong answer: TOTP-shaped and backup-code-shaped.
    const std::string wrong[] = {wrong_totp_code(kT0), "ZZZZ9999"};
    constexpr int kMaxFailures = 5;
    for (int attempt = 1; attempt <= kMaxFailures + 1; ++attempt) {
        const std::string answer = wrong[attempt % 2];
        const FileSnapshot alice_before = snapshot(dir.path("alice"));
        const FileSnapshot carol_before = snapshot(dir.path("carol"));
        const LoginResult alice = login_with("alice", answer);
        const LoginResult carol = login_with("carol", answer);
        assert_same_outside(alice, carol, attempt);
        // The sequence itself: denied, then the lockout at max_failures,
        // then locked.
        assert_pam(carol.rc, attempt < kMaxFailures ? PAM_AUTH_ERR : PAM_MAXTRIES);
        if (attempt < kMaxFailures)
            assert_true(carol.errors.empty());
        else
            assert_text(carol.errors.at(0), lockout);
        // Every counted failure is written, for both; a locked attempt
        // writes nothing, for both.
        const bool written = attempt <= kMaxFailures;
        assert_int_equal(!(snapshot(dir.path("alice")) == alice_before), written);
        assert_int_equal(!(snapshot(dir.path("carol")) == carol_before), written);
        const twofactor::UserState a = dir.load("alice");
        const twofactor::UserState c = dir.load("carol");
        assert_int_equal(a.failures, c.failures);
        assert_int_equal(a.locked_until, c.locked_until);
    }
    assert_int_equal(dir.load("carol").locked_until, kT0 + 300);
    // Carol's record holds a failure count, nothing else: still not enrolled.
    const twofactor::UserState carol = dir.load("carol");
    assert_false(carol.enrolled());
    assert_false(carol.last_login.has_value());
}

void the_lockout_ends_alike(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    for (int i = 0; i < 5; ++i) {
        (void)login_with("alice", "ZZZZ9999");
        (void)login_with("carol", "ZZZZ9999");
    }
    set_time(kT0 + 299);
    assert_pam(login_with("carol", "ZZZZ9999").rc, PAM_MAXTRIES);
    set_time(kT0 + 300);
    // Over: counted from one again, like alice.
    assert_same_outside(login_with("alice", "ZZZZ9999"), login_with("carol", "ZZZZ9999"), 1);
    assert_int_equal(dir.load("carol").failures, 1);
    assert_int_equal(dir.load("carol").locked_until, 0);
    assert_int_equal(dir.load("alice").failures, 1);
}

void nullok_still_lets_a_counted_account_through(void** state)
{
    for (int i = 0; i < 5; ++i)
        (void)login_with("carol", "ZZZZ9999");
    assert_int_equal(dir_of(state).load("carol").locked_until, kT0 + 300);
    LoginResult r;
    const int rc = call_module_directly("carol", {"config=" + env_or_die("TWOFACTOR_TEST_CONF"), "nullok"}, {}, &r);
    assert_pam(rc, PAM_IGNORE);
    assert_true(r.prompts.empty());
}

void a_name_that_is_no_account_is_not_counted(void** state)
{
    for (int i = 0; i < 6; ++i)
        assert_pam(login_with("nobody-by-that-name", "ZZZZ9999").rc, PAM_AUTH_ERR);
    assert_false(snapshot(dir_of(state).path("nobody-by-that-name")).exists);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(enrolled_and_unenrolled_accounts_look_alike, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(the_lockout_ends_alike, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(nullok_still_lets_a_counted_account_through, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_name_that_is_no_account_is_not_counted, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
