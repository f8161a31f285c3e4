// Backup codes through the real module: each works once, lower case is
// accepted, the user is told how many remain and warned when few do, and the
// use is recorded with service, remote host, tty and time.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

#include <algorithm>
#include <cctype>

using namespace pamtest;

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string remain_text(int remaining)
{
    return "Backup code accepted; " + std::to_string(remaining) + " of 10 backup codes "
        + (remaining == 1 ? "remains." : "remain.");
}

void first_code_says_nine_of_ten_remain(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", codes[0]);
    assert_pam(r.rc, PAM_SUCCESS);
    assert_int_equal(r.prompts.size(), 1);
    assert_int_equal(r.infos.size(), 1);
    assert_text(r.infos[0], "Backup code accepted; 9 of 10 backup codes remain.");
    assert_true(r.errors.empty());
    assert_text(r.log_text(),
                "accepted user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=backup_code "
                "codes_remaining=9 codes_total=10\n");
    assert_log_free_of(r, codes);
}

void a_used_code_is_refused(void** state)
{
    StateDir& dir = dir_of(state);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600); // codes only, no TOTP
    assert_pam(login_with("alice", codes[3]).rc, PAM_SUCCESS);
    const LoginResult again = login_with("alice", codes[3]);
    assert_pam(again.rc, PAM_AUTH_ERR);
    assert_true(again.infos.empty());
    assert_in_range(again.fail_delay_us, 1500000, 2500000);
    assert_log_free_of(again, codes);
    assert_int_equal(dir.load("alice").codes->remaining(), 9);
}

void lower_case_is_accepted(void** state)
{
    StateDir& dir = dir_of(state);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", "  " + lower(codes[5]) + "\n");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_text(r.infos.at(0), remain_text(9));
    assert_log_free_of(r, codes);
}

void warns_at_three_and_says_when_none_remain(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    for (int used = 1; used <= 10; ++used) {
        const int remaining = 10 - used;
        set_time(kT0 + used * 60);
        const LoginResult r = login_with("alice", codes[static_cast<std::size_t>(used - 1)]);
        assert_pam(r.rc, PAM_SUCCESS);
        assert_log_free_of(r, codes);
        if (remaining == 0) {
            assert_int_equal(r.infos.size(), 1);
            assert_text(r.infos[0],
                        "Backup code accepted; none of your 10 backup codes remain. Ask your administrator for a "
                        "new set.");
        } else if (remaining > 3) {
            assert_int_equal(r.infos.size(), 1);
            assert_text(r.infos[0], remain_text(remaining));
        } else {
            assert_int_equal(r.infos.size(), 2);
            assert_text(r.infos[0], remain_text(remaining));
            assert_text(r.infos[1],
                        "Only " + std::to_string(remaining) + (remaining == 1 ? " backup code" : " backup codes")
                            + " left; ask your administrator for a new set.");
        }
    }
    // All spent: every one refused, TOTP still works.
    assert_pam(login_with("alice", codes[0]).rc, PAM_AUTH_ERR);
    assert_pam(login_with("alice", codes[9]).rc, PAM_AUTH_ERR);
    set_time(kT0 + 3600);
    assert_pam(login_with("alice", totp_code(kT0 + 3600)).rc, PAM_SUCCESS);
}

void warn_remaining_zero_never_warns(void** state)
{
    StateDir& dir = dir_of(state);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600, 2);
    const LoginResult r = login_with("alice", codes[0], "twofactor_warn0");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_int_equal(r.infos.size(), 1);
    assert_text(r.infos[0], "Backup code accepted; 1 of 2 backup codes remains.");
}

void use_is_recorded_with_service_rhost_tty_and_time(void** state)
{
    StateDir& dir = dir_of(state);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    set_time(kT0 + 42);
    LoginRequest request;
    request.user = "alice";
    request.rhost = "198.51.100.7";
    request.tty = "pts/4";
    request.replies = {Reply::of(codes[2])};
    assert_pam(login(request).rc, PAM_SUCCESS);

    const twofactor::UserState st = dir.load("alice");
    int used = 0;
    for (const twofactor::CodeSlot& slot : st.codes->slots) {
        if (!slot.used)
            continue;
        ++used;
        assert_int_equal(slot.used->at, kT0 + 42);
        assert_text(slot.used->service, "twofactor");
        assert_text(slot.used->rhost, "198.51.100.7");
        assert_text(slot.used->tty, "pts/4");
    }
    assert_int_equal(used, 1);
    assert_true(st.last_login.has_value());
    assert_true(st.last_login->method == twofactor::Method::backup_code);
}

void silent_flag_suppresses_messages(void** state)
{
    StateDir& dir = dir_of(state);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600, 3);
    LoginRequest request;
    request.replies = {Reply::of(codes[0])};
    request.flags = PAM_SILENT;
    const LoginResult r = login(request);
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.infos.empty());
    assert_int_equal(r.prompts.size(), 1); // the prompt itself still goes out
}

void no_backup_codes_refuses_them_without_spending(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    assert_pam(login_with("alice", codes[0], "twofactor_no_backup").rc, PAM_AUTH_ERR);
    assert_int_equal(dir.load("alice").codes->remaining(), 10);
    assert_pam(login_with("alice", totp_code(kT0), "twofactor_no_backup").rc, PAM_SUCCESS);
}

void a_new_set_invalidates_the_old_one(void** state)
{
    StateDir& dir = dir_of(state);
    const std::vector<std::string> old_codes = dir.issue_codes("alice", kT0 - 7200);
    const std::vector<std::string> new_codes = dir.issue_codes("alice", kT0 - 3600);
    assert_pam(login_with("alice", old_codes[0]).rc, PAM_AUTH_ERR);
    const LoginResult r = login_with("alice", new_codes[0]);
    assert_pam(r.rc, PAM_SUCCESS);
    assert_text(r.infos.at(0), remain_text(9));
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(first_code_says_nine_of_ten_remain, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_used_code_is_refused, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(lower_case_is_accepted, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(warns_at_three_and_says_when_none_remain, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(warn_remaining_zero_never_warns, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(use_is_recorded_with_service_rhost_tty_and_time, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(silent_flag_suppresses_messages, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(no_backup_codes_refuses_them_without_spending, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_new_set_invalidates_the_old_one, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
