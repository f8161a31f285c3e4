// Timing of backup-code checks (docs/reliability.md, section 6). The work an
// attempt costs must not depend on whether the code is right: counted exactly
// with scrypt_evaluations() through Verifier::verify on a real store, one KDF
// for a right code, a wrong one, a used one, whatever the number of codes
// left. The comparisons themselves are CRYPTO_memcmp over every slot (checked
// in the sources by check_constant_time.cmake). A short statistical note: the
// time of derive + decide for right and wrong codes, sampled interleaved;
// printed, not asserted (a loaded machine must not fail the test).
// Attempts that are not shaped like a backup code (length, alphabet), and
// users with no unused code, cost no KDF: that reveals only what the user
// typed or, for the last, what the login message says anyway. With the
// module's policy (the decoy KDF, unenrolled accounts counted) every user
// pays the same: one KDF for a code-shaped answer, none when locked out.
#include "errors.hpp"
#include "file_state_store.hpp"
#include "reliability_support.hpp"
#include "verifier.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

using namespace twofactor;
using namespace reliability;
using Steady = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kNow = 1800000000;

struct Cost {
    std::uint64_t kdfs;
    std::string verdict;
};

Cost cost_of(Verifier& v, const std::string& user, const std::string& typed)
{
    const std::uint64_t before = scrypt_evaluations();
    std::string verdict;
    try {
        verdict = to_string(v.verify(user, typed, {"sshd", "-", "-"}).verdict);
    } catch (const std::exception& e) {
        verdict = e.what();
    }
    return {scrypt_evaluations() - before, verdict};
}

struct Percentiles {
    double p10, p50, p90;
};

Percentiles percentiles(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) { return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
    return {at(0.1), at(0.5), at(0.9)};
}

// derive + decide for one typed code on a copy of the state: the part of a
// login whose time could depend on the code.
double time_attempt(const UserState& state, const std::string& typed)
{
    UserState copy = state;
    VerifyPolicy policy;
    policy.max_failures = 1000000;
    const auto t0 = Steady::now();
    std::optional<DerivedCode> derived;
    if (const auto normalized = normalize_backup_code(typed, copy.codes->length))
        derived = derive_backup_code(*copy.codes, *normalized);
    (void)decide(copy, typed, derived, kNow, policy, {});
    return std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
}

} // namespace

