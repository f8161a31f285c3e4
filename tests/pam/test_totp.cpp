// TOTP through the real module: accepted, replay refused, the window, the
// prompt options, and the log line of each decision (never the code).
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

constexpr const char* kStdPrompt = "Verification code: ";

void assert_one_prompt(const LoginResult& r, const char* text, int style)
{
    assert_int_equal(r.prompts.size(), 1);
    assert_text(r.prompts[0].text, text);
    assert_int_equal(r.prompts[0].style, style);
    assert_false(r.extra_prompt);
}

void assert_log_has(const LoginResult& r, const std::string& needle)
{
    if (r.log_text().find(needle) == std::string::npos)
        fail_msg("log lacks '%s'; log was:\n%s", needle.c_str(), r.log_text().c_str());
}

void codes_agree_with_oathtool(void** /*state*/)
{
    const std::string oathtool = env_or_die("TWOFACTOR_OATHTOOL");
    for (const std::int64_t t : {kT0, kT0 + 29, kT0 + 30, kT0 + 12345}) {
        const std::string at = "@" + std::to_string(t);
        assert_text(run_output({oathtool, "--totp", "-b", kSecretBase32, "--now", at}), totp_code(t) + "\n");
    }
    const twofactor::TotpParams sha256{twofactor::TotpAlgorithm::sha256, 8, 30};
    assert_text(run_output({oathtool, "--totp=sha256", "-d", "8", "-b", kSecretBase32, "--now", "@1893456000"}),
                totp_code(kT0, sha256) + "\n");
}

void current_code_accepted(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    set_time(kT0 + 7);
    const std::string code = totp_code(kT0);
    const LoginResult r = login_with("alice", code);
    assert_pam(r.rc, PAM_SUCCESS);
    assert_one_prompt(r, kStdPrompt, PAM_PROMPT_ECHO_OFF);
    assert_true(r.infos.empty());
    assert_true(r.errors.empty());
    assert_int_equal(r.fail_delay_us, 0); // no delay requested on success

    assert_log_has(r, "accepted user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=totp");
    assert_int_equal(r.log.size(), 1); // one line per decision
    assert_log_free_of(r, {code, kSecretBase32});

    const twofactor::UserState st = dir.load("alice");
    assert_true(st.find("default")->last_step.has_value());
    assert_int_equal(*st.find("default")->last_step, kT0 / 30);
    assert_true(st.last_login.has_value());
    assert_text(st.last_login->rhost, "203.0.113.5");
}

void same_code_again_is_refused(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::string code = totp_code(kT0);
    assert_pam(login_with("alice", code).rc, PAM_SUCCESS);

    const LoginResult again = login_with("alice", code);
    assert_pam(again.rc, PAM_AUTH_ERR);
    assert_one_prompt(again, kStdPrompt, PAM_PROMPT_ECHO_OFF);
    assert_true(again.errors.empty());                      // no oracle: a replay looks like any wrong code
    assert_in_range(again.fail_delay_us, 1500000, 2500000); // 2 s, randomised by libpam
    assert_log_has(again,
                   "denied user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=totp "
                   "reason=replayed_code");
    assert_log_free_of(again, {code});

    // An earlier step is refused too, even though it is inside the window.
    assert_pam(login_with("alice", totp_code(kT0 - 30)).rc, PAM_AUTH_ERR);
    // The next step is new.
    set_time(kT0 + 30);
    assert_pam(login_with("alice", totp_code(kT0 + 30)).rc, PAM_SUCCESS);
}

void window_one_accepts_one_step_not_two(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const LoginResult old2 = login_with("alice", totp_code(kT0 - 60), "twofactor_window1");
    assert_pam(old2.rc, PAM_AUTH_ERR);
    assert_log_has(old2, "reason=clock_skew skew=-60");
    assert_pam(login_with("alice", totp_code(kT0 - 30), "twofactor_window1").rc, PAM_SUCCESS);
    assert_pam(login_with("alice", totp_code(kT0 + 30), "twofactor_window1").rc, PAM_SUCCESS);
    // Last: a refused code of a later step is spent (skewed_code_is_explained).
    assert_pam(login_with("alice", totp_code(kT0 + 60), "twofactor_window1").rc, PAM_AUTH_ERR);
}

void window_zero_accepts_only_the_current_step(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_pam(login_with("alice", totp_code(kT0 - 30), "twofactor_window0").rc, PAM_AUTH_ERR);
    assert_pam(login_with("alice", totp_code(kT0), "twofactor_window0").rc, PAM_SUCCESS);
    assert_pam(login_with("alice", totp_code(kT0 + 30), "twofactor_window0").rc, PAM_AUTH_ERR);
}

