// The otpauth:// URI that authenticator apps import (Google's "Key Uri
// Format"; twofactor-admin(8), docs/json.md). It carries the secret, so it
// is built in a wiping buffer and only ever goes to standard output.
#pragma once

#include "secure_memory.hpp"
#include "totp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor::cli {

// RFC 3986 percent-encoding: unreserved characters stay, every other byte
// becomes %XX (a space is %20, never '+', which apps would show literally).
std::string percent_encode(std::string_view text);

// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
// The issuer is repeated as a parameter because newer apps read it from
// there and older ones from the label prefix. With `hotp_counter`:
// otpauth://hotp/...&digits=6&counter=N (no period).
SecureChars otpauth_uri(std::string_view issuer, std::string_view account, const SecureBytes& secret,
                        const TotpParams& params, std::optional<std::uint64_t> hotp_counter = std::nullopt);

// "SHA1", "SHA256", "SHA512": the spelling the URI format uses.
const char* uri_algorithm(TotpAlgorithm algorithm);

} // namespace twofactor::cli
