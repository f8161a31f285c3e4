// The otpauth:// URI authenticator apps import (cli/otpauth.hpp): RFC 3986
// percent-encoding of the label and issuer, and the exact URI for known
// secrets and parameters, so an app reads the same account, issuer and
// algorithm whichever tool made the enrolment.
#include "otpauth.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;
using namespace twofactor::cli;

namespace {

SecureBytes bytes_of(std::string_view text) { return SecureBytes(text.begin(), text.end()); }

std::string text_of(const SecureChars& chars) { return std::string(view(chars)); }

void unreserved_characters_stay(void** /*state*/)
{
    const std::string unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    assert_string_equal(percent_encode(unreserved).c_str(), unreserved.c_str());
    assert_string_equal(percent_encode("").c_str(), "");
}

void every_other_byte_is_percent_encoded(void** /*state*/)
{
    // A space is %20, never '+': apps would show a '+' literally.
    assert_string_equal(percent_encode("Example Org").c_str(), "Example%20Org");
    assert_string_equal(percent_encode("a+b").c_str(), "a%2Bb");
    // The label separator and the URI's own delimiters inside a name.
    assert_string_equal(percent_encode(":/?#[]@!$&'()*,;=").c_str(),
                        "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2C%3B%3D");
    assert_string_equal(percent_encode("100%").c_str(), "100%25");
    // UTF-8 byte by byte, upper-case hex; control bytes, NUL and 0xff too.
    assert_string_equal(percent_encode("Z\xc3\xbcrich").c_str(), "Z%C3%BCrich");
    assert_string_equal(percent_encode(std::string_view("a\0b\n\x7f\xff", 6)).c_str(), "a%00b%0A%7F%FF");
}

void uri_for_the_rfc_secret(void** /*state*/)
{
    // "12345678901234567890" is the RFC 4226 / 6238 test secret; its base32
    // form is what oathtool and every app expect.
    const SecureChars uri = otpauth_uri("Example Org", "alice@example.com", bytes_of("12345678901234567890"),
                                        TotpParams{TotpAlgorithm::sha1, 6, 30});
    assert_string_equal(text_of(uri).c_str(),
                        "otpauth://totp/Example%20Org:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=Example%20Org&algorithm=SHA1&digits=6&period=30");
}

void uri_carries_the_parameters(void** /*state*/)
{
    const SecureChars sha256 = otpauth_uri("host", "bob", bytes_of("12345678901234567890123456789012"),
                                           TotpParams{TotpAlgorithm::sha256, 8, 60});
    assert_string_equal(text_of(sha256).c_str(),
                        "otpauth://totp/host:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
                        "&issuer=host&algorithm=SHA256&digits=8&period=60");
    const SecureChars sha512 = otpauth_uri("h", "c", bytes_of("1234567890"), TotpParams{TotpAlgorithm::sha512, 7, 15});
    assert_string_equal(text_of(sha512).c_str(),
                        "otpauth://totp/h:c?secret=GEZDGNBVGY3TQOJQ&issuer=h&algorithm=SHA512&digits=7&period=15");
}

void algorithm_names(void** /*state*/)
{
    assert_string_equal(uri_algorithm(TotpAlgorithm::sha1), "SHA1");
    assert_string_equal(uri_algorithm(TotpAlgorithm::sha256), "SHA256");
    assert_string_equal(uri_algorithm(TotpAlgorithm::sha512), "SHA512");
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(unreserved_characters_stay),
        cmocka_unit_test(every_other_byte_is_percent_encoded),
        cmocka_unit_test(uri_for_the_rfc_secret),
        cmocka_unit_test(uri_carries_the_parameters),
        cmocka_unit_test(algorithm_names),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
