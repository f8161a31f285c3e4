// forward_pass (pam_twofactor(8)): one prompt for password and code together;
// the code is split off the end and checked, and the password is handed on as
// PAM_AUTHTOK. The next module then checks that password without asking again
// (pam_exec.so expose_authtok running check_authtok, the way pam_unix
// try_first_pass works), and pam_get_items copies PAM_AUTHTOK into the PAM
// environment so the test can read exactly what the next module got.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

constexpr const char* kPassword = "correct horse 42";

void write_passdb() { write_file(env_or_die("TWOFACTOR_TEST_PASSWORD"), std::string(kPassword) + "\n", 0600); }

void assert_single_combined_prompt(const LoginResult& r)
{
    assert_int_equal(r.prompts.size(), 1);
    assert_false(r.extra_prompt);
    assert_text(r.prompts[0].text, "Password & verification code: ");
    assert_int_equal(r.prompts[0].style, PAM_PROMPT_ECHO_OFF);
}

void password_and_totp_in_one_answer(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    write_passdb();
    const std::string code = totp_code(kT0);
    const LoginResult r = login_with("alice", kPassword + code, "twofactor_forward");
    assert_pam(r.rc, PAM_SUCCESS); // both modules said yes
    assert_single_combined_prompt(r);
    assert_log_free_of(r, {kPassword, code, kPassword + code});
}

void wrong_password_fails_in_the_next_module(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    write_passdb();
    const LoginResult r = login_with("alice", "wrong password" + totp_code(kT0), "twofactor_forward");
    assert_true(r.rc != PAM_SUCCESS);
    assert_single_combined_prompt(r);
    // Our module accepted the code (and spent its step); the password check refused.
    assert_true(dir.load("alice").find("default")->last_step.has_value());
}

void wrong_code_fails_here(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    write_passdb();
    const LoginResult r = login_with("alice", kPassword + totp_code(kT0 + 3600), "twofactor_forward");
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_single_combined_prompt(r);
    assert_int_equal(dir_of(state).load("alice").failures, 1);
}

void the_next_module_receives_the_password(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", kPassword + totp_code(kT0), "twofactor_forward_items");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.env_value("PAM_AUTHTOK") == std::string(kPassword));
}

void password_is_handed_on_even_when_the_code_is_wrong(void** state)
{
    // So the next module checks it as usual and the outcome does not tell
    // which factor failed.
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", kPassword + std::string("000000"), "twofactor_forward_items");
    assert_true(r.rc != PAM_SUCCESS);
    assert_true(r.env_value("PAM_AUTHTOK") == std::string(kPassword));
}

void blanks_after_the_code_are_ignored(void** state)
{
    // As for a code typed alone; blanks inside the password stay in it.
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", kPassword + totp_code(kT0) + " \t", "twofactor_forward_items");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.env_value("PAM_AUTHTOK") == std::string(kPassword));
}

void password_ending_in_digits(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", "hunter2024" + totp_code(kT0), "twofactor_forward_items");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.env_value("PAM_AUTHTOK") == std::string("hunter2024"));
}

void backup_code_after_the_password(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    // A code whose tail is all digits would be read as TOTP (documented); take another.
    std::size_t pick = 0;
    while (codes[pick].find_first_not_of("0123456789", 2) == std::string::npos)
        ++pick;
    const LoginResult r = login_with("alice", kPassword + codes[pick], "twofactor_forward_items");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.env_value("PAM_AUTHTOK") == std::string(kPassword));
    assert_text(r.infos.at(0), "Backup code accepted; 9 of 10 backup codes remain.");
    assert_log_free_of(r, codes);
    assert_log_free_of(r, {kPassword});
}

void codes_only_user(void** state)
{
    const std::vector<std::string> codes = dir_of(state).issue_codes("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", "pw" + codes[0], "twofactor_forward_items");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.env_value("PAM_AUTHTOK") == std::string("pw"));
}

void never_echoed(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", kPassword + totp_code(kT0), "twofactor_forward_echo");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_single_combined_prompt(r); // echo_code does not apply to a password
}

void unenrolled_user_looks_the_same(void** /*state*/)
{
    const LoginResult r = login_with("bob", kPassword + std::string("123456"), "twofactor_forward_items");
    assert_true(r.rc != PAM_SUCCESS);
    assert_single_combined_prompt(r);
    assert_true(r.env_value("PAM_AUTHTOK") == std::string(kPassword));
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(password_and_totp_in_one_answer, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(wrong_password_fails_in_the_next_module, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(wrong_code_fails_here, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(the_next_module_receives_the_password, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(password_is_handed_on_even_when_the_code_is_wrong, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(blanks_after_the_code_are_ignored, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(password_ending_in_digits, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(backup_code_after_the_password, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(codes_only_user, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(never_echoed, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(unenrolled_user_looks_the_same, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
