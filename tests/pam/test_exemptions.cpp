// Exemptions through the real module (docs/exemptions.md): members of
// exempt_groups, accounts outside require_groups and logins from a numeric
// PAM_RHOST in exempt_networks get PAM_SUCCESS without being asked, logged
// as "exempt ... reason=group|require_groups|network"; everyone else is
// asked as before. Under alias_nss.c: alice (enrolled here) is in group
// tf-admins, carol in tf-pilot; groups starting with "nss-broken" cannot be
// looked up.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

using namespace pamtest;

namespace {

void configure(StateDir& dir, const std::string& lines)
{
    write_file(env_or_die("TWOFACTOR_TEST_CONF"), "state_dir = " + dir.state_dir() + "\n" + lines, 0600);
}

LoginResult login_from(const std::string& user, const std::string& rhost, const std::vector<Reply>& replies = {},
                       const std::string& service = "twofactor")
{
    LoginRequest request;
    request.user = user;
    request.rhost = rhost;
    request.replies = replies;
    request.service = service;
    return login(request);
}

// Let in without a prompt, and one "exempt" line with these fields.
void assert_exempt(const LoginResult& r, const std::vector<std::pair<std::string, std::string>>& fields)
{
    assert_pam(r.rc, PAM_SUCCESS);
    assert_true(r.prompts.empty());
    assert_false(r.extra_prompt);
    assert_int_equal(r.fail_delay_us, 0);
    int exempt_lines = 0;
    for (const LogLine& line : r.log) {
        const std::optional<ParsedLogLine> parsed = parse_log_line(line.text);
        if (!parsed)
            fail_msg("log line breaks the documented format: %s", line.text.c_str());
        if (parsed->event != "exempt")
            continue;
        ++exempt_lines;
        for (const auto& [key, value] : fields)
            if (parsed->value(key) != value)
                fail_msg("%s is not '%s' in: %s", key.c_str(), value.c_str(), line.text.c_str());
    }
    if (exempt_lines != 1)
        fail_msg("expected one exempt line; log was:\n%s", r.log_text().c_str());
}

// Asked for the code, as without exemptions; a right code is accepted.
void assert_asked(const std::string& user, const std::string& rhost, std::int64_t t = kT0)
{
    const LoginResult r = login_from(user, rhost, {Reply::of(totp_code(t))});
    assert_int_equal(r.prompts.size(), 1);
    if (r.log_text().find("exempt ") != std::string::npos)
        fail_msg("logged as exempt:\n%s", r.log_text().c_str());
}

void member_of_an_exempt_group(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    dir.enroll_totp("carol", kT0 - 3600);
    configure(dir, "exempt_groups = other-group-tf, tf-admins\n");
    assert_exempt(login_from("alice", "203.0.113.5"),
                  {{"user", "alice"},
                   {"service", "twofactor"},
                   {"rhost", "203.0.113.5"},
                   {"tty", "ssh"},
                   {"method", ""},
                   {"reason", "group"},
                   {"group", "tf-admins"}});
    // Any spelling of the account is the account.
    assert_exempt(login_from("ALICE", ""), {{"user", "alice"}, {"reason", "group"}});
    // Not in the group: asked, and the state shows the accepted code.
    assert_asked("carol", "203.0.113.5");
    assert_int_equal(dir.load("carol").last_login.has_value(), 1);
    // The exempt login wrote nothing.
    assert_false(dir.load("alice").last_login.has_value());
}

void exempt_before_enrolment_lockout_and_state(void** state)
{
    StateDir& dir = dir_of(state);
    configure(dir, "exempt_groups = tf-admins\n");
    // Not enrolled, no nullok: exempt all the same.
    assert_exempt(login_from("alice", "203.0.113.5"), {{"reason", "group"}});
    assert_false(snapshot(dir.path("alice")).exists);
    // An unsafe state file is not read for an exempt login.
    dir.enroll_totp("alice", kT0 - 3600);
    ::chmod(dir.path("alice").c_str(), 0644);
    assert_exempt(login_from("alice", "203.0.113.5"), {{"reason", "group"}});
    // ...but is still refused for one that is asked.
    configure(dir, "");
    assert_pam(login_from("alice", "203.0.113.5", {Reply::of(totp_code(kT0))}).rc, PAM_AUTHINFO_UNAVAIL);
}

void outside_require_groups(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    dir.enroll_totp("carol", kT0 - 3600);
    configure(dir, "require_groups = tf-pilot\n");
    assert_exempt(login_from("alice", "203.0.113.5"), {{"user", "alice"}, {"reason", "require_groups"}});
    assert_asked("carol", "203.0.113.5");
    // A name that is no account is never exempt (and never gets in).
    const LoginResult r = login_from("no-such-user-tf", "203.0.113.5", {Reply::of(totp_code(kT0))});
    assert_pam(r.rc, PAM_AUTH_ERR);
    assert_int_equal(r.prompts.size(), 1);
}

// A require_groups group that does not exist, or cannot be looked up,
// lets nobody off: everyone is asked, and the log says why at every login.
void require_groups_that_cannot_be_looked_up(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    configure(dir, "require_groups = tf-pilot, tf-pilto\n");
    const LoginResult r = login_from("alice", "203.0.113.5", {Reply::of(totp_code(kT0))});
    assert_pam(r.rc, PAM_SUCCESS);
    assert_int_equal(r.prompts.size(), 1);
    assert_non_null(
        std::strstr(r.log_text().c_str(), "note user=alice reason=unknown_group key=require_groups group=tf-pilto"));

    configure(dir, "require_groups = tf-pilot, nss-broken-group\n");
    const LoginResult broken = login_from("alice", "203.0.113.5", {Reply::of(totp_code(kT0 + 30))});
    assert_pam(broken.rc, PAM_SUCCESS);
    assert_int_equal(broken.prompts.size(), 1);
    assert_non_null(std::strstr(broken.log_text().c_str(),
                                "note user=alice reason=group_lookup_failed key=require_groups "
                                "group=nss-broken-group detail=Input/output%20error"));

    configure(dir, "exempt_groups = nss-broken-admins\n");
    set_time(kT0 + 60);
    const LoginResult exempt_broken = login_from("alice", "203.0.113.5", {Reply::of(totp_code(kT0 + 60))});
    assert_pam(exempt_broken.rc, PAM_SUCCESS);
    assert_int_equal(exempt_broken.prompts.size(), 1);
    assert_non_null(std::strstr(exempt_broken.log_text().c_str(), "reason=group_lookup_failed key=exempt_groups"));
}

void from_an_exempt_network(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    dir.enroll_totp("carol", kT0 - 3600);
    configure(dir, "exempt_networks = 10.0.0.0/8, 203.0.113.0/24, 2001:db8::/32\n");
    assert_exempt(login_from("carol", "203.0.113.5"),
                  {{"user", "carol"}, {"rhost", "203.0.113.5"}, {"reason", "network"}, {"network", "203.0.113.0/24"}});
    assert_exempt(login_from("carol", "2001:db8::7"), {{"reason", "network"}, {"network", "2001:db8::/32"}});
    assert_exempt(login_from("carol", "::ffff:10.1.2.3"), {{"reason", "network"}, {"network", "10.0.0.0/8"}});
    // Outside, a host name, a scope id, no PAM_RHOST: asked.
    std::int64_t t = kT0;
    for (const char* rhost : {"198.51.100.7", "10.example.org", "203.0.113.5.example", "2001:db8::7%eth0", ""}) {
        assert_asked("carol", rhost, t);
        t += 30;
        set_time(t);
    }
}

// The module arguments win over the file, for exemptions too: a service
// can turn them off.
void arguments_clear_the_exemptions(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    configure(dir, "exempt_groups = tf-admins\nexempt_networks = 203.0.113.0/24\n");
    const LoginResult r = login_from("alice", "203.0.113.5", {Reply::of(totp_code(kT0))}, "twofactor_no_exemptions");
    assert_pam(r.rc, PAM_SUCCESS);
    assert_int_equal(r.prompts.size(), 1);
}

void assert_config_error(const LoginResult& r, const std::string& reason)
{
    assert_pam(r.rc, PAM_SERVICE_ERR);
    assert_true(r.prompts.empty());
    if (r.decoded_log_text().find(reason) == std::string::npos
        || r.log_text().find("error user=- reason=bad_configuration") == std::string::npos)
        fail_msg("expected a configuration error with '%s'; log was:\n%s", reason.c_str(), r.log_text().c_str());
}

// Bad values fail closed, exempt users included: nobody gets in.
void bad_values_fail_closed(void** state)
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::string conf = env_or_die("TWOFACTOR_TEST_CONF");
    const std::pair<std::string, std::string> cases[] = {
        {"exempt_networks = 203.0.113.1/24", ":3: exempt_networks: '203.0.113.1/24' has host bits set"},
        {"exempt_networks = 203.0.113.0/33", ":3: exempt_networks: '203.0.113.0/33': the prefix length"},
        {"exempt_networks = gateway.example/32", ":3: exempt_networks: 'gateway.example' is not a numeric"},
        {"exempt_networks = 203.0.113.0", ":3: exempt_networks: expected ADDRESS/PREFIX"},
        {"exempt_networks = 10.0.0.0/8,", ":3: exempt_networks: empty item in the list"},
        {"exempt_groups = tf-admins,,wheel", ":3: exempt_groups: empty item in the list"},
        {"require_groups", ":3: require_groups: needs a value"},
    };
    for (const auto& [line, reason] : cases) {
        configure(dir, "exempt_groups = tf-admins\n" + line + "\n");
        assert_config_error(login_from("alice", "203.0.113.5", {Reply::of(totp_code(kT0))}), conf + reason);
    }
    configure(dir, "");
    assert_config_error(login_from("alice", "203.0.113.5", {}, "twofactor_bad_network"),
                        "argument: exempt_networks: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)");
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(member_of_an_exempt_group, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(exempt_before_enrolment_lockout_and_state, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(outside_require_groups, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(require_groups_that_cannot_be_looked_up, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(from_an_exempt_network, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(arguments_clear_the_exemptions, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(bad_values_fail_closed, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
