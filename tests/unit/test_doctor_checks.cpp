// doctor's judgement of sshd -T output, of the clock and of accounts
// (admin_tool/doctor/): each setting that skips or blocks the code gives
// its fail line, the settings conf/sshd_config-example gives none.
#include "host_checks.hpp"
#include "sshd_settings.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor::doctor;

namespace {

const std::string kGood = "port 22\nusepam yes\npubkeyauthentication yes\npasswordauthentication no\n"
                          "kbdinteractiveauthentication yes\nexposeauthinfo no\n"
                          "authenticationmethods publickey,keyboard-interactive\n";

const SshdNeeds kStack{true, true, false};

// The settings of kGood with `key` set to `value` (appended lines lose:
// the first value wins, so the line is replaced).
SshdSettings with(const std::string& key, const std::string& value)
{
    SshdSettings s = parse_sshd_settings(kGood);
    s[key] = value;
    return s;
}

void assert_only(const Findings& findings, Level level, const std::string& words)
{
    for (const Finding& f : findings)
        std::cerr << "# " << to_string(f.level) << " " << f.seen << "\n";
    assert_int_equal(findings.size(), 1);
    assert_int_equal(static_cast<int>(findings[0].level), static_cast<int>(level));
    assert_true(findings[0].seen.find(words) != std::string::npos);
}

void sshd_good(void** /*state*/)
{
    assert_only(analyse_sshd_settings(parse_sshd_settings(kGood), kStack), Level::ok,
                "AuthenticationMethods publickey,keyboard-interactive");
    // Without the module in the stack, only UsePAM matters.
    assert_only(analyse_sshd_settings(with("kbdinteractiveauthentication", "no"), SshdNeeds{}), Level::ok,
                "asks no code");
}

void sshd_use_pam_no(void** /*state*/)
{
    assert_only(analyse_sshd_settings(with("usepam", "no"), kStack), Level::fail, "UsePAM no");
}

void sshd_keyboard_interactive_off(void** /*state*/)
{
    assert_only(analyse_sshd_settings(with("kbdinteractiveauthentication", "no"), kStack), Level::fail,
                "KbdInteractiveAuthentication no");
    // OpenSSH before 8.7 calls it ChallengeResponseAuthentication.
    SshdSettings old = parse_sshd_settings(kGood);
    old.erase("kbdinteractiveauthentication");
    old["challengeresponseauthentication"] = "yes";
    assert_only(analyse_sshd_settings(old, kStack), Level::ok, "UsePAM yes");
}

void sshd_password_method(void** /*state*/)
{
    SshdSettings s = with("passwordauthentication", "yes");
    s["authenticationmethods"] = "any";
    s["pubkeyauthentication"] = "no";
    assert_only(analyse_sshd_settings(s, kStack), Level::fail, "PasswordAuthentication yes");
    // AuthenticationMethods without "password" makes it unusable.
    assert_only(analyse_sshd_settings(with("passwordauthentication", "yes"), kStack), Level::ok, "UsePAM yes");
}

void sshd_methods(void** /*state*/)
{
    assert_only(analyse_sshd_settings(with("authenticationmethods", "any"), kStack), Level::warn,
                "a public key alone logs in");
    assert_only(
        analyse_sshd_settings(with("authenticationmethods", "publickey,keyboard-interactive publickey"), kStack),
        Level::warn, "AuthenticationMethods publickey logs in without keyboard-interactive");
    assert_only(
        analyse_sshd_settings(with("authenticationmethods", "keyboard-interactive:pam"), SshdNeeds{true, false}),
        Level::fail, "the code alone logs in");
    assert_only(analyse_sshd_settings(with("authenticationmethods", "keyboard-interactive"), kStack), Level::ok,
                "UsePAM yes");
}

void sshd_expose_auth_info(void** /*state*/)
{
    assert_only(analyse_sshd_settings(parse_sshd_settings(kGood), SshdNeeds{true, true, true}), Level::fail,
                "ExposeAuthInfo no");
    assert_only(analyse_sshd_settings(with("exposeauthinfo", "yes"), SshdNeeds{true, true, true}), Level::ok, "UsePAM");
}

void clock(void** /*state*/)
{
    assert_int_equal(static_cast<int>(check_clock({true, 2000, 50000}, 1, 30).level), static_cast<int>(Level::ok));
    const Finding unsynced = check_clock({false, 0, 16000000}, 1, 30);
    assert_int_equal(static_cast<int>(unsynced.level), static_cast<int>(Level::warn));
    assert_true(unsynced.seen.find("maximum error 16 s") != std::string::npos);
    const Finding off = check_clock({true, 31000000, 40000000}, 1, 30);
    assert_int_equal(static_cast<int>(off.level), static_cast<int>(Level::fail));
    assert_int_equal(static_cast<int>(check_clock({true, 31000000, 40000000}, 2, 30).level),
                     static_cast<int>(Level::ok));
}

void accounts(void** /*state*/)
{
    const std::vector<std::string> shells{"/bin/sh", "/bin/bash", "/usr/bin/bash"};
    assert_true(has_login_shell("/bin/bash", shells));
    assert_false(has_login_shell("/usr/sbin/nologin", shells));
    assert_false(has_login_shell("/bin/false", {"/bin/false"}));
    assert_false(has_login_shell("/usr/local/bin/fish", shells)); // not in /etc/shells
    assert_false(has_login_shell("", shells));
    assert_true(has_password("$y$j9T$abc"));
    assert_true(has_password("")); // no password at all: logs in
    assert_false(has_password("!$y$j9T$abc"));
    assert_false(has_password("*"));
    assert_false(has_password("!"));

    assert_int_equal(static_cast<int>(check_unenrolled({}, false).level), static_cast<int>(Level::ok));
    const Finding f = check_unenrolled({"root", "bob"}, false);
    assert_int_equal(static_cast<int>(f.level), static_cast<int>(Level::warn));
    assert_true(f.seen.find("2 accounts have a login shell and a password but no second factor: root, bob (without "
                            "nullok they are denied")
                == 0);
    assert_true(check_unenrolled({"bob"}, true).seen.find("nullok: they log in with the password alone")
                != std::string::npos);
}

void secrets(void** /*state*/)
{
    const Finding pg = check_no_secret_key(true, "/k");
    assert_int_equal(static_cast<int>(pg.level), static_cast<int>(Level::warn));
    assert_true(pg.seen.find("enrolling a secret to PostgreSQL is refused") != std::string::npos);
    assert_int_equal(static_cast<int>(check_no_secret_key(false, "/k").level), static_cast<int>(Level::ok));
    const Finding clear = check_sealed("/k", 2, 1);
    assert_int_equal(static_cast<int>(clear.level), static_cast<int>(Level::warn));
    assert_true(clear.seen.find("1 secret(s) stored in clear although /k exists") == 0);
    assert_int_equal(static_cast<int>(check_sealed("/k", 3, 0).level), static_cast<int>(Level::ok));
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sshd_good),
        cmocka_unit_test(sshd_use_pam_no),
        cmocka_unit_test(sshd_keyboard_interactive_off),
        cmocka_unit_test(sshd_password_method),
        cmocka_unit_test(sshd_methods),
        cmocka_unit_test(sshd_expose_auth_info),
        cmocka_unit_test(clock),
        cmocka_unit_test(accounts),
        cmocka_unit_test(secrets),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
