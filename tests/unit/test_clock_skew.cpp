// The search behind reason=clock_skew (common/clock_skew): a refused code
// of a step up to ten minutes away is found, with its offset; one inside
// the window, or further away, is not; the search stays within its bound;
// and the user's message rounds to minutes.
#include "clock_skew.hpp"
#include "crypto.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

constexpr std::int64_t kNow = 1800000015; // 15 s into a 30 s step

std::string code_at(const SecureBytes& secret, const TotpParams& p, std::int64_t t)
{
    return std::string(view(totp_generate(secret, p, t)));
}

void finds_the_offset(void** /*state*/)
{
    const SecureBytes secret = random_bytes(20);
    const TotpParams p;
    for (const std::int64_t offset : {-600, -300, -60, 60, 90, 300, 600}) {
        const auto skew = find_clock_skew(secret, p, kNow, 1, code_at(secret, p, kNow + offset));
        assert_true(skew.has_value());
        assert_int_equal(skew->seconds, offset / 30 * 30);
        assert_int_equal(skew->step, static_cast<std::uint64_t>((kNow + offset) / 30));
    }
}

void not_inside_the_window_nor_beyond_the_search(void** /*state*/)
{
    const SecureBytes secret = random_bytes(20);
    const TotpParams p;
    for (const std::int64_t offset : {-30, 0, 30})
        assert_false(find_clock_skew(secret, p, kNow, 1, code_at(secret, p, kNow + offset)).has_value());
    // window 3: 90 s is inside it.
    assert_false(find_clock_skew(secret, p, kNow, 3, code_at(secret, p, kNow + 90)).has_value());
    assert_true(find_clock_skew(secret, p, kNow, 3, code_at(secret, p, kNow + 120)).has_value());
    for (const std::int64_t offset : {-660, -630, 630, 3600})
        assert_false(find_clock_skew(secret, p, kNow, 1, code_at(secret, p, kNow + offset)).has_value());
    assert_false(find_clock_skew(secret, p, kNow, 1, "12345").has_value()); // not a code
}

// A short period is searched for kSkewMaxSteps steps, not ten minutes.
void bounded_in_steps(void** /*state*/)
{
    const SecureBytes secret = random_bytes(20);
    const TotpParams p{TotpAlgorithm::sha1, 6, 10};
    assert_true(find_clock_skew(secret, p, kNow, 1, code_at(secret, p, kNow - 200)).has_value());
    assert_false(find_clock_skew(secret, p, kNow, 1, code_at(secret, p, kNow - 210)).has_value());
    // A window as wide as the search leaves nothing to search.
    assert_false(
        find_clock_skew(secret, TotpParams{}, kNow, 20, code_at(secret, TotpParams{}, kNow + 300)).has_value());
}

void message(void** /*state*/)
{
    assert_text(clock_skew_message(-300), "The code is from 5 minutes ago: check your device's clock.");
    assert_text(clock_skew_message(60), "The code is 1 minute ahead: check your device's clock.");
    assert_text(clock_skew_message(30), "The code is 1 minute ahead: check your device's clock.");
    assert_text(clock_skew_message(-570), "The code is from 10 minutes ago: check your device's clock.");
    assert_text(clock_skew_message(-90), "The code is from 2 minutes ago: check your device's clock.");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_the_offset),
        cmocka_unit_test(not_inside_the_window_nor_beyond_the_search),
        cmocka_unit_test(bounded_in_steps),
        cmocka_unit_test(message),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
