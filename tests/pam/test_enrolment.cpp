// Users without state (pam_twofactor(8), nullok): without nullok they are
// prompted like anyone else and then denied, so the prompts do not tell who is
// enrolled; with nullok the module steps aside (PAM_IGNORE, no prompt), so the
// stack decides; and nullok never lets an unreadable state through.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

void unenrolled_is_prompted_then_denied(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const LoginResult enrolled = login_with("alice", "123456");
    const LoginResult unenrolled = login_with("bob", "123456");
    assert_pam(unenrolled.rc, PAM_AUTH_ERR);
    // Same prompts, same messages, same delay as a wrong code of an enrolled user.
    assert_int_equal(unenrolled.prompts.size(), 1);
    assert_text(unenrolled.prompts[0].text, enrolled.prompts.at(0).text);
    assert_int_equal(unenrolled.prompts[0].style, enrolled.prompts[0].style);
    assert_true(unenrolled.errors.empty() && unenrolled.infos.empty());
    assert_in_range(unenrolled.fail_delay_us, 1500000, 2500000);
    assert_text(unenrolled.log_text(),
                "denied user=bob service=twofactor rhost=203.0.113.5 tty=ssh method=- reason=not_enrolled\n");
    // Nothing was written for bob.
    assert_false(snapshot(dir.path("bob")).exists);
}

void nullok_returns_ignore_without_prompting(void** state)
{
    LoginResult r;
    const int rc = call_module_directly("bob", {"config=" + env_or_die("TWOFACTOR_TEST_CONF"), "nullok"}, {}, &r);
    assert_pam(rc, PAM_IGNORE);
    assert_true(r.prompts.empty());
    assert_text(
        r.log_text(),
        "ignored user=bob service=twofactor rhost=203.0.113.5 tty=ssh method=- reason=not_enrolled nullok=yes\n");
    assert_false(snapshot(dir_of(state).path("bob")).exists);
}

void nullok_alone_does_not_let_anyone_in(void** /*state*/)
{
    // A stack in which every module ignores the user fails in libpam.
    LoginRequest request;
    request.user = "bob";
    request.service = "twofactor_nullok";
    const LoginResult r = login(request);
    assert_true(r.rc != PAM_SUCCESS);
    assert_true(r.prompts.empty());
}

void nullok_then_permit_succeeds(void** /*state*/)
{
    LoginRequest request;
    request.user = "bob";
    request.service = "twofactor_nullok_permit";
    const LoginResult r = login(request);
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.prompts.empty());
}

void nullok_still_checks_enrolled_users(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult wrong = login_with("alice", totp_code(kT0 + 3600), "twofactor_nullok_permit");
    assert_pam(wrong.rc, PAM_AUTH_ERR);
    assert_int_equal(wrong.prompts.size(), 1);
    assert_pam(login_with("alice", totp_code(kT0), "twofactor_nullok_permit").rc, PAM_SUCCESS);
}

void nullok_treats_an_empty_state_as_unenrolled(void** state)
{
    StateDir& dir = dir_of(state);
    // A state with neither TOTP nor codes (everything revoked).
    dir.store().update("bob", [](std::optional<twofactor::UserState>& st) {
        st = twofactor::UserState{};
        return true;
    });
    LoginRequest request;
    request.user = "bob";
    request.service = "twofactor_nullok_permit";
    assert_pam(login(request).rc, PAM_SUCCESS);
    assert_pam(login_with("bob", "123456").rc, PAM_AUTH_ERR);
}

void nullok_fails_closed_on_an_unsafe_state_file(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("bob", kT0 - 3600);
    chmod(dir.path("bob").c_str(), 0644);
    LoginRequest request;
    request.user = "bob";
    request.service = "twofactor_nullok_permit";
    const LoginResult r = login(request);
    assert_pam(r.rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(r.prompts.empty());
}

void invalid_user_name_is_user_unknown(void** /*state*/)
{
    for (const char* user : {"../etc/passwd", "bob\nfake log line", ".hidden", "a/b"}) {
        const LoginResult r = login_with(user, "123456");
        assert_pam(r.rc, PAM_USER_UNKNOWN);
        assert_true(r.prompts.empty());
        // The name is logged, but it cannot forge a second log line.
        for (const LogLine& line : r.log)
            assert_true(line.text.find('\n') == std::string::npos);
    }
}

void setcred_succeeds(void** /*state*/)
{
    // libpamtest's own runner and default conversation, for pam_setcred.
    pam_testcase cases[1] = {};
    cases[0].pam_operation = PAMTEST_SETCRED;
    cases[0].expected_rv = PAM_SUCCESS;
    cases[0].flags = PAM_ESTABLISH_CRED;
    pamtest_conv_data conv{};
    const pamtest_err err = _pamtest("twofactor", "alice", &conv, cases, 1, nullptr);
    if (err != PAMTEST_ERR_OK)
        fail_msg("pam_setcred: %s (got %s)", pamtest_strerror(err), pam_name(cases[0].op_rv));
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unenrolled_is_prompted_then_denied, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(nullok_returns_ignore_without_prompting, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(nullok_alone_does_not_let_anyone_in, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(nullok_then_permit_succeeds, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(nullok_still_checks_enrolled_users, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(nullok_treats_an_empty_state_as_unenrolled, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(nullok_fails_closed_on_an_unsafe_state_file, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(invalid_user_name_is_user_unknown, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(setcred_succeeds, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
