// doctor's reading of PAM stacks (admin_tool/doctor/pam_stack): libpam's
// syntax (@include, include, substack, [value=action] controls, "-auth",
// comments, continuations) and its walk through a stack, on stacks that
// let a login past the module, stacks that fail every login, and the
// Debian stacks that are right.
#include "pam_stack.hpp"

#include <map>

#include "cmocka_cxx.hpp"

using namespace twofactor::doctor;

namespace {

const std::string kDebianCommonAuth = "# common-auth as Debian ships it\n"
                                      "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
                                      "auth\trequisite\t\t\tpam_deny.so\n"
                                      "auth\trequired\t\t\tpam_permit.so\n"
                                      "auth\toptional\t\t\tpam_cap.so\n";

struct Files {
    std::map<std::string, std::string> files;

    PamFileReader reader() const
    {
        return [this](const std::string& name) -> std::optional<std::string> {
            const auto it = files.find(name);
            if (it == files.end())
                return std::nullopt;
            return it->second;
        };
    }
};

// The findings for service "svc" whose file is `text` (plus `extra` files).
StackReport analyse(const std::string& text, std::map<std::string, std::string> extra = {}, bool missing = false,
                    bool expect = true)
{
    Files f;
    f.files = std::move(extra);
    f.files["svc"] = text;
    if (!f.files.count("common-auth"))
        f.files["common-auth"] = kDebianCommonAuth;
    const std::optional<PamStack> stack = load_auth_stack("svc", f.reader());
    assert_true(stack.has_value());
    StackContext context{"/lib/security", false, expect, [missing](const std::string& path) {
                             return !(missing && path.find("pam_twofactor") != std::string::npos);
                         }};
    return analyse_auth_stack("svc", *stack, context);
}

std::size_t count(const StackReport& r, Level level)
{
    std::size_t n = 0;
    for (const Finding& f : r.findings)
        n += f.level == level ? 1 : 0;
    return n;
}

// Exactly one finding of `level` and it says `words`.
void assert_one(const StackReport& r, Level level, const std::string& words)
{
    for (const Finding& f : r.findings)
        std::cerr << "# " << to_string(f.level) << " " << f.seen << "\n";
    assert_int_equal(count(r, level), 1);
    for (const Finding& f : r.findings)
        if (f.level == level) {
            assert_true(f.seen.find(words) != std::string::npos);
            assert_text(f.check, "pam/svc");
        }
}

void debian_stack_is_ok(void** /*state*/)
{
    const StackReport r = analyse("@include common-auth\nauth required pam_twofactor.so\n@include common-account\n",
                                  {{"common-account", "account required pam_unix.so\n"}});
    assert_one(r, Level::ok, "svc:2: pam_twofactor.so, control required, after pam_unix.so, without nullok");
    assert_int_equal(r.findings.size(), 1);
    assert_true(r.has_module);
    assert_true(r.has_password_module);
}

void explicit_requisite_is_ok(void** /*state*/)
{
    const StackReport r = analyse("auth requisite pam_unix.so\nauth requisite /lib/security/pam_twofactor.so\n");
    assert_one(r, Level::ok, "control requisite");
    assert_int_equal(r.findings.size(), 1);
}

void missing_module_line(void** /*state*/)
{
    assert_one(analyse("@include common-auth\n"), Level::fail, "not in the auth stack");
    const StackReport r = analyse("@include common-auth\n", {}, false, false);
    assert_one(r, Level::warn, "not in the auth stack");
    assert_false(r.has_module);
}

void sufficient_before_bypasses(void** /*state*/)
{
    assert_one(analyse("auth sufficient pam_unix.so\nauth required pam_twofactor.so\n"), Level::fail,
               "svc:1: \"auth sufficient pam_unix.so\" can end the stack with success");
}

void success_done_before_bypasses(void** /*state*/)
{
    assert_one(analyse("auth [success=done default=die] pam_unix.so\nauth required pam_twofactor.so\n"), Level::fail,
               "svc:1:");
}

void jump_over_module_bypasses(void** /*state*/)
{
    assert_one(analyse("auth [success=2 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n"
                       "auth required pam_twofactor.so\nauth required pam_permit.so\n"),
               Level::fail, "svc:1:");
}

void sufficient_in_included_file_bypasses(void** /*state*/)
{
    assert_one(
        analyse("auth include sys\nauth required pam_twofactor.so\n", {{"sys", "auth sufficient pam_unix.so\n"}}),
        Level::fail, "sys:1:");
}

// A substack's done ends only the substack.
void sufficient_in_substack_does_not(void** /*state*/)
{
    const StackReport r = analyse("auth substack sys\nauth required pam_twofactor.so\n",
                                  {{"sys", "auth sufficient pam_unix.so\nauth requisite pam_deny.so\n"}});
    assert_int_equal(count(r, Level::fail), 0);
    assert_one(r, Level::ok, "after pam_unix.so");
}

void optional_module_lets_wrong_code_in(void** /*state*/)
{
    assert_one(analyse("@include common-auth\nauth optional pam_twofactor.so\n"), Level::fail,
               "control \"optional\" a wrong code does not stop the login");
    assert_one(analyse("auth required pam_unix.so\nauth sufficient pam_twofactor.so\n"), Level::fail,
               "a wrong code does not stop the login");
    assert_one(analyse("@include common-auth\nauth [success=ok default=ignore] pam_twofactor.so\n"), Level::fail,
               "a wrong code does not stop the login");
}

void module_file_missing(void** /*state*/)
{
    assert_one(analyse("@include common-auth\nauth required pam_twofactor.so\n", {}, true), Level::fail,
               "/lib/security/pam_twofactor.so does not exist: every login fails");
    const StackReport r = analyse("@include common-auth\n-auth required pam_twofactor.so\n", {}, true);
    assert_true(count(r, Level::fail) >= 1);
    assert_true(r.findings[0].seen.find("\"-\" makes libpam skip the line") != std::string::npos);
}

void unreachable_module(void** /*state*/)
{
    assert_one(analyse("auth requisite pam_deny.so\nauth required pam_twofactor.so\n"), Level::fail,
               "no path through the auth stack succeeds");
    assert_one(analyse("auth [default=done] pam_permit.so\nauth required pam_twofactor.so\n"), Level::fail,
               "svc:1: \"auth [default=done] pam_permit.so\" can end the stack");
}

void nullok_and_order_warn(void** /*state*/)
{
    assert_one(analyse("@include common-auth\nauth required pam_twofactor.so nullok\n"), Level::warn,
               "nullok: users who are not enrolled log in without a code");
    assert_one(analyse("auth required pam_twofactor.so\n@include common-auth\n"), Level::warn,
               "the code is asked before the password");
    assert_one(analyse("@include common-auth\nauth required pam_twofactor.so\nauth required pam_twofactor.so\n"),
               Level::warn, "2 pam_twofactor.so lines");
}

void syntax(void** /*state*/)
{
    // Continuation, comments, case, a bracketed control with spaces.
    const StackReport r = analyse("# auth sufficient pam_unix.so\n"
                                  "AUTH [success=ok   new_authtok_reqd=ok \\\n"
                                  "      default=die] pam_unix.so  # password\n"
                                  "auth  required \\\n  pam_twofactor.so\n");
    assert_one(r, Level::ok, "svc:4: pam_twofactor.so, control required, after pam_unix.so");
    assert_int_equal(r.findings.size(), 1);

    assert_one(analyse("@include common-auth\nauth [success=ok bogus=1] pam_twofactor.so\n"), Level::fail,
               "svc:2: control \"[success=ok bogus=1]\" is not one libpam knows");
    assert_one(analyse("@include nowhere\nauth required pam_twofactor.so\n"), Level::fail,
               "svc:1: includes nowhere, which does not exist");
    assert_one(analyse("@include svc\nauth required pam_twofactor.so\n"), Level::fail, "nest deeper than");
}

void no_service_file(void** /*state*/)
{
    Files f;
    assert_false(load_auth_stack("sshd", f.reader()).has_value());
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debian_stack_is_ok),
        cmocka_unit_test(explicit_requisite_is_ok),
        cmocka_unit_test(missing_module_line),
        cmocka_unit_test(sufficient_before_bypasses),
        cmocka_unit_test(success_done_before_bypasses),
        cmocka_unit_test(jump_over_module_bypasses),
        cmocka_unit_test(sufficient_in_included_file_bypasses),
        cmocka_unit_test(sufficient_in_substack_does_not),
        cmocka_unit_test(optional_module_lets_wrong_code_in),
        cmocka_unit_test(module_file_missing),
        cmocka_unit_test(unreachable_module),
        cmocka_unit_test(nullok_and_order_warn),
        cmocka_unit_test(syntax),
        cmocka_unit_test(no_service_file),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
