#include "crypto.hpp"

#include "errors.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>

namespace twofactor {

namespace {
std::atomic<std::uint64_t> g_scrypt_evaluations{0};
constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
} // namespace

SecureBytes random_bytes(std::size_t n)
{
    SecureBytes out(n);
    if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1)
        throw CryptoError("random number generator failed");
    return out;
}

unsigned random_below(unsigned bound)
{
    if (bound == 0 || bound > 256)
        throw CryptoError("random_below: bound out of range");
    // Accept only bytes below the largest multiple of bound that fits in a byte.
    const unsigned limit = 256 - (256 % bound);
    for (;;) {
        SecureBytes b = random_bytes(16);
        for (unsigned char c : b)
            if (c < limit)
                return c % bound;
    }
}

SecureBytes scrypt_derive(std::string_view password, const unsigned char* salt, std::size_t salt_len,
                          const ScryptParams& params)
{
    if (params.log2_n < 1 || params.log2_n > 30)
        throw CryptoError("scrypt: cost out of range");
    SecureBytes out(kDerivedKeyLength);
    const std::uint64_t n = std::uint64_t{1} << params.log2_n;
    // maxmem: 128 * N * r * p plus slack; OpenSSL's default cap (32 MiB) would
    // refuse parameters above the default cost.
    const std::uint64_t maxmem = 128ULL * n * params.r * (params.p + 1) + (1ULL << 20);
    g_scrypt_evaluations.fetch_add(1, std::memory_order_relaxed);
    if (EVP_PBE_scrypt(password.data(), password.size(), salt, salt_len, n, params.r, params.p, maxmem, out.data(),
                       out.size())
        != 1)
        throw CryptoError("scrypt failed");
    return out;
}

std::uint64_t scrypt_evaluations() { return g_scrypt_evaluations.load(std::memory_order_relaxed); }

bool ct_equal(const unsigned char* a, const unsigned char* b, std::size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

std::string to_hex(const unsigned char* data, std::size_t n)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0x0f]);
    }
    return out;
}

namespace {
int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
} // namespace

bool from_hex(std::string_view hex, unsigned char* out, std::size_t out_len)
{
    if (hex.size() != out_len * 2)
        return false;
    for (std::size_t i = 0; i < out_len; ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = static_cast<unsigned char>((hi << 4) | lo);
    }
    return true;
}

SecureChars base32_encode(const SecureBytes& data)
{
    SecureChars out;
    out.reserve((data.size() * 8 + 4) / 5);
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char c : data) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 5) {
            out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 0x1f]);
            bits -= 5;
        }
    }
    if (bits > 0)
        out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1f]);
    wipe(&buffer, sizeof buffer); // held secret bits; a plain store would be optimized away
    return out;
}

bool base32_decode(std::string_view text, SecureBytes& out)
{
    out.clear();
    out.reserve(text.size() * 5 / 8);
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        else
            return false;
        buffer = ((buffer << 5) | static_cast<unsigned>(v)) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<unsigned char>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    // Leftover bits must be zero padding of fewer than 5 bits (canonical form).
    const bool canonical = bits < 5 && (buffer & ((1u << bits) - 1)) == 0;
    wipe(&buffer, sizeof buffer);
    return canonical;
}

} // namespace twofactor
