// The module's log lines cannot be forged through what they report. sshd
// hands PAM any name a client sends, remote hosts and ttys come from the
// application, error texts quote names and paths: every line must keep the
// grammar pam_twofactor(8) documents (an event word, then key=value fields
// with no space or '=' inside a value), so that a parser looking for
// "accepted user=" is never fooled. Under alias_nss.c: "nss-broken..." makes
// the user lookup fail, every spelling of alice is the account alice.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

#include <set>

using namespace pamtest;

namespace {

constexpr const char* kForged = "x' accepted user=root method=totp";

// Every line parses; none is an acceptance; none says user=root; and the
// fields named in `expect` decode to the values given.
void assert_well_formed(const LoginResult& r, const std::vector<std::pair<std::string, std::string>>& expect = {})
{
    if (r.log.empty())
        fail_msg("nothing was logged");
    std::set<std::string> seen;
    for (const LogLine& line : r.log) {
        const std::optional<ParsedLogLine> parsed = parse_log_line(line.text);
        if (!parsed)
            fail_msg("log line breaks the documented format: %s", line.text.c_str());
        if (parsed->event == "accepted" || parsed->value("user") == std::optional<std::string>("root"))
            fail_msg("forged field in: %s", line.text.c_str());
        for (const auto& [key, value] : expect)
            if (parsed->value(key) == value)
                seen.insert(key);
    }
    for (const auto& [key, value] : expect)
        if (seen.count(key) == 0)
            fail_msg("no line has %s='%s'; log was:\n%s", key.c_str(), value.c_str(), r.log_text().c_str());
}

void a_user_name_with_spaces_and_equals(void** /*state*/)
{
    const LoginResult r = login_with(kForged, "123456");
    assert_pam(r.rc, PAM_USER_UNKNOWN);
    assert_well_formed(r, {{"user", kForged}, {"reason", "invalid_user_name"}});
    // The error text quotes the name too: one encoded value.
    assert_true(r.decoded_log_text().find(std::string("invalid user name '") + kForged + "'") != std::string::npos);
}

void a_failed_lookup_of_such_a_name(void** /*state*/)
{
    const std::string name = std::string("nss-broken ") + kForged;
    LoginResult r;
    const int rc = call_module_directly(name, {"config=" + env_or_die("TWOFACTOR_TEST_CONF"), "nullok"}, {}, &r);
    assert_pam(rc, PAM_AUTHINFO_UNAVAIL);
    assert_well_formed(r, {{"user", name}, {"reason", "user_lookup_failed"}, {"detail", "Input/output error"}});
}

void control_bytes_percent_and_a_lone_dash(void** /*state*/)
{
    for (const std::string& name : {std::string("a\nb\tc"), std::string("50%\x7f\xc3\xa9"), std::string("-")}) {
        const LoginResult r = login_with(name, "123456");
        assert_pam(r.rc, PAM_USER_UNKNOWN);
        assert_well_formed(r, {{"user", name}});
    }
}

void remote_host_and_tty_from_the_application(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    LoginRequest request;
    request.user = "alice";
    request.rhost = kForged;
    request.tty = "pts/0 method=backup_code";
    request.replies = {Reply::of("000000")};
    const LoginResult r = login(request);
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_well_formed(r, {{"rhost", kForged}, {"tty", "pts/0 method=backup_code"}, {"reason", "wrong_code"}});
}

void another_spelling_of_an_account(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = login_with("ALICE", "000000");
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_well_formed(r, {{"user", "ALICE"}, {"account", "alice"}});
}

void debug_lines(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    const LoginResult r = login_with("alice", std::string(2000, 'A'), "twofactor_debug");
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_well_formed(r, {{"state_dir", dir_of(state).state_dir()}, {"reason", "answer_too_long"}});
}

void error_texts_of_the_store_and_the_configuration(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    chmod(dir.path("alice").c_str(), 0644);
    const LoginResult unsafe = login_with("alice", "000000");
    assert_pam(unsafe.rc, PAM_AUTHINFO_UNAVAIL);
    assert_well_formed(unsafe, {{"reason", "state_unavailable"}});
    assert_true(unsafe.decoded_log_text().find("readable or writable by group") != std::string::npos);

    const LoginResult config = login_with("alice", "000000", "twofactor_spaced_option");
    assert_pam(config.rc, PAM_SERVICE_ERR);
    assert_well_formed(config, {{"reason", "bad_configuration"}});
    assert_true(config.decoded_log_text().find("bogus x accepted user") != std::string::npos);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_user_name_with_spaces_and_equals, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_failed_lookup_of_such_a_name, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(control_bytes_percent_and_a_lone_dash, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(remote_host_and_tty_from_the_application, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(another_spelling_of_an_account, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(debug_lines, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(error_texts_of_the_store_and_the_configuration, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