int main()
{
    TempDir dir;
    FileStateStore store(dir.path());
    FixedClock clock(kNow);
    VerifyPolicy policy;
    policy.max_failures = 1000;
    Verifier v(store, policy, clock);
    const Enrolment e = make_enrolment(10, kNow);
    write_state(store, e.state("alice", kNow));
    UserState totp_only = e.state("tina", kNow);
    totp_only.codes.reset();
    write_state(store, totp_only);

    std::string lower = e.code(2);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    struct Case {
        const char* what;
        std::string user;
        std::string typed;
        std::uint64_t kdfs;
        const char* verdict;
    };
    // In order: each row sees the state the rows above left.
    const Case cases[] = {
        {"right code, 10 left", "alice", e.code(0), 1, "accepted"},
        {"wrong code, 9 left", "alice", "ZZZZ9999", 1, "wrong code"},
        {"used code", "alice", e.code(0), 1, "wrong code"},
        {"right code, lower case + spaces", "alice", "  " + lower + "\t", 1, "accepted"},
        {"wrong code differing in 1 char", "alice", e.code(3).substr(0, 7) + (e.code(3)[7] == 'A' ? "B" : "A"), 1,
         "wrong code"},
        {"TOTP-shaped (6 digits)", "alice", "123456", 0, "wrong code"},
        {"wrong length (7)", "alice", "ABCDEFG", 0, "wrong code"},
        {"not the alphabet", "alice", "ABCD-EFG", 0, "wrong code"},
        {"code-shaped, user without codes", "tina", "ZZZZ9999", 0, "wrong code"},
        {"code-shaped, user not enrolled", "nobody", "ZZZZ9999", 0, "not enrolled"},
    };
    for (const Case& c : cases) {
        const Cost got = cost_of(v, c.user, c.typed);
        CHECK(got.kdfs == c.kdfs && got.verdict == c.verdict, "%s: %llu KDF evaluations, %s; expected %llu, %s", c.what,
              static_cast<unsigned long long>(got.kdfs), got.verdict.c_str(), static_cast<unsigned long long>(c.kdfs),
              c.verdict);
        std::printf("  %-34s %llu KDF  %s\n", c.what, static_cast<unsigned long long>(got.kdfs), got.verdict.c_str());
    }
    // Down to the last code: still one KDF per attempt, right or wrong.
    for (std::size_t k = 4; k < 10; ++k) {
        const Cost wrong = cost_of(v, "alice", "QQQQ0000");
        const Cost right = cost_of(v, "alice", e.code(k));
        CHECK(wrong.kdfs == 1 && right.kdfs == 1 && right.verdict == "accepted",
              "code %zu: wrong %llu KDF, right %llu KDF (%s)", k, static_cast<unsigned long long>(wrong.kdfs),
              static_cast<unsigned long long>(right.kdfs), right.verdict.c_str());
    }
    // The last two codes; then a set with nothing left is not derived at all
    // (the user can see that from the login message anyway).
    for (std::size_t k : {std::size_t{1}, std::size_t{3}}) {
        const Cost right = cost_of(v, "alice", e.code(k));
        CHECK(right.kdfs == 1 && right.verdict == "accepted", "code %zu: %llu KDF (%s)", k,
              static_cast<unsigned long long>(right.kdfs), right.verdict.c_str());
    }
    const Cost none_left = cost_of(v, "alice", "QQQQ0000");
    CHECK(none_left.kdfs == 0 && none_left.verdict == "wrong code", "no code left: %llu KDF, %s",
          static_cast<unsigned long long>(none_left.kdfs), none_left.verdict.c_str());
    std::printf("  %-34s %llu KDF  %s\n", "code-shaped, no code left", static_cast<unsigned long long>(none_left.kdfs),
                none_left.verdict.c_str());

    // As the module verifies (the decoy on, an account's failures counted
    // whether it is enrolled or not): a wrong answer costs the same for an
    // enrolled account, a TOTP-only one and one with no second factor (no
    // state, or a state holding only a failure count), and so does being
    // locked out.
    {
        VerifyPolicy as_module = policy;
        as_module.decoy_kdf = kFastScrypt;
        as_module.count_unenrolled = true;
        as_module.max_failures = 3;
        Verifier m(store, as_module, clock);
        write_state(store, e.state("ann", kNow));
        UserState tom = e.state("tom", kNow);
        tom.codes.reset();
        write_state(store, tom);
        for (const char* user : {"ann", "tom", "una"}) {
            const Cost code_shaped = cost_of(m, user, "ZZZZ9999");
            const Cost totp_shaped = cost_of(m, user, "123456");
            const Cost starts_lockout = cost_of(m, user, "ZZZZ9999");
            const Cost locked = cost_of(m, user, "ZZZZ9999");
            const char* verdict = std::string(user) == "una" ? "not enrolled" : "wrong code";
            CHECK(code_shaped.kdfs == 1 && totp_shaped.kdfs == 0 && starts_lockout.kdfs == 1 && locked.kdfs == 0
                      && code_shaped.verdict == verdict && locked.verdict == "locked out",
                  "%s as the module verifies: %llu/%llu/%llu/%llu KDF (%s, %s); expected 1/0/1/0", user,
                  static_cast<unsigned long long>(code_shaped.kdfs), static_cast<unsigned long long>(totp_shaped.kdfs),
                  static_cast<unsigned long long>(starts_lockout.kdfs), static_cast<unsigned long long>(locked.kdfs),
                  code_shaped.verdict.c_str(), locked.verdict.c_str());
            std::printf("  %-34s %llu KDF  %s\n", (std::string("code-shaped, module, ") + user).c_str(),
                        static_cast<unsigned long long>(code_shaped.kdfs), code_shaped.verdict.c_str());
        }
    }

    // Statistical note: interleaved samples of right and wrong codes, with
    // 10 codes left and with 1 left (the scan covers every slot anyway).
    const UserState full = e.state("alice", kNow);
    UserState one_left = full;
    for (std::size_t k = 1; k < 10; ++k)
        one_left.codes->slots[k].used = CodeUse{kNow, "sshd", "-", "-"};
    constexpr int kSamples = 200;
    std::vector<double> right10, wrong10, right1, wrong1;
    for (int i = 0; i < kSamples; ++i) {
        right10.push_back(time_attempt(full, e.code(static_cast<std::size_t>(i) % 10)));
        wrong10.push_back(time_attempt(full, "WRONG" + std::to_string(100 + i % 900)));
        right1.push_back(time_attempt(one_left, e.code(0)));
        wrong1.push_back(time_attempt(one_left, "WRONG" + std::to_string(100 + i % 900)));
    }
    std::string note;
    for (const auto& [name, samples] : {std::pair<const char*, const std::vector<double>*>{"right/10 left", &right10},
                                        {"wrong/10 left", &wrong10},
                                        {"right/1 left", &right1},
                                        {"wrong/1 left", &wrong1}}) {
        const Percentiles p = percentiles(*samples);
        char line[160];
        std::snprintf(line, sizeof line, "%s p10/p50/p90 %.0f/%.0f/%.0f us", name, p.p10, p.p50, p.p90);
        std::printf("  %s\n", line);
        note += (note.empty() ? "" : "; ") + std::string(line);
    }
    // p10 rather than the median: preemption on a busy machine only ever
    // adds time, so the low percentiles show the cost of the work itself.
    const double r = percentiles(right10).p10;
    const double w = percentiles(wrong10).p10;
    char diff[120];
    std::snprintf(diff, sizeof diff, "p10 right - wrong (10 left): %+.1f us (%+.2f%%)", r - w, 100 * (r - w) / w);
    std::printf("  %s\n", diff);
    note += std::string("; ") + diff;
    return summary("kdf_cost",
                   "one KDF per code-shaped attempt, right or wrong; " + std::to_string(kSamples)
                       + " interleaved samples each (log2_n=10): " + note);
}
