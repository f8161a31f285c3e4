// HOTP (RFC 4226) and several authenticators per user, at the level of the
// core: the RFC's test vectors, the look-ahead window, resync, and decide()
// trying every authenticator while moving only the one that accepted.
#include "hotp.hpp"
#include "totp.hpp"
#include "user_state.hpp"
#include "verifier.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

constexpr std::int64_t kNow = 1800000000;

// RFC 4226, appendix D: the secret "12345678901234567890", counters 0-9.
const char* const kRfc4226[]
    = {"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"};

SecureBytes rfc_secret()
{
    const std::string s = "12345678901234567890";
    return SecureBytes(s.begin(), s.end());
}

Authenticator hotp_token(const std::string& name, std::uint64_t counter)
{
    Authenticator a{rfc_secret(), TotpParams{}, kNow, std::nullopt};
    a.name = name;
    a.type = AuthenticatorType::hotp;
    a.counter = counter;
    return a;
}

std::string code_of(const SecureChars& c) { return std::string(view(c)); }

void rfc4226_vectors(void** /*state*/)
{
    for (std::uint64_t i = 0; i < 10; ++i) {
        assert_string_equal(code_of(hotp_generate(rfc_secret(), TotpParams{}, i)).c_str(), kRfc4226[i]);
        assert_int_equal(*hotp_find(rfc_secret(), TotpParams{}, 0, 9, kRfc4226[i]), i);
    }
}

void window_and_resync(void** /*state*/)
{
    // Within the window from the stored counter, and not beyond it.
    assert_int_equal(*hotp_find(rfc_secret(), TotpParams{}, 3, 5, kRfc4226[8]), 8);
    assert_false(hotp_find(rfc_secret(), TotpParams{}, 3, 4, kRfc4226[8]).has_value());
    // Before the stored counter: spent.
    assert_false(hotp_find(rfc_secret(), TotpParams{}, 4, 10, kRfc4226[3]).has_value());
    assert_false(hotp_find(rfc_secret(), TotpParams{}, 0, 10, "12345").has_value());
    // Two consecutive codes; not two in the wrong order, nor two apart.
    assert_int_equal(*hotp_resync(rfc_secret(), TotpParams{}, 0, kRfc4226[6], kRfc4226[7]), 6);
    assert_false(hotp_resync(rfc_secret(), TotpParams{}, 0, kRfc4226[7], kRfc4226[6]).has_value());
    assert_false(hotp_resync(rfc_secret(), TotpParams{}, 0, kRfc4226[5], kRfc4226[7]).has_value());
    assert_false(hotp_resync(rfc_secret(), TotpParams{}, 7, kRfc4226[6], kRfc4226[7]).has_value());
    // 100 counters ahead, not 101.
    const std::string at100 = code_of(hotp_generate(rfc_secret(), TotpParams{}, 100));
    const std::string at101 = code_of(hotp_generate(rfc_secret(), TotpParams{}, 101));
    const std::string at102 = code_of(hotp_generate(rfc_secret(), TotpParams{}, 102));
    assert_int_equal(*hotp_resync(rfc_secret(), TotpParams{}, 0, at100, at101), 100);
    assert_false(hotp_resync(rfc_secret(), TotpParams{}, 0, at101, at102).has_value());
}

void hotp_code_accepted_once(void** /*state*/)
{
    UserState st;
    st.user = "alice";
    st.authenticators = {hotp_token("key", 0)};
    VerifyPolicy policy;
    policy.hotp_window = 10;
    VerifyResult r = decide(st, kRfc4226[2], std::nullopt, kNow, policy, {});
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_int_equal(*r.method, Method::hotp);
    assert_string_equal(r.authenticator.c_str(), "key");
    assert_int_equal(st.authenticators[0].counter, 3);
    assert_int_equal(st.authenticators[0].last_used, kNow);
    assert_string_equal(st.last_login->authenticator.c_str(), "key");
    // The same code again, or an earlier one: refused, counter unchanged.
    for (const char* code : {kRfc4226[2], kRfc4226[1]}) {
        r = decide(st, code, std::nullopt, kNow, policy, {});
        assert_int_equal(r.verdict, Verdict::wrong_code);
        assert_int_equal(st.authenticators[0].counter, 3);
    }
}

void two_authenticators_each_on_its_own(void** /*state*/)
{
    UserState st;
    st.user = "alice";
    Authenticator phone{random_bytes(20), TotpParams{TotpAlgorithm::sha1, 6, 30}, kNow, std::nullopt};
    phone.name = "phone";
    Authenticator spare{random_bytes(32), TotpParams{TotpAlgorithm::sha256, 6, 30}, kNow, std::nullopt};
    spare.name = "spare";
    st.authenticators = {phone, spare, hotp_token("key", 0)};
    const VerifyPolicy policy;

    VerifyResult r
        = decide(st, code_of(totp_generate(spare.secret, spare.params, kNow)), std::nullopt, kNow, policy, {});
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_string_equal(r.authenticator.c_str(), "spare");
    assert_false(st.find("phone")->last_step.has_value()); // untouched
    assert_int_equal(*st.find("spare")->last_step, kNow / 30);
    assert_int_equal(st.find("key")->counter, 0);

    // The step spent on the spare is still good on the phone.
    r = decide(st, code_of(totp_generate(phone.secret, phone.params, kNow)), std::nullopt, kNow, policy, {});
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_string_equal(r.authenticator.c_str(), "phone");
    // ...and once only on each.
    r = decide(st, code_of(totp_generate(spare.secret, spare.params, kNow)), std::nullopt, kNow, policy, {});
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_true(r.replayed);
    r = decide(st, kRfc4226[0], std::nullopt, kNow, policy, {});
    assert_string_equal(r.authenticator.c_str(), "key");

    // no_totp turns every authenticator off.
    VerifyPolicy off;
    off.totp = false;
    r = decide(st, kRfc4226[1], std::nullopt, kNow, off, {});
    assert_int_equal(r.verdict, Verdict::wrong_code);
}

void names_and_types(void** /*state*/)
{
    for (const char* good : {"default", "a", "yubikey-5.nfc_2", "0123456789abcdef0123456789abcdef"})
        assert_true(valid_authenticator_name(good));
    for (const char* bad : {"", "Phone", "my phone", "a/b", "é", "0123456789abcdef0123456789abcdef0", "a\n"})
        assert_false(valid_authenticator_name(bad));
    assert_int_equal(*parse_authenticator_type("hotp"), AuthenticatorType::hotp);
    assert_false(parse_authenticator_type("HOTP").has_value());
    UserState st;
    st.put(hotp_token("a", 1));
    st.put(hotp_token("b", 2));
    st.put(hotp_token("a", 5)); // replaced in place
    assert_int_equal(st.authenticators.size(), 2);
    assert_int_equal(st.authenticators[0].counter, 5);
    assert_true(st.remove("a"));
    assert_false(st.remove("a"));
    assert_string_equal(st.authenticators[0].name.c_str(), "b");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4226_vectors),         cmocka_unit_test(window_and_resync),
        cmocka_unit_test(hotp_code_accepted_once), cmocka_unit_test(two_authenticators_each_on_its_own),
        cmocka_unit_test(names_and_types),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
