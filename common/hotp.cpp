#include "hotp.hpp"

#include <openssl/crypto.h>

namespace twofactor {

namespace {

bool same_code(const SecureChars& candidate, std::string_view code)
{
    return candidate.size() == code.size() && CRYPTO_memcmp(candidate.data(), code.data(), code.size()) == 0;
}

} // namespace

SecureChars hotp_generate(const SecureBytes& secret, const TotpParams& params, std::uint64_t counter)
{
    // TOTP is HOTP of floor((now - 0) / period): with a period of one
    // second, the "time" is the counter itself, for every algorithm.
    const TotpParams one_step{params.algorithm, params.digits, 1};
    return totp_generate(secret, one_step, static_cast<std::int64_t>(counter));
}

std::optional<std::uint64_t> hotp_find(const SecureBytes& secret, const TotpParams& params, std::uint64_t counter,
                                       unsigned window, std::string_view code)
{
    if (secret.empty() || !looks_like_totp(code, params) || counter > kMaxHotpCounter)
        return std::nullopt;
    std::optional<std::uint64_t> found;
    for (std::uint64_t i = 0; i <= window && counter + i <= kMaxHotpCounter; ++i) {
        const bool match = same_code(hotp_generate(secret, params, counter + i), code);
        if (match && !found)
            found = counter + i;
    }
    return found;
}

std::optional<std::uint64_t> hotp_resync(const SecureBytes& secret, const TotpParams& params, std::uint64_t counter,
                                         std::string_view first, std::string_view second)
{
    if (!looks_like_totp(first, params) || !looks_like_totp(second, params) || counter > kMaxHotpCounter)
        return std::nullopt;
    for (std::uint64_t i = 0; i <= kHotpResyncWindow && counter + i < kMaxHotpCounter; ++i)
        if (same_code(hotp_generate(secret, params, counter + i), first)
            && same_code(hotp_generate(secret, params, counter + i + 1), second))
            return counter + i;
    return std::nullopt;
}

} // namespace twofactor
