#include "totp.hpp"

#include "errors.hpp"

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include <array>
#include <cstring>
#include <mutex>

namespace twofactor {

namespace {

void ensure_oath_initialised()
{
    static std::once_flag once;
    static int result = OATH_OK;
    std::call_once(once, [] { result = oath_init(); });
    if (result != OATH_OK)
        throw CryptoError("liboath initialisation failed");
}

int oath_flags(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::sha1:
        return 0;
    case TotpAlgorithm::sha256:
        return OATH_TOTP_HMAC_SHA256;
    case TotpAlgorithm::sha512:
        return OATH_TOTP_HMAC_SHA512;
    }
    return 0;
}

struct TypedCode {
    std::string_view code;
};

// liboath's strcmp-like callback: 0 on match, positive on mismatch. The
// length is not secret (it is fixed by `digits`); the digits are compared in
// constant time.
int constant_time_compare(void* handle, const char* candidate)
{
    const auto* typed = static_cast<const TypedCode*>(handle);
    if (std::strlen(candidate) != typed->code.size())
        return 1;
    return CRYPTO_memcmp(candidate, typed->code.data(), typed->code.size()) == 0 ? 0 : 1;
}

} // namespace

const char* to_string(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::sha1:
        return "sha1";
    case TotpAlgorithm::sha256:
        return "sha256";
    case TotpAlgorithm::sha512:
        return "sha512";
    }
    return "sha1";
}

std::optional<TotpAlgorithm> parse_totp_algorithm(std::string_view name)
{
    if (name == "sha1")
        return TotpAlgorithm::sha1;
    if (name == "sha256")
        return TotpAlgorithm::sha256;
    if (name == "sha512")
        return TotpAlgorithm::sha512;
    return std::nullopt;
}

std::size_t totp_secret_length(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::sha1:
        return 20;
    case TotpAlgorithm::sha256:
        return 32;
    case TotpAlgorithm::sha512:
        return 64;
    }
    return 20;
}

bool looks_like_totp(std::string_view code, const TotpParams& params)
{
    if (code.size() != params.digits)
        return false;
    for (char c : code)
        if (c < '0' || c > '9')
            return false;
    return true;
}

std::optional<std::uint64_t> totp_verify(const SecureBytes& secret, const TotpParams& params, std::int64_t now,
                                         unsigned window, std::string_view code)
{
    if (secret.empty() || !looks_like_totp(code, params) || params.period == 0 || now < 0)
        return std::nullopt;
    ensure_oath_initialised();
    TypedCode typed{code};
    std::uint64_t counter = 0;
    int position = 0;
    const int rc = oath_totp_validate4_callback(
        reinterpret_cast<const char*>(secret.data()), secret.size(), static_cast<time_t>(now), params.period, 0,
        params.digits, window, &position, &counter, oath_flags(params.algorithm), constant_time_compare, &typed);
    if (rc >= 0)
        return counter;
    if (rc == OATH_INVALID_OTP)
        return std::nullopt;
    throw CryptoError(std::string("TOTP validation failed: ") + oath_strerror_name(rc));
}

SecureChars totp_generate(const SecureBytes& secret, const TotpParams& params, std::int64_t now)
{
    ensure_oath_initialised();
    std::array<char, 16> buffer{};
    const int rc
        = oath_totp_generate2(reinterpret_cast<const char*>(secret.data()), secret.size(), static_cast<time_t>(now),
                              params.period, 0, params.digits, oath_flags(params.algorithm), buffer.data());
    if (rc != OATH_OK)
        throw CryptoError(std::string("TOTP generation failed: ") + oath_strerror_name(rc));
    SecureChars out(buffer.data(), buffer.data() + std::strlen(buffer.data()));
    OPENSSL_cleanse(buffer.data(), buffer.size());
    return out;
}

} // namespace twofactor
