// A login name is looked up in the user database and the state of the
// account it names is used (common/account.hpp). Under alias_nss.c, a
// preloaded user database that ignores case for alice: "ALICE" must meet
// alice's second factor, with nullok too (before, it found no state and
// nullok let it through on the password alone); a failing lookup denies.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

void assert_log_has(const LoginResult& r, const std::string& needle)
{
    if (r.log_text().find(needle) == std::string::npos)
        fail_msg("log lacks '%s'; log was:\n%s", needle.c_str(), r.log_text().c_str());
}

void another_spelling_meets_the_accounts_second_factor(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    set_time(kT0 + 7);
    // nullok: no state under "ALICE" must not mean "not enrolled".
    const LoginResult wrong = login_with("ALICE", totp_code(kT0 + 3600), "twofactor_nullok_permit");
    assert_pam(wrong.rc, PAM_AUTH_ERR);
    assert_int_equal(wrong.prompts.size(), 1);
    assert_log_has(wrong, "account user=ALICE account=alice");
    assert_log_has(wrong, "denied user=alice service=twofactor_nullok_permit");
    assert_int_equal(dir.load("alice").failures, 1); // counted on alice's state
    assert_false(snapshot(dir.path("ALICE")).exists);

    const std::string code = totp_code(kT0);
    const LoginResult right = login_with("Alice", code);
    assert_pam(right.rc, PAM_SUCCESS);
    assert_log_has(right, "accepted user=alice service=twofactor");
    // The step is spent for the account, whatever the spelling.
    assert_pam(login_with("alice", code).rc, PAM_AUTH_ERR);
    assert_pam(login_with("aLiCe", code).rc, PAM_AUTH_ERR);
}

void a_failed_lookup_denies(void** /*state*/)
{
    LoginResult r;
    const int rc
        = call_module_directly("nss-broken", {"config=" + env_or_die("TWOFACTOR_TEST_CONF"), "nullok"}, {}, &r);
    assert_pam(rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(r.prompts.empty());
    assert_log_has(r, "error user=nss-broken reason=user_lookup_failed detail=Input/output%20error");
}

void a_name_without_an_account_keeps_its_spelling(void** state)
{
    // bob is not in this database: the name is used as given, as before
    // (nullok steps aside; without it, prompted and denied).
    LoginResult r;
    const int rc = call_module_directly("bob", {"config=" + env_or_die("TWOFACTOR_TEST_CONF"), "nullok"}, {}, &r);
    assert_pam(rc, PAM_IGNORE);
    dir_of(state).enroll_totp("bob", kT0 - 3600);
    set_time(kT0 + 7);
    assert_pam(login_with("bob", totp_code(kT0)).rc, PAM_SUCCESS);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(another_spelling_meets_the_accounts_second_factor, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_failed_lookup_denies, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_name_without_an_account_keeps_its_spelling, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
