// A misbehaving conversation (pam_twofactor(8), RETURN VALUES): a failing
// conversation function, no reply, a NULL string, an empty answer, a 4 KiB
// answer and embedded NULs all end cleanly (PAM_CONV_ERR or PAM_AUTH_ERR),
// never in a crash or a success. Run under ASan this also checks every reply
// is freed exactly once.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

LoginResult answer(Reply reply)
{
    LoginRequest request;
    request.replies = {std::move(reply)};
    return login(request);
}

// No answer means nothing to check: not counted as a failed code.
void assert_conversation_error(void** state, Reply::Kind kind, const char* reason)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const LoginResult r = answer(Reply::with(kind));
    assert_pam(r.rc, PAM_CONV_ERR);
    assert_int_equal(r.prompts.size(), 1);
    if (r.log_text().find(reason) == std::string::npos)
        fail_msg("expected '%s' in log:\n%s", reason, r.log_text().c_str());
    assert_int_equal(dir.load("alice").failures, 0);
}

void conversation_fails(void** state)
{
    assert_conversation_error(state, Reply::Kind::conv_error, "reason=conversation_failed");
}

void no_reply_array(void** state) { assert_conversation_error(state, Reply::Kind::null_array, "reason=no_answer"); }

void null_reply_string(void** state) { assert_conversation_error(state, Reply::Kind::null_string, "reason=no_answer"); }

// A real answer that is not a valid code: denied and counted.
void assert_wrong_code(void** state, const std::string& typed)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    dir.issue_codes("alice", kT0 - 3600);
    const LoginResult r = answer(Reply::of(typed));
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_true(r.infos.empty());
    assert_in_range(r.fail_delay_us, 1500000, 2500000);
    const twofactor::UserState st = dir.load("alice");
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.codes->remaining(), 10);
    assert_false(st.find("default")->last_step.has_value());
}

void empty_answer(void** state) { assert_wrong_code(state, ""); }

void blank_answer(void** state) { assert_wrong_code(state, " \t "); }

void four_kib_answer(void** state)
{
    // Starts with the valid code: a long answer is refused whole.
    assert_wrong_code(state, totp_code(kT0) + std::string(4096 - 6, '7'));
}

void four_kib_of_spaces_around_a_valid_code(void** state)
{
    assert_wrong_code(state, std::string(2048, ' ') + totp_code(kT0) + std::string(2042, ' '));
}

void embedded_nul_inside_the_code(void** state)
{
    const std::string code = totp_code(kT0);
    assert_wrong_code(state, code.substr(0, 3) + std::string(1, '\0') + code.substr(3));
}

void embedded_nul_first(void** state) { assert_wrong_code(state, std::string(1, '\0') + totp_code(kT0)); }

void bytes_after_a_nul_are_not_part_of_the_answer(void** state)
{
    // The reply is a C string (pam_conv(3)): what follows a NUL was never
    // part of it. A valid code followed by NUL and junk is that valid code.
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = answer(Reply::of(totp_code(kT0) + std::string(1, '\0') + "junk"));
    assert_pam(r.rc, PAM_SUCCESS);
}

void control_and_non_ascii_bytes(void** state) { assert_wrong_code(state, "12\x1b[2J34\xff\xfe"); }

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(conversation_fails, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(no_reply_array, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(null_reply_string, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(empty_answer, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(blank_answer, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(four_kib_answer, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(four_kib_of_spaces_around_a_valid_code, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(embedded_nul_inside_the_code, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(embedded_nul_first, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(bytes_after_a_nul_are_not_part_of_the_answer, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(control_and_non_ascii_bytes, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
