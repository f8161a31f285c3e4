// In-process timing of the core's two verifications: one TOTP check and one
// backup-code check at a given scrypt cost (default: the shipped default),
// and what the clock-skew search (common/clock_skew.hpp) adds to a wrong
// TOTP code.
// Usage: core_timing [ITERATIONS] [LOG2_N]
#include "backup_codes.hpp"
#include "clock_skew.hpp"
#include "crypto.hpp"
#include "totp.hpp"
#include "verifier.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <vector>

using namespace twofactor;
using Stopwatch = std::chrono::steady_clock;

namespace {

struct Stats {
    double median_us;
    double p99_us;
    double mean_us; // what many calls cost in all, per call
};

Stats measure(int iterations, const std::function<void()>& f)
{
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(iterations));
    for (int i = 0; i < iterations; ++i) {
        const auto t0 = Stopwatch::now();
        f();
        samples.push_back(std::chrono::duration<double, std::micro>(Stopwatch::now() - t0).count());
    }
    std::sort(samples.begin(), samples.end());
    const auto at
        = [&](double q) { return samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))]; };
    const double sum = std::accumulate(samples.begin(), samples.end(), 0.0);
    return {at(0.5), at(0.99), sum / static_cast<double>(samples.size())};
}

} // namespace

int main(int argc, char** argv)
{
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
    const unsigned log2_n = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 14;
    if (iterations < 1 || log2_n < 10 || log2_n > 20) {
        std::fprintf(stderr, "usage: core_timing [ITERATIONS >= 1] [LOG2_N 10..20]\n");
        return 2;
    }

    const SecureBytes secret = random_bytes(20);
    UserState st;
    st.user = "bench";
    st.authenticators = {TotpState{secret, TotpParams{}, 0, std::nullopt}};
    const std::int64_t now = 1800000000;
    const SecureChars wrong_totp = to_secure("000000");
    VerifyPolicy policy;
    policy.max_failures = 1000000;

    // A wrong TOTP code searches the whole window: the worst case.
    const Stats totp = measure(iterations * 50, [&] {
        UserState copy = st;
        (void)decide(copy, view(wrong_totp), std::nullopt, now, policy, {});
    });

    const IssuedCodes issued = generate_backup_codes(10, 8, ScryptParams{log2_n, 8, 1}, now);
    st.codes = issued.set;
    const SecureChars wrong_code = to_secure("ZZZZZZZZ");
    const auto kdf_before = scrypt_evaluations();
    const Stats backup = measure(iterations, [&] {
        UserState copy = st;
        const auto normalized = normalize_backup_code(view(wrong_code), 8);
        const DerivedCode derived = derive_backup_code(*copy.codes, *normalized);
        (void)decide(copy, view(wrong_code), derived, now, policy, {});
    });
    const double kdf_per_attempt
        = static_cast<double>(scrypt_evaluations() - kdf_before) / static_cast<double>(iterations);

    // A wrong code's window check alone, then with the clock-skew search
    // that follows it (up to 41 more HMACs at period 30).
    const Stats window_only = measure(
        iterations * 50, [&] { (void)totp_verify(secret, TotpParams{}, now, policy.window, view(wrong_totp)); });
    const Stats with_skew = measure(iterations * 50, [&] {
        (void)totp_verify(secret, TotpParams{}, now, policy.window, view(wrong_totp));
        (void)find_clock_skew(secret, TotpParams{}, now, policy.window, view(wrong_totp));
    });

    std::printf("TOTP verification (wrong code, window 1): median %.1f us, p99 %.1f us (%d runs)\n", totp.median_us,
                totp.p99_us, iterations * 50);
    std::printf("Backup-code verification (scrypt N=2^%u r=8 p=1, 10 codes): median %.2f ms, p99 %.2f ms (%d runs), "
                "%.2f KDF evaluations per attempt, mean %.2f ms\n",
                log2_n, backup.median_us / 1000.0, backup.p99_us / 1000.0, iterations, kdf_per_attempt,
                backup.mean_us / 1000.0);
    std::printf("Wrong TOTP code, window 1: check alone median %.1f us, with the clock-skew search (+/-%lld s, at most "
                "%u more HMACs) median %.1f us, p99 %.1f us: x%.1f (%d runs)\n",
                window_only.median_us, static_cast<long long>(kSkewSearchSeconds), 2 * kSkewMaxSteps + 1,
                with_skew.median_us, with_skew.p99_us, with_skew.median_us / window_only.median_us, iterations * 50);
    return 0;
}
