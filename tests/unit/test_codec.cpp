// Hex, base32 and base64url against the RFC 4648 vectors, and exactly what the decoders
// accept: every character, every length, canonical tails only, zeros in the
// output of a refused input. (That they do not branch on the secret is
// tests/reliability/ct_codecs.cpp's part.)
#include "codec.hpp"
#include "crypto.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

struct Vector {
    std::string encoding; // BASE32 or BASE16
    std::string input;
    std::string output; // as printed in the RFC: padded, upper case
};

std::vector<Vector> rfc4648_vectors()
{
    std::ifstream in(std::string(TWOFACTOR_TEST_DATA) + "/rfc4648.txt");
    const std::regex line_re(R"re(^(BASE32|BASE16)\("([^"]*)"\) = "([^"]*)"$)re");
    std::vector<Vector> out;
    std::string line;
    std::smatch m;
    while (std::getline(in, line))
        if (std::regex_match(line, m, line_re))
            out.push_back({m[1], m[2], m[3]});
    return out;
}

SecureBytes bytes_of(const std::string& s) { return SecureBytes(s.begin(), s.end()); }
std::string text_of(const SecureChars& s) { return std::string(s.begin(), s.end()); }
std::string text_of(const SecureBytes& s) { return std::string(s.begin(), s.end()); }

