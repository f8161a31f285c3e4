// Through a stock PAM application, pamtester (which installs no delay
// function of its own): libpam really waits about two seconds after a
// failure, because the module called pam_fail_delay, and not after a
// success. libpam jitters the delay by up to a fifth, so a failure takes at
// least 1.6 s; a success well under that. Real clock; this is the one test
// that takes two seconds.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <chrono>

using namespace pamtest;

namespace {

struct Timed {
    int status;
    std::string output;
    double seconds;
};

Timed pamtester(const std::string& user, const std::string& answer)
{
    const auto start = std::chrono::steady_clock::now();
    ChildProcess child({env_or_die("TWOFACTOR_PAMTESTER"), "-I", "rhost=192.0.2.9", "twofactor", user, "authenticate"});
    child.send(answer + "\n");
    const int status = child.finish();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return Timed{status, child.output(), elapsed.count()};
}

void success_is_immediate_failure_waits(void** state)
{
    dir_of(state).enroll_totp("alice", now() - 3600);
    const std::int64_t t = now();

    const Timed ok = pamtester("alice", totp_code(t));
    if (ok.status != 0)
        fail_msg("pamtester: %s", ok.output.c_str());
    assert_true(ok.output.find("successfully authenticated") != std::string::npos);
    if (ok.seconds >= 0.9)
        fail_msg("a success took %.2f s", ok.seconds);

    const Timed bad = pamtester("alice", totp_code(t + 3600));
    assert_int_not_equal(bad.status, 0);
    assert_true(bad.output.find("Authentication failure") != std::string::npos);
    // libpam spreads the requested 2 s by up to half either way (1-3 s).
    if (bad.seconds < 0.95)
        fail_msg("a failure took only %.2f s", bad.seconds);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(success_is_immediate_failure_waits, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
