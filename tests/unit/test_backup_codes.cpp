// Backup codes: shape, uniqueness, uniformity, hashing and matching.
#include "backup_codes.hpp"
#include "crypto.hpp"
#include "verifier.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <type_traits>

#include "cmocka_cxx.hpp"

using namespace twofactor;

// The hashes of a set are wiped when their buffer is freed.
static_assert(std::is_same_v<decltype(BackupCodeSet::slots)::allocator_type, WipingAllocator<CodeSlot>>);

namespace {

const ScryptParams kFast{10, 8, 1};

bool in_alphabet(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

void ten_distinct_codes_of_eight(void** /*state*/)
{
    const IssuedCodes issued = generate_backup_codes(10, 8, kFast, 1700000000);
    assert_int_equal(issued.codes.size(), 10);
    assert_int_equal(issued.set.slots.size(), 10);
    assert_int_equal(issued.set.length, 8);
    assert_int_equal(issued.set.issued_at, 1700000000);
    std::set<std::string> seen;
    for (const SecureChars& code : issued.codes) {
        assert_int_equal(code.size(), 8);
        assert_true(std::all_of(code.begin(), code.end(), in_alphabet));
        seen.insert(std::string(view(code)));
    }
    assert_int_equal(seen.size(), 10);
    // Salts differ between sets.
    const IssuedCodes other = generate_backup_codes(10, 8, kFast, 1700000000);
    assert_false(issued.set.salt == other.set.salt);
}

// Chi-square over the 36 symbols. With modulo bias (byte % 36) the first
// four symbols would come up 8/256 of the time instead of 7/256: over the
// 93,000 symbols drawn here that adds a chi-square of about 180, far above
// 74, the 99.99% quantile for 35 degrees of freedom, which an unbiased
// source exceeds with p < 1e-4.
void uniform_symbols(void** /*state*/)
{
    std::map<char, long> counts;
    long total = 0;
    for (int i = 0; i < 45000; ++i) {
        const unsigned sym = random_below(36);
        assert_true(sym < 36);
        ++counts[kBackupCodeAlphabet[sym]];
        ++total;
    }
    // Also through the real generator (at low cost: hashing dominates).
    for (int i = 0; i < 30; ++i) {
        const IssuedCodes issued = generate_backup_codes(100, 16, ScryptParams{10, 1, 1}, 0);
        for (const SecureChars& code : issued.codes)
            for (char c : code) {
                ++counts[c];
                ++total;
            }
    }
    assert_int_equal(counts.size(), 36);
    const double expected = static_cast<double>(total) / 36.0;
    double chi2 = 0;
    for (const auto& [symbol, n] : counts)
        chi2 += (static_cast<double>(n) - expected) * (static_cast<double>(n) - expected) / expected;
    print_message("chi-square over %ld symbols: %.1f (35 dof)\n", total, chi2);
    assert_true(chi2 < 74.0);
}

void hash_verifies_the_right_code_once(void** /*state*/)
{
    IssuedCodes issued = generate_backup_codes(10, 8, kFast, 0);
    UserState st;
    st.user = "alice";
    st.codes = issued.set;
    VerifyPolicy policy;
    policy.max_failures = 100;
    for (std::size_t i = 0; i < issued.codes.size(); ++i) {
        const DerivedCode d = derive_backup_code(*st.codes, issued.codes[i]);
        const auto slot = match_backup_code(*st.codes, d);
        assert_true(slot.has_value());
        assert_int_equal(*slot, i);
        VerifyResult r = decide(st, view(issued.codes[i]), d, 100 + static_cast<std::int64_t>(i), policy,
                                LoginContext{"sshd", "203.0.113.5", "ssh"});
        assert_int_equal(r.verdict, Verdict::accepted);
        assert_int_equal(*r.method, Method::backup_code);
        assert_int_equal(r.codes_remaining, 9 - i);
        assert_int_equal(r.codes_total, 10);
        // The same code again: refused.
        r = decide(st, view(issued.codes[i]), d, 200, policy, {});
        assert_int_equal(r.verdict, Verdict::wrong_code);
    }
    const CodeUse& use = *st.codes->slots[3].used;
    assert_int_equal(use.at, 103);
    assert_string_equal(use.service.c_str(), "sshd");
    assert_string_equal(use.rhost.c_str(), "203.0.113.5");
    assert_string_equal(use.tty.c_str(), "ssh");
}

void nothing_else_matches(void** /*state*/)
{
    const IssuedCodes issued = generate_backup_codes(10, 8, kFast, 0);
    std::string code(view(issued.codes[0]));
    // Every single-character change of a valid code fails.
    for (std::size_t pos = 0; pos < code.size(); ++pos) {
        std::string wrong = code;
        wrong[pos] = wrong[pos] == 'A' ? 'B' : 'A';
        const auto n = normalize_backup_code(wrong, 8);
        assert_true(n.has_value());
        assert_false(match_backup_code(issued.set, derive_backup_code(issued.set, *n)).has_value());
    }
    // A code derived under another set's salt does not match this set.
    const IssuedCodes other = generate_backup_codes(10, 8, kFast, 0);
    const DerivedCode d = derive_backup_code(other.set, other.codes[0]);
    assert_false(match_backup_code(issued.set, d).has_value());
    // Nor does a right code whose KDF output came from another salt.
    DerivedCode forged = derive_backup_code(issued.set, issued.codes[0]);
    forged.salt = other.set.salt;
    assert_false(match_backup_code(issued.set, forged).has_value());
}

void normalisation(void** /*state*/)
{
    assert_string_equal(std::string(view(*normalize_backup_code("abcd2345", 8))).c_str(), "ABCD2345");
    assert_string_equal(std::string(view(*normalize_backup_code("  AbCd2345\t\n", 8))).c_str(), "ABCD2345");
    for (const char* bad : {"", "ABCD234", "ABCD23456", "ABCD 2345", "ABCD-345", "ABCD234\xc3", "ÄBCD2345"})
        assert_false(normalize_backup_code(bad, 8).has_value());
    assert_false(normalize_backup_code(std::string("ABCD\0"
                                                   "345",
                                                   8),
                                       8)
                     .has_value());
    assert_true(normalize_backup_code("ABCDEFGHIJKLMNOP", 16).has_value());
}

void lower_case_and_whitespace_accepted(void** /*state*/)
{
    const IssuedCodes issued = generate_backup_codes(3, 8, kFast, 0);
    std::string typed(view(issued.codes[1]));
    std::transform(typed.begin(), typed.end(), typed.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    typed = "  " + typed + " \n";
    const auto n = normalize_backup_code(typed, 8);
    assert_true(n.has_value());
    const auto slot = match_backup_code(issued.set, derive_backup_code(issued.set, *n));
    assert_true(slot.has_value());
    assert_int_equal(*slot, 1);
}

// One KDF evaluation per attempt, whatever the number of unused codes.
void one_kdf_per_attempt(void** /*state*/)
{
    for (unsigned count : {1U, 10U, 100U}) {
        const IssuedCodes issued = generate_backup_codes(count, 8, kFast, 0);
        const auto before = scrypt_evaluations();
        const auto n = normalize_backup_code("ZZZZZZZZ", 8);
        const DerivedCode d = derive_backup_code(issued.set, *n);
        (void)match_backup_code(issued.set, d);
        assert_int_equal(scrypt_evaluations() - before, 1);
    }
}

void parameters_stored_with_the_set(void** /*state*/)
{
    const IssuedCodes issued = generate_backup_codes(2, 10, ScryptParams{11, 4, 2}, 0);
    assert_int_equal(issued.set.params.log2_n, 11);
    assert_int_equal(issued.set.params.r, 4);
    assert_int_equal(issued.set.params.p, 2);
    const auto n = normalize_backup_code(view(issued.codes[0]), 10);
    assert_true(match_backup_code(issued.set, derive_backup_code(issued.set, *n)).has_value());
}

void out_of_range_refused(void** /*state*/)
{
    for (auto [count, length] : {std::pair{0U, 8U}, {101U, 8U}, {10U, 7U}, {10U, 17U}}) {
        bool threw = false;
        try {
            (void)generate_backup_codes(count, length, kFast, 0);
        } catch (const std::exception&) {
            threw = true;
        }
        assert_true(threw);
    }
}

// Codes made elsewhere (another tool's scratch codes): each matches its own
// slot once; a code not in normal form is refused rather than stored
// unreachable.
void hash_given_codes(void** /*state*/)
{
    const std::vector<SecureChars> codes{to_secure("41298099"), to_secure("46812909"), to_secure("ABCD2345")};
    const BackupCodeSet set = hash_backup_codes(codes, 8, kFast, 1700000000);
    assert_int_equal(set.slots.size(), 3);
    assert_int_equal(set.issued_at, 1700000000);
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const auto index = match_backup_code(set, derive_backup_code(set, codes[i]));
        assert_true(index.has_value());
        assert_int_equal(*index, i);
    }
    assert_false(match_backup_code(set, derive_backup_code(set, to_secure("41298098"))).has_value());
    const std::vector<std::vector<SecureChars>> refused{{to_secure("abcd2345")}, {to_secure("1234567")}, {}};
    for (const auto& bad : refused) {
        bool threw = false;
        try {
            (void)hash_backup_codes(bad, 8, kFast, 0);
        } catch (const std::exception&) {
            threw = true;
        }
        assert_true(threw);
    }
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ten_distinct_codes_of_eight),
        cmocka_unit_test(uniform_symbols),
        cmocka_unit_test(hash_verifies_the_right_code_once),
        cmocka_unit_test(nothing_else_matches),
        cmocka_unit_test(normalisation),
        cmocka_unit_test(lower_case_and_whitespace_accepted),
        cmocka_unit_test(one_kdf_per_attempt),
        cmocka_unit_test(parameters_stored_with_the_set),
        cmocka_unit_test(out_of_range_refused),
        cmocka_unit_test(hash_given_codes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
