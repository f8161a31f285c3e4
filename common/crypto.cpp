#include "crypto.hpp"

#include "errors.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>

namespace twofactor {

namespace {
std::atomic<std::uint64_t> g_scrypt_evaluations{0};
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

} // namespace twofactor
