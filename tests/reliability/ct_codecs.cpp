// The hex and base32 codecs must not branch on, or index memory by, the
// bytes they encode or decode: the TOTP secret goes through base32_decode on
// every login. Checked the way ctgrind does: the secret is marked undefined
// for valgrind's memcheck, so every conditional jump and every address that
// depends on it is a memcheck error, counted around each call. The result
// is then declassified (the caller branches on it; it is public) and
// compared with the expected value. Valid and malformed input alike: a
// malformed secret must not be found out character by character either.
// Needs valgrind (CMake runs it under valgrind); skipped (77) without it.
#include "codec.hpp"
#include "reliability_support.hpp"
#include "secure_memory.hpp"

#include <valgrind/memcheck.h>

#include <string>
#include <vector>

using namespace twofactor;

namespace {

void secret(void* p, std::size_t n) { VALGRIND_MAKE_MEM_UNDEFINED(p, n); }
void declassify(void* p, std::size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); }

// Runs `op` and fails if memcheck found anything during it.
template <typename Op>
void without_secret_dependence(const std::string& what, Op op)
{
    const unsigned before = VALGRIND_COUNT_ERRORS;
    op();
    const unsigned errors = VALGRIND_COUNT_ERRORS - before;
    CHECK(errors == 0, "%s: %u memcheck errors: a branch or an address depends on the secret", what.c_str(), errors);
}

// The input as a failure message shows it.
std::string shown(const std::string& text)
{
    return "\""
        + (text.size() > 24 ? text.substr(0, 24) + "...\" (" + std::to_string(text.size()) + " chars)" : text + "\"");
}

void base32_decode_case(const std::string& text, bool want_ok, const std::string& want = {})
{
    without_secret_dependence("base32_decode " + shown(text), [&] {
        std::string input = text;
        secret(input.data(), input.size());
        SecureBytes out;
        bool ok = base32_decode(input, out);
        declassify(&ok, sizeof ok);
        declassify(out.data(), out.size());
        CHECK(ok == want_ok, "base32_decode %s: %s", shown(text).c_str(), ok ? "accepted" : "refused");
        if (ok && want_ok)
            CHECK(std::string(out.begin(), out.end()) == want, "base32_decode %s: wrong bytes", shown(text).c_str());
    });
}

void from_hex_case(const std::string& text, bool want_ok, const std::string& want = {})
{
    without_secret_dependence("from_hex " + shown(text), [&] {
        std::string input = text;
        secret(input.data(), input.size());
        std::vector<unsigned char> out(text.size() / 2);
        bool ok = from_hex(input, out.data(), out.size());
        declassify(&ok, sizeof ok);
        declassify(out.data(), out.size());
        CHECK(ok == want_ok, "from_hex %s: %s", shown(text).c_str(), ok ? "accepted" : "refused");
        if (ok && want_ok)
            CHECK(std::string(out.begin(), out.end()) == want, "from_hex %s: wrong bytes", shown(text).c_str());
    });
}

} // namespace

int main()
{
    if (!RUNNING_ON_VALGRIND) {
        std::printf("ct_codecs: skip, run it under valgrind (ctest does)\n");
        return 77;
    }

    // Every byte value through both encoders, then back through the decoders.
    SecureBytes all(256);
    for (std::size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<unsigned char>(i);
    std::string hex;
    without_secret_dependence("to_hex", [&] {
        SecureBytes bytes = all;
        secret(bytes.data(), bytes.size());
        hex = to_hex(bytes.data(), bytes.size());
        declassify(hex.data(), hex.size());
    });
    CHECK(hex.size() == 512 && hex.compare(0, 8, "00010203") == 0 && hex.compare(504, 8, "fcfdfeff") == 0,
          "to_hex: wrong text");
    from_hex_case(hex, true, std::string(all.begin(), all.end()));

    std::string b32;
    for (std::size_t n = 0; n <= all.size(); n += (n < 10 ? 1 : 41)) { // every tail length, then longer
        without_secret_dependence("base32_encode of " + std::to_string(n) + " bytes", [&] {
            SecureBytes bytes(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
            secret(bytes.data(), bytes.size());
            const SecureChars text = base32_encode(bytes);
            b32.assign(text.begin(), text.end());
            declassify(b32.data(), b32.size());
        });
        base32_decode_case(b32, true, std::string(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n)));
    }

    // Each character class, and malformed input anywhere in the text.
    base32_decode_case(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", true,
        std::string("\x00\x44\x32\x14\xc7\x42\x54\xb6\x35\xcf\x84\x65\x3a\x56\xd7\xc6\x75\xbe\x77\xdf", 20));
    base32_decode_case("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", true, "12345678901234567890");
    for (const char* bad : {"GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ", "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
                            "GEZDGNBV=", "GEZDGNBV GY3TQOJQ", "MZ", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ@"})
        base32_decode_case(bad, false);
    from_hex_case("00ff7Fa0", true, std::string("\x00\xff\x7f\xa0", 4));
    for (const char* bad : {"0g", "g0", "0 ", "/0", ":0", "@0", "G0", "`0", "00ff7fa ", "x0ff7fa0"})
        from_hex_case(bad, false);

    return reliability::summary("ct_codecs",
                                "hex and base32 encode and decode without secret-dependent "
                                "branches or memory accesses");
}
