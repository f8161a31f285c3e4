// libpam loads the module at pam_start and unloads it at pam_end, so a
// process that authenticates many times (a screen locker, a display manager,
// an auth daemon; here, this test) maps and unmaps it once per login. Nothing
// may stay behind: after a few hundred logins, accepted and refused, the
// heap in use is what it was (the statically linked C++ runtime used to leave
// its 70 KiB exception pool behind at each unload: pam_module/cxx_runtime.cpp).
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>

#include <malloc.h>

using namespace pamtest;

namespace {

constexpr int kLogins = 200;
// Less than one unit of what a leak per login would add up to.
constexpr std::size_t kAllowedGrowth = 64 * 1024;

std::size_t heap_in_use()
{
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks;
}

// One accepted and one refused login at each step.
void logins(std::int64_t first_step, int count)
{
    for (int i = 0; i < count; ++i) {
        const std::int64_t t = kT0 + (first_step + i) * 30;
        set_time(t);
        assert_pam(login_with("alice", totp_code(t), "twofactor_many_tries").rc, PAM_SUCCESS);
        assert_pam(login_with("alice", totp_code(t), "twofactor_many_tries").rc, PAM_AUTH_ERR); // replay
    }
}

void repeated_logins_leave_the_heap_as_it_was(void** state)
{
    dir_of(state).enroll_totp("alice", kT0 - 3600);
    logins(0, 10); // libpam's, libc's and the harness's own one-time allocations
    const std::size_t before = heap_in_use();
    if (before == 0)
        fail_msg("mallinfo2() reports no heap: cannot measure (sanitizer allocator?)");
    logins(10, kLogins);
    const std::size_t after = heap_in_use();
    if (after > before + kAllowedGrowth)
        fail_msg("heap in use grew by %zu bytes over %d logins", after - before, 2 * kLogins);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(repeated_logins_leave_the_heap_as_it_was, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
