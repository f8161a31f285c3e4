// TOTP (RFC 6238) over liboath. Verification returns the time step it
// matched, so the caller can refuse a replay of that step or any earlier one.
// Codes are compared in constant time through liboath's callback interface.
#pragma once

#include "secure_memory.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace twofactor {

enum class TotpAlgorithm { sha1, sha256, sha512 };

const char* to_string(TotpAlgorithm algorithm);
std::optional<TotpAlgorithm> parse_totp_algorithm(std::string_view name);
// Secret length for a new key: 20 / 32 / 64 bytes.
std::size_t totp_secret_length(TotpAlgorithm algorithm);

struct TotpParams {
    TotpAlgorithm algorithm = TotpAlgorithm::sha1;
    unsigned digits = 6;  // 6..8
    unsigned period = 30; // seconds
};

// Is `code` shaped like a TOTP code for these parameters (exactly `digits` digits)?
bool looks_like_totp(std::string_view code, const TotpParams& params);

// The step whose code equals `code`, searching now-window..now+window, or
// nullopt. Throws CryptoError if liboath fails for another reason.
std::optional<std::uint64_t> totp_verify(const SecureBytes& secret, const TotpParams& params, std::int64_t now,
                                         unsigned window, std::string_view code);

// The code for the step containing `now` (enrolment confirmation, tests).
SecureChars totp_generate(const SecureBytes& secret, const TotpParams& params, std::int64_t now);

} // namespace twofactor