std::string lower(std::string s)
{
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void rfc4648_base32(void** /*state*/)
{
    int n = 0;
    for (const Vector& v : rfc4648_vectors()) {
        if (v.encoding != "BASE32")
            continue;
        ++n;
        const std::string unpadded = v.output.substr(0, v.output.find('='));
        assert_text(text_of(base32_encode(bytes_of(v.input))), unpadded);
        SecureBytes out;
        assert_true(base32_decode(unpadded, out));
        assert_text(text_of(out), v.input);
        if (unpadded != v.output)
            assert_false(base32_decode(v.output, out)); // padding is refused
        if (!unpadded.empty())
            assert_false(base32_decode(lower(unpadded), out)); // so is lower case
    }
    assert_int_equal(n, 7);
}

void rfc4648_base16(void** /*state*/)
{
    int n = 0;
    for (const Vector& v : rfc4648_vectors()) {
        if (v.encoding != "BASE16")
            continue;
        ++n;
        const auto* in = reinterpret_cast<const unsigned char*>(v.input.data());
        assert_text(to_hex(in, v.input.size()), lower(v.output));
        for (const std::string& text : {v.output, lower(v.output)}) { // either case
            std::string out(v.input.size(), '\xaa');
            assert_true(from_hex(text, reinterpret_cast<unsigned char*>(out.data()), out.size()));
            assert_text(out, v.input);
        }
    }
    assert_int_equal(n, 7);
}

void round_trips(void** /*state*/)
{
    for (std::size_t n = 0; n < 70; ++n) {
        const SecureBytes data = random_bytes(n);
        const SecureChars text = base32_encode(data);
        assert_int_equal(text.size(), (n * 8 + 4) / 5);
        SecureBytes back;
        assert_true(base32_decode(view(text), back));
        assert_true(back == data);
        const std::string hex = to_hex(data.data(), data.size());
        SecureBytes from(n);
        assert_true(from_hex(hex, from.data(), from.size()));
        assert_true(from == data);
    }
    SecureBytes all(256);
    for (std::size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<unsigned char>(i);
    const std::string hex = to_hex(all.data(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        char want[3];
        std::snprintf(want, sizeof want, "%02x", static_cast<unsigned>(i));
        assert_text(hex.substr(2 * i, 2), want);
    }
}

// Each of the 256 byte values at the first and the last place of an
// otherwise valid text: accepted exactly when it is in the alphabet.
void every_character(void** /*state*/)
{
    const std::string base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const std::string hex_alphabet = "0123456789abcdefABCDEF";
    for (int i = 0; i < 256; ++i) {
        const char c = static_cast<char>(i);
        const bool in_base32 = base32_alphabet.find(c) != std::string::npos;
        const bool in_hex = hex_alphabet.find(c) != std::string::npos;
        SecureBytes out;
        unsigned char byte[4];
        for (const std::string& text : {std::string(1, c) + "AAAAAAA", "AAAAAAA" + std::string(1, c)})
            if (base32_decode(text, out) != in_base32)
                fail_msg("base32_decode with byte %d: %s", i, in_base32 ? "refused" : "accepted");
        for (const std::string& text : {std::string(1, c) + "0000000", "0000000" + std::string(1, c)})
            if (from_hex(text, byte, sizeof byte) != in_hex)
                fail_msg("from_hex with byte %d: %s", i, in_hex ? "refused" : "accepted");
    }
}

// Only base32_encode's own output: lengths it never writes, set unused bits
// in the last character, padding and blanks are all refused.
void base32_refusals(void** /*state*/)
{
    SecureBytes out;
    for (const char* text : {"M", "MZX", "MZXW6Y", "MZXW6YTBO", "MZXW6YTBOIA", "MZXW6YTBOIAAAA"})
        if (base32_decode(text, out))
            fail_msg("\"%s\": a length base32_encode never writes, accepted", text);
    // "f" is MY; MZ..M7 carry the same byte with unused bits set.
    assert_true(base32_decode("MY", out));
    for (const char* text : {"MZ", "M2", "M7", "MZXR", "MZXW7", "MZXW6YR"})
        if (base32_decode(text, out))
            fail_msg("\"%s\": unused bits set, accepted", text);
    for (const char* text : {"MY======", "MZXW6YQ=", " MZXW6YTB", "MZXW6YTB ", "MZXW\t6YTB", "MZXW6YTB\n", "mzxw6ytb",
                             "MzXW6YTB", "MZXW6YT0", "MZXW6YT1", "MZXW6YT8"})
        if (base32_decode(text, out))
            fail_msg("\"%s\" accepted", text);
    assert_false(base32_decode(std::string("MZXW\0YTB", 8), out));
}

void hex_refusals(void** /*state*/)
{
    unsigned char out[3];
    for (const char* text : {"", "6", "666", "666F6", "666F6F6", "666F6F62"})
        if (from_hex(text, out, sizeof out))
            fail_msg("\"%s\": not 6 digits, accepted", text);
    for (const char* text : {"666F6G", "666F6g", " 66F6F", "666F6F ", "0x666F", "66 6F6"})
        if (from_hex(text, out, sizeof out))
            fail_msg("\"%s\" accepted", text);
    assert_false(from_hex(std::string("66\0F6F", 6), out, sizeof out));
}

// base64url: RFC 4648's base64 vectors (section 10, unpadded), the two
// digits it changes ('-' and '_'), round trips of every length up to 70, and
// what is refused: a length no encoding gives, padding, set unused bits,
// base64's '+' and '/'.
void base64url(void** /*state*/)
{
    const std::pair<std::string, std::string> vectors[]
        = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
           {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    for (const auto& [input, output] : vectors) {
        const SecureBytes data = bytes_of(input);
        assert_text(text_of(base64url_encode(data.data(), data.size())), output);
        SecureBytes out;
        assert_true(base64url_decode(output, out));
        assert_text(text_of(out), input);
    }
    for (std::size_t n = 0; n < 70; ++n) {
        const SecureBytes data = random_bytes(n);
        const SecureChars text = base64url_encode(data.data(), data.size());
        assert_int_equal(text.size(), (n * 8 + 5) / 6);
        SecureBytes back;
        assert_true(base64url_decode(view(text), back));
        assert_true(back == data);
    }
    SecureBytes out(3, 0xaa);
    for (const char* text : {"Z", "Zm9vY", "Zg==", "Zm8=", "Zh", "Zm9", "Zm+v", "Zm/v", "Zm9v\n"}) {
        if (base64url_decode(text, out))
            fail_msg("\"%s\" accepted", text);
        assert_true(std::all_of(out.begin(), out.end(), [](unsigned char b) { return b == 0; }));
    }
}

// A refused input leaves zeros, never part of a secret.
void refused_leaves_zeros(void** /*state*/)
{
    SecureBytes out(7, 0xaa);
    assert_false(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", out));
    assert_int_equal(out.size(), 20);
    assert_true(std::all_of(out.begin(), out.end(), [](unsigned char b) { return b == 0; }));
    assert_false(base32_decode("GEZ", out));
    assert_true(std::all_of(out.begin(), out.end(), [](unsigned char b) { return b == 0; }));

    unsigned char bytes[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    assert_false(from_hex("313233x4", bytes, sizeof bytes));
    assert_true(std::all_of(bytes, bytes + 4, [](unsigned char b) { return b == 0; }));
    std::fill(bytes, bytes + 4, 0xaa);
    assert_false(from_hex("3132", bytes, sizeof bytes));
    assert_true(std::all_of(bytes, bytes + 4, [](unsigned char b) { return b == 0; }));
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4648_base32),       cmocka_unit_test(rfc4648_base16),  cmocka_unit_test(round_trips),
        cmocka_unit_test(every_character),      cmocka_unit_test(base32_refusals), cmocka_unit_test(hex_refusals),
        cmocka_unit_test(refused_leaves_zeros), cmocka_unit_test(base64url),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
