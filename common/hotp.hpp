// HOTP (RFC 4226) over liboath: event-based one-time passwords of hardware
// tokens (a YubiKey's OATH-HOTP slot, pam_oath's HOTP users). The caller
// stores the next expected counter; a code matched at counter C moves it to
// C + 1, so no code is ever accepted twice.
#pragma once

#include "secure_memory.hpp"
#include "totp.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace twofactor {

// The largest counter stored (liboath takes the moving factor as a time_t).
inline constexpr std::uint64_t kMaxHotpCounter = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
// How far ahead `twofactor-admin resync` looks for two consecutive codes.
inline constexpr unsigned kHotpResyncWindow = 100;

// The code for `counter` (params.period is not used).
SecureChars hotp_generate(const SecureBytes& secret, const TotpParams& params, std::uint64_t counter);

// The first counter in counter..counter+window whose code equals `code`, or
// nullopt. Every candidate is generated and compared in constant time,
// whether or not an earlier one matched, so the time taken does not tell
// where (or whether) the code matched. Throws CryptoError if liboath fails.
std::optional<std::uint64_t> hotp_find(const SecureBytes& secret, const TotpParams& params, std::uint64_t counter,
                                       unsigned window, std::string_view code);

// The counter C in counter..counter+kHotpResyncWindow with code(C) == first
// and code(C + 1) == second, or nullopt.
std::optional<std::uint64_t> hotp_resync(const SecureBytes& secret, const TotpParams& params, std::uint64_t counter,
                                         std::string_view first, std::string_view second);

} // namespace twofactor
