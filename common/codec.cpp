#include "codec.hpp"

namespace twofactor {

namespace {

// Characters and digit values are mapped with masks, never with `if` or a
// table indexed by a secret character or value: either would let the timing
// (branch predictor, cache) tell which characters a secret holds. An
// alphabet is a few runs of consecutive characters, and every run is looked
// at for every character. The helpers work on values below 256 in unsigned
// ints, so a difference that goes negative wraps around and sets bit 8 and
// above.

// All ones if lo <= c <= hi, else zero (c, lo, hi < 256).
constexpr unsigned in_range(unsigned c, unsigned lo, unsigned hi) { return ((((c - lo) | (hi - c)) >> 8) & 1u) - 1u; }

// 1 if x is not zero, else 0.
constexpr unsigned nonzero(unsigned x) { return (x | (0u - x)) >> 31; }

// Set in a decoded value: the character is not a digit of the alphabet.
constexpr unsigned kInvalid = 0x100;

// An alphabet as runs of consecutive characters for consecutive values.
struct Run {
    unsigned first; // character
    unsigned last;  // character
    unsigned value; // of `first`
};
constexpr Run kHexLower[] = {{'0', '9', 0}, {'a', 'f', 10}};
constexpr Run kHexUpper[] = {{'0', '9', 0}, {'A', 'F', 10}};
constexpr Run kHexEitherCase[] = {{'0', '9', 0}, {'a', 'f', 10}, {'A', 'F', 10}};
constexpr Run kBase32[] = {{'A', 'Z', 0}, {'2', '7', 26}};
constexpr Run kBase64Url[] = {{'A', 'Z', 0}, {'a', 'z', 26}, {'0', '9', 52}, {'-', '-', 62}, {'_', '_', 63}};

// The character for digit value v (every run is looked at).
template <std::size_t N>
char encode_digit(const Run (&alphabet)[N], unsigned v)
{
    unsigned c = 0;
    for (const Run& r : alphabet)
        c |= in_range(v, r.value, r.value + r.last - r.first) & (v - r.value + r.first);
    return static_cast<char>(c);
}

// The value of character c, kInvalid if it is in no run (every run is
// looked at).
template <std::size_t N>
unsigned decode_digit(const Run (&alphabet)[N], unsigned char c)
{
    unsigned v = kInvalid;
    for (const Run& r : alphabet) {
        const unsigned in = in_range(c, r.first, r.last);
        v = (in & (c - r.first + r.value)) | (~in & v);
    }
    return v;
}

// Zeroes `out` unless `bad` is zero, without a branch; returns bad == 0.
bool keep_if_valid(unsigned bad, unsigned char* out, std::size_t n)
{
    const auto keep = static_cast<unsigned char>(nonzero(bad) - 1u);
    for (std::size_t i = 0; i < n; ++i)
        out[i] &= keep;
    return (keep & 1u) != 0;
}

// Bytes as digits of `Width` bits each, most significant first, no
// padding (RFC 4648's base32 and base64url): the last digit's unused low
// bits are zero.
template <unsigned Width, std::size_t N>
SecureChars encode_bits(const Run (&alphabet)[N], const unsigned char* data, std::size_t n)
{
    constexpr unsigned digit_mask = (1u << Width) - 1u;
    SecureChars out((n * 8 + Width - 1) / Width);
    std::size_t k = 0;
    unsigned buffer = 0; // the bits not yet written, fewer than Width + 8
    unsigned bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        buffer = ((buffer << 8u) | data[i]) & ((1u << (Width + 8u)) - 1u);
        bits += 8;
        while (bits >= Width) {
            bits -= Width;
            out[k++] = encode_digit(alphabet, (buffer >> bits) & digit_mask);
        }
    }
    if (bits > 0)
        out[k] = encode_digit(alphabet, (buffer << (Width - bits)) & digit_mask);
    wipe(&buffer, sizeof buffer); // held secret bits; a plain store would be optimized away
    return out;
}

// The inverse of encode_bits, and only its output: digits of `alphabet`,
// no padding, zero unused bits, a length encode_bits gives (the bits left
// over after the last whole byte are fewer than one digit's). `out` is
// zeroed on failure. No branch or table lookup depends on a digit.
template <unsigned Width, std::size_t N>
bool decode_bits(const Run (&alphabet)[N], std::string_view text, SecureBytes& out)
{
    unsigned bad = text.size() * Width % 8 >= Width ? kInvalid : 0; // the length is public
    out.assign(text.size() * Width / 8, 0);
    std::size_t k = 0;
    unsigned buffer = 0; // the bits not yet written, fewer than Width + 8
    unsigned bits = 0;
    for (char c : text) {
        const unsigned v = decode_digit(alphabet, static_cast<unsigned char>(c));
        bad |= v & kInvalid;
        buffer = ((buffer << Width) | (v & ((1u << Width) - 1u))) & ((1u << (Width + 8u)) - 1u);
        bits += Width;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = static_cast<unsigned char>(buffer >> bits);
        }
    }
    // The unused low bits of the last digit must be zero.
    bad |= nonzero(buffer & ((1u << bits) - 1u));
    wipe(&buffer, sizeof buffer);
    return keep_if_valid(bad, out.data(), out.size());
}

} // namespace

std::string to_hex(const unsigned char* data, std::size_t n)
{
    std::string out(2 * n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = encode_digit(kHexLower, data[i] >> 4u);
        out[2 * i + 1] = encode_digit(kHexLower, data[i] & 0x0fu);
    }
    return out;
}

bool from_hex(std::string_view hex, unsigned char* out, std::size_t out_len)
{
    unsigned bad = hex.size() / 2 != out_len || hex.size() % 2 != 0 ? kInvalid : 0; // the length is public
    const std::size_t n = bad != 0 ? 0 : out_len;
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned high = decode_digit(kHexEitherCase, static_cast<unsigned char>(hex[2 * i]));
        const unsigned low = decode_digit(kHexEitherCase, static_cast<unsigned char>(hex[2 * i + 1]));
        bad |= (high | low) & kInvalid;
        out[i] = static_cast<unsigned char>((high << 4u) | (low & 0x0fu));
    }
    return keep_if_valid(bad, out, out_len);
}

SecureChars base32_encode(const SecureBytes& data) { return encode_bits<5>(kBase32, data.data(), data.size()); }

bool base32_decode(std::string_view text, SecureBytes& out) { return decode_bits<5>(kBase32, text, out); }

SecureChars base64url_encode(const unsigned char* data, std::size_t n) { return encode_bits<6>(kBase64Url, data, n); }

bool base64url_decode(std::string_view text, SecureBytes& out) { return decode_bits<6>(kBase64Url, text, out); }

std::string percent_encode(std::string_view text, bool (*literal)(unsigned char))
{
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (literal(c)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(encode_digit(kHexUpper, c >> 4u));
            out.push_back(encode_digit(kHexUpper, c & 0x0fu));
        }
    }
    return out;
}

} // namespace twofactor
