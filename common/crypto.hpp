// Thin wrappers over OpenSSL: randomness, scrypt, constant-time compare.
// Every failure throws CryptoError; nothing here ever reports a false match.
#pragma once

#include "secure_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
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

// Lower-case hex (for hashes and salts, which are not secret on their own).
std::string to_hex(const unsigned char* data, std::size_t n);
// Returns false on odd length or a non-hex digit.
bool from_hex(std::string_view hex, unsigned char* out, std::size_t out_len);

// RFC 4648 base32, upper case, no padding (what authenticator apps take).
SecureChars base32_encode(const SecureBytes& data);
// Accepts upper or lower case, no padding, no spaces. Returns false if malformed.
bool base32_decode(std::string_view text, SecureBytes& out);

} // namespace twofactor