void surrounding_whitespace_is_trimmed(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_pam(login_with("alice", " \t" + totp_code(kT0) + "  ").rc, PAM_SUCCESS);
}

void wrong_code_is_denied_with_delay(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const std::string good = totp_code(kT0);
    const std::string wrong = good == "000000" ? "000001" : "000000";
    const LoginResult r = login_with("alice", wrong);
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_in_range(r.fail_delay_us, 1500000, 2500000);
    assert_log_has(r, "denied user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=- reason=wrong_code");
    assert_log_free_of(r, {wrong});
    assert_int_equal(dir_of(state).load("alice").failures, 1);
}

void eight_digit_sha256_codes(void** state)
{
    const twofactor::TotpParams params{twofactor::TotpAlgorithm::sha256, 8, 30};
    dir_of(state).enroll_totp("alice", kT0 - 3600, params);
    assert_pam(login_with("alice", totp_code(kT0)).rc, PAM_AUTH_ERR); // a SHA-1 six-digit code
    assert_pam(login_with("alice", totp_code(kT0, params)).rc, PAM_SUCCESS);
}

void echo_code_and_prompt_options(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult echo = login_with("alice", totp_code(kT0), "twofactor_echo");
    assert_pam(echo.rc, PAM_SUCCESS);
    assert_one_prompt(echo, kStdPrompt, PAM_PROMPT_ECHO_ON);

    set_time(kT0 + 30);
    const LoginResult custom = login_with("alice", totp_code(kT0 + 30), "twofactor_prompt");
    assert_pam(custom.rc, PAM_SUCCESS);
    assert_one_prompt(custom, "Code from your app: ", PAM_PROMPT_ECHO_OFF);
}

void debug_option_logs_more_but_no_code(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const std::string code = totp_code(kT0);
    const LoginResult r = login_with("alice", code, "twofactor_debug");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.log.size() >= 2);
    assert_log_free_of(r, {code, kSecretBase32});
}

void no_totp_refuses_totp_codes(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    assert_pam(login_with("alice", totp_code(kT0), "twofactor_no_totp").rc, PAM_AUTH_ERR);
    assert_pam(login_with("alice", codes[0], "twofactor_no_totp").rc, PAM_SUCCESS);
}

// A code from a device whose clock is minutes off: refused and counted,
// logged as clock_skew with the offset (never the code), and the user is
// told to check the clock.
void skewed_code_is_explained(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    set_time(kT0 + 7);
    const std::string behind = totp_code(kT0 - 300);
    const LoginResult r = login_with("alice", behind);
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_int_equal(r.errors.size(), 1);
    assert_text(r.errors[0], "The code is from 5 minutes ago: check your device's clock.");
    assert_log_has(r,
                   "denied user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=totp "
                   "reason=clock_skew skew=-300");
    assert_log_free_of(r, {behind});
    assert_int_equal(dir.load("alice").failures, 1);

    const std::string ahead = totp_code(kT0 + 120);
    const LoginResult a = login_with("alice", ahead);
    assert_pam(a.rc, PAM_AUTH_ERR);
    assert_text(a.errors.at(0), "The code is 2 minutes ahead: check your device's clock.");
    assert_log_has(a, "reason=clock_skew skew=+120");
    const twofactor::UserState st = dir.load("alice");
    assert_int_equal(st.failures, 2);
    assert_int_equal(st.last_skew->seconds, 120);
    // That code was spent: had the message told an attacker a code that
    // works in 2 minutes, it would not work then.
    set_time(kT0 + 127);
    assert_log_has(login_with("alice", ahead), "reason=replayed_code");
    set_time(kT0 + 7);

    // Out of the search: a plain wrong code.
    const LoginResult far = login_with("alice", totp_code(kT0 - 3600));
    assert_true(far.errors.empty());
    assert_log_has(far, "reason=wrong_code");
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(codes_agree_with_oathtool),
        cmocka_unit_test_setup_teardown(current_code_accepted, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(same_code_again_is_refused, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(window_one_accepts_one_step_not_two, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(window_zero_accepts_only_the_current_step, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(surrounding_whitespace_is_trimmed, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(wrong_code_is_denied_with_delay, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(eight_digit_sha256_codes, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(echo_code_and_prompt_options, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(debug_option_logs_more_but_no_code, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(no_totp_refuses_totp_codes, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(skewed_code_is_explained, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
