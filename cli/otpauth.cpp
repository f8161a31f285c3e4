#include "otpauth.hpp"

#include "codec.hpp"

namespace twofactor::cli {

std::string percent_encode(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
            || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xf]);
        }
    }
    return out;
}

const char* uri_algorithm(TotpAlgorithm algorithm)
{
    switch (algorithm) {
    case TotpAlgorithm::sha1:
        return "SHA1";
    case TotpAlgorithm::sha256:
        return "SHA256";
    case TotpAlgorithm::sha512:
        return "SHA512";
    }
    return "SHA1";
}

SecureChars otpauth_uri(std::string_view issuer, std::string_view account, const SecureBytes& secret,
                        const TotpParams& params, std::optional<std::uint64_t> hotp_counter)
{
    const std::string encoded_issuer = percent_encode(issuer);
    SecureChars uri;
    const auto add = [&uri](std::string_view s) { uri.insert(uri.end(), s.begin(), s.end()); };
    // Reserve once: growing would leave copies of the secret behind (wiped
    // by the allocator, but there is no need for them at all).
    uri.reserve(64 + 2 * encoded_issuer.size() + 3 * account.size() + 2 * secret.size());
    add(hotp_counter ? "otpauth://hotp/" : "otpauth://totp/");
    add(encoded_issuer);
    add(":"); // the label separator stays literal; a ':' in the issuer is refused by the config
    add(percent_encode(account));
    add("?secret=");
    const SecureChars b32 = base32_encode(secret);
    add(view(b32));
    add("&issuer=");
    add(encoded_issuer);
    add("&algorithm=");
    add(uri_algorithm(params.algorithm));
    add("&digits=");
    add(std::to_string(params.digits));
    if (hotp_counter) {
        add("&counter=");
        add(std::to_string(*hotp_counter));
    } else {
        add("&period=");
        add(std::to_string(params.period));
    }
    return uri;
}

} // namespace twofactor::cli
