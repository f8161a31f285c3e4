// Thin wrappers over OpenSSL: randomness, scrypt, constant-time compare.
// Every failure throws CryptoError; nothing here ever reports a false match.
#pragma once

#include "secure_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace twofactor {

struct ScryptParams {
    unsigned log2_n = 14; // N = 2^log2_n
    std::uint32_t r = 8;
    std::uint32_t p = 1;
    bool operator==(const ScryptParams& o) const { return log2_n == o.log2_n && r == o.r && p == o.p; }
};

SecureBytes random_bytes(std::size_t n);

// A uniformly distributed integer in [0, bound), by rejection sampling over
// random bytes (no modulo bias). bound must be in [1, 256].
unsigned random_below(unsigned bound);

constexpr std::size_t kDerivedKeyLength = 32;

// scrypt(password, salt) -> 32 bytes. Counts evaluations (for tests and the
// benchmark's "one KDF per attempt" check).
SecureBytes scrypt_derive(std::string_view password, const unsigned char* salt, std::size_t salt_len,
                          const ScryptParams& params);
std::uint64_t scrypt_evaluations();

bool ct_equal(const unsigned char* a, const unsigned char* b, std::size_t n);

} // namespace twofactor
