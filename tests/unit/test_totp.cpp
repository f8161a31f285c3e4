// TOTP against the RFC 6238 Appendix B and RFC 4226 Appendix D vectors, the
// window edges, and replay refusal through the verifier.
#include "codec.hpp"
#include "test_data.hpp"
#include "totp.hpp"
#include "verifier.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

SecureBytes hex_secret(const std::string& hex)
{
    SecureBytes out(hex.size() / 2);
    assert_true(from_hex(hex, out.data(), out.size()));
    return out;
}

void rfc6238_vectors(void** /*state*/)
{
    const auto rows = read_tsv("rfc6238.tsv");
    assert_int_equal(rows.size(), 18);
    int per_algorithm[3] = {0, 0, 0};
    for (const auto& row : rows) {
        assert_int_equal(row.size(), 4);
        const std::int64_t t = std::stoll(row[0]);
        const auto alg = parse_totp_algorithm(row[1]);
        assert_true(alg.has_value());
        ++per_algorithm[static_cast<int>(*alg)];
        const SecureBytes secret = hex_secret(row[2]);
        const TotpParams params{*alg, 8, 30};
        const auto step = totp_verify(secret, params, t, 0, row[3]);
        assert_true(step.has_value());
        assert_int_equal(*step, static_cast<std::uint64_t>(t / 30));
        const SecureChars generated = totp_generate(secret, params, t);
        assert_string_equal(std::string(view(generated)).c_str(), row[3].c_str());
    }
    for (int n : per_algorithm)
        assert_int_equal(n, 6);
}

// HOTP is TOTP with a 1-second period and T0 = 0: the step is the counter.
void rfc4226_vectors(void** /*state*/)
{
    const auto rows = read_tsv("rfc4226.tsv");
    assert_int_equal(rows.size(), 10);
    for (const auto& row : rows) {
        const std::uint64_t counter = std::stoull(row[0]);
        const SecureBytes secret = hex_secret(row[1]);
        const TotpParams params{TotpAlgorithm::sha1, 6, 1};
        const auto step = totp_verify(secret, params, static_cast<std::int64_t>(counter), 0, row[2]);
        assert_true(step.has_value());
        assert_int_equal(*step, counter);
    }
}

void window_edges(void** /*state*/)
{
    const SecureBytes secret = hex_secret("3132333435363738393031323334353637383930");
    const TotpParams params{TotpAlgorithm::sha1, 6, 30};
    const std::int64_t now = 1700000000;
    const std::uint64_t here = now / 30;
    for (int offset = -3; offset <= 3; ++offset) {
        const SecureChars code = totp_generate(secret, params, now + offset * 30);
        for (unsigned window = 0; window <= 2; ++window) {
            const auto step = totp_verify(secret, params, now, window, view(code));
            const bool inside = static_cast<unsigned>(offset < 0 ? -offset : offset) <= window;
            assert_int_equal(step.has_value(), inside);
            if (inside)
                assert_int_equal(*step, here + static_cast<std::uint64_t>(offset));
        }
    }
    // The first and last second of a step give the same code.
    const std::int64_t start = static_cast<std::int64_t>(here) * 30;
    const SecureChars a = totp_generate(secret, params, start);
    const SecureChars b = totp_generate(secret, params, start + 29);
    const SecureChars c = totp_generate(secret, params, start + 30);
    assert_true(a == b);
    assert_false(a == c);
}

void malformed_codes_refused(void** /*state*/)
{
    const SecureBytes secret = hex_secret("3132333435363738393031323334353637383930");
    const TotpParams params{TotpAlgorithm::sha1, 6, 30};
    const std::int64_t now = 1700000000;
    const std::string good(view(totp_generate(secret, params, now)));
    for (const std::string& bad : {std::string(), good.substr(0, 5), good + "0", std::string("12345a"),
                                   std::string("-12345"), std::string(" ") + good.substr(1),
                                   std::string("\0"
                                               "23456",
                                               6)})
        assert_false(totp_verify(secret, params, now, 1, bad).has_value());
    assert_true(totp_verify(secret, params, now, 1, good).has_value());
}

UserState enrolled(const SecureBytes& secret)
{
    UserState st;
    st.user = "alice";
    st.authenticators = {TotpState{secret, TotpParams{}, 0, std::nullopt}};
    return st;
}

void replay_refused(void** /*state*/)
{
    const SecureBytes secret = hex_secret("3132333435363738393031323334353637383930");
    UserState st = enrolled(secret);
    VerifyPolicy policy;
    const std::int64_t now = 1700000000;
    const SecureChars code = totp_generate(secret, st.find("default")->params, now);
    VerifyResult r = decide(st, view(code), std::nullopt, now, policy, {});
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_int_equal(*st.find("default")->last_step, static_cast<std::uint64_t>(now / 30));
    // The same code again, in the same step and in the next one (still in the window).
    r = decide(st, view(code), std::nullopt, now, policy, {});
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_true(r.replayed);
    r = decide(st, view(code), std::nullopt, now + 30, policy, {});
    assert_int_equal(r.verdict, Verdict::wrong_code);
    // An older step's code, still inside the window, is refused too.
    const SecureChars older = totp_generate(secret, st.find("default")->params, now - 30);
    r = decide(st, view(older), std::nullopt, now, policy, {});
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_true(r.replayed);
    // The next step's code is fine.
    const SecureChars next = totp_generate(secret, st.find("default")->params, now + 30);
    r = decide(st, view(next), std::nullopt, now + 30, policy, {});
    assert_int_equal(r.verdict, Verdict::accepted);
}

void two_steps_old_refused_with_window_1(void** /*state*/)
{
    const SecureBytes secret = hex_secret("3132333435363738393031323334353637383930");
    UserState st = enrolled(secret);
    const std::int64_t now = 1700000000;
    const SecureChars old = totp_generate(secret, st.find("default")->params, now - 60);
    VerifyResult r = decide(st, view(old), std::nullopt, now, VerifyPolicy{}, {});
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_false(r.replayed);
    assert_int_equal(st.failures, 1);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc6238_vectors), cmocka_unit_test(rfc4226_vectors),
        cmocka_unit_test(window_edges),    cmocka_unit_test(malformed_codes_refused),
        cmocka_unit_test(replay_refused),  cmocka_unit_test(two_steps_old_refused_with_window_1),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
