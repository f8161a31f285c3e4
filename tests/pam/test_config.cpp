// Configuration errors (twofactor.conf(5), docs/style.md rule 2): an unknown
// option, a malformed or out-of-range value, a missing or unreadable config
// file all give PAM_SERVICE_ERR with the reason logged, before anything is
// asked. Module arguments override the file.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

void assert_service_error(const std::string& service, const std::string& reason)
{
    const LoginResult r = login_with("alice", totp_code(kT0), service);
    assert_pam(r.rc, PAM_SERVICE_ERR);
    assert_true(r.prompts.empty());
    assert_in_range(r.fail_delay_us, 1500000, 2500000);
    const std::string log = r.log_text();
    if (log.find("error user=- reason=bad_configuration detail=") == std::string::npos
        || r.decoded_log_text().find(reason) == std::string::npos)
        fail_msg("expected a configuration error with '%s'; log was:\n%s", reason.c_str(), log.c_str());
}

void unknown_option(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_service_error("twofactor_unknown_option", "argument: bogus_option: unknown option");
}

void malformed_value(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_service_error("twofactor_bad_value", "window: expected a whole number, got 'eleven'");
}

void out_of_range_value(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_service_error("twofactor_out_of_range", "max_failures: must be between 1 and 100");
}

void no_method_left(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_service_error("twofactor_no_method", "no_totp and no_backup_codes");
}

void missing_config_file(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_service_error("twofactor_missing_config", "does-not-exist.conf: cannot read");
}

void config_path_is_a_directory(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    assert_service_error("twofactor_dir_config", "/run");
}

void bad_line_in_the_config_file(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::string conf = env_or_die("TWOFACTOR_TEST_CONF");
    write_file(conf, "state_dir = " + dir.state_dir() + "\nwindow = lots\n", 0600);
    assert_service_error("twofactor", conf + ":2: window: expected a whole number");
    write_file(conf, "state_dir = " + dir.state_dir() + "\nsecret_option = yes\n", 0600);
    assert_service_error("twofactor", conf + ":2: secret_option: unknown option");
}

void arguments_override_the_file(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    write_file(env_or_die("TWOFACTOR_TEST_CONF"), "state_dir = " + dir.state_dir() + "\nwindow = 0\n", 0600);
    // The file alone: a code one step old is refused...
    assert_pam(login_with("alice", totp_code(kT0 - 30)).rc, PAM_AUTH_ERR);
    // ...but window=1 on the module line wins.
    assert_pam(login_with("alice", totp_code(kT0 - 30), "twofactor_window1").rc, PAM_SUCCESS);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unknown_option, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(malformed_value, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(out_of_range_value, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(no_method_left, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(missing_config_file, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(config_path_is_a_directory, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(bad_line_in_the_config_file, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(arguments_override_the_file, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
