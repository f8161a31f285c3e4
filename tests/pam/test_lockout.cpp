// Rate limiting through the real module (pam_twofactor(8), LOCKOUT): five
// wrong codes lock the user out, even a correct code is then refused with
// PAM_MAXTRIES and the time left, the lockout ends after lockout_seconds
// (clock moved with libfaketime, no sleeping), and clearing it through the
// core (what `twofactor-admin unlock` does) lets the user in at once.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>

using namespace pamtest;

namespace {

std::string lockout_text(int minutes)
{
    return "Too many failed verification codes; try again in " + std::to_string(minutes)
        + (minutes == 1 ? " minute." : " minutes.");
}

void lock_out(const std::string& service = "twofactor", int max_failures = 5)
{
    const std::string wrong = wrong_totp_code(now());
    for (int i = 1; i < max_failures; ++i) {
        const LoginResult r = login_with("alice", wrong, service);
        assert_pam(r.rc, PAM_AUTH_ERR);
        assert_true(r.errors.empty());
    }
    const LoginResult last = login_with("alice", wrong, service);
    assert_pam(last.rc, PAM_MAXTRIES);
    assert_int_equal(last.errors.size(), 1);
    assert_in_range(last.fail_delay_us, 1500000, 2500000);
    if (last.log_text().find("locked_out user=alice") == std::string::npos
        || last.log_text().find("lockout=started") == std::string::npos)
        fail_msg("no lockout line in:\n%s", last.log_text().c_str());
}

void five_wrong_codes_lock_out_even_a_correct_code(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    lock_out();
    assert_int_equal(dir.load("alice").locked_until, kT0 + 300);

    set_time(kT0 + 10);
    const LoginResult totp = login_with("alice", totp_code(kT0 + 10));
    assert_pam(totp.rc, PAM_MAXTRIES);
    assert_int_equal(totp.prompts.size(), 1); // asked first: the prompt reveals nothing
    assert_int_equal(totp.errors.size(), 1);
    assert_text(totp.errors[0], lockout_text(5)); // 290 s, rounded up
    if (totp.log_text().find("locked_out user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=- "
                             "reason=locked seconds_left=290")
        == std::string::npos)
        fail_msg("log was:\n%s", totp.log_text().c_str());

    // A correct backup code is refused too, and not spent.
    set_time(kT0 + 250);
    const LoginResult backup = login_with("alice", codes[0]);
    assert_pam(backup.rc, PAM_MAXTRIES);
    assert_text(backup.errors.at(0), lockout_text(1));
    assert_true(backup.infos.empty());
    assert_int_equal(dir.load("alice").codes->remaining(), 10);
    assert_log_free_of(backup, codes);
}

void accepted_again_after_lockout_seconds(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    lock_out();
    set_time(kT0 + 299);
    const LoginResult still = login_with("alice", totp_code(kT0 + 299));
    assert_pam(still.rc, PAM_MAXTRIES);
    assert_text(still.errors.at(0), lockout_text(1));

    set_time(kT0 + 300);
    const LoginResult r = login_with("alice", totp_code(kT0 + 300));
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.errors.empty());
    const twofactor::UserState st = dir.load("alice");
    assert_int_equal(st.failures, 0);
}

void unlock_through_the_core_clears_it(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    lock_out();
    set_time(kT0 + 5);
    assert_pam(login_with("alice", totp_code(kT0 + 5)).rc, PAM_MAXTRIES);
    dir.clear_lockout("alice");
    set_time(kT0 + 35);
    assert_pam(login_with("alice", totp_code(kT0 + 35)).rc, PAM_SUCCESS);
}

void a_success_resets_the_count(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::string wrong = wrong_totp_code(kT0);
    for (int i = 0; i < 4; ++i)
        assert_pam(login_with("alice", wrong).rc, PAM_AUTH_ERR);
    assert_pam(login_with("alice", totp_code(kT0)).rc, PAM_SUCCESS);
    for (int i = 0; i < 4; ++i)
        assert_pam(login_with("alice", wrong).rc, PAM_AUTH_ERR);
    assert_int_equal(dir.load("alice").failures, 4);
}

void max_failures_and_lockout_seconds_options(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    lock_out("twofactor_strict", 2);
    const LoginResult r = login_with("alice", totp_code(kT0), "twofactor_strict");
    assert_pam(r.rc, PAM_MAXTRIES);
    assert_text(r.errors.at(0), lockout_text(2)); // 90 s
    set_time(kT0 + 90);
    assert_pam(login_with("alice", totp_code(kT0 + 90), "twofactor_strict").rc, PAM_SUCCESS);
}

// sshd's password method answers the code prompt with the password (a
// module before ours set it as PAM_AUTHTOK): denied, but not counted, or
// every correct password through such a client would lock the user out.
void the_password_as_the_code_is_not_counted(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    set_time(kT0 + 7);
    const std::string password = "correct horse 42";
    ::setenv("PAM_AUTHTOK", password.c_str(), 1);
    for (int i = 0; i < 7; ++i) {
        const LoginResult r = login_with("alice", password, "twofactor_after_password");
        assert_pam(r.rc, PAM_AUTH_ERR);
        assert_in_range(r.fail_delay_us, 1500000, 2500000);
        if (r.log_text().find("denied user=alice") == std::string::npos
            || r.log_text().find("reason=password_as_code counted=no") == std::string::npos)
            fail_msg("log was:\n%s", r.log_text().c_str());
        assert_null(strstr(r.log_text().c_str(), password.c_str()));
    }
    assert_int_equal(dir.load("alice").failures, 0);
    assert_int_equal(dir.load("alice").locked_until, 0);
    // Anything else is a code as usual: counted when wrong, accepted when right.
    assert_pam(login_with("alice", wrong_totp_code(kT0), "twofactor_after_password").rc, PAM_AUTH_ERR);
    assert_int_equal(dir.load("alice").failures, 1);
    assert_pam(login_with("alice", totp_code(kT0), "twofactor_after_password").rc, PAM_SUCCESS);
    ::unsetenv("PAM_AUTHTOK");
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(five_wrong_codes_lock_out_even_a_correct_code, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(accepted_again_after_lockout_seconds, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(unlock_through_the_core_clears_it, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_success_resets_the_count, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(max_failures_and_lockout_seconds_options, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(the_password_as_the_code_is_not_counted, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
