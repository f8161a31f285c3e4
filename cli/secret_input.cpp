#include "secret_input.hpp"

#include "operation_failed.hpp"
#include "terminal.hpp"

#include "codec.hpp"

namespace twofactor::cli {

namespace {

constexpr std::size_t kMinSecretBytes = 10;
constexpr std::size_t kMaxSecretBytes = 128;

} // namespace

std::optional<SecretFormat> parse_secret_format(std::string_view name)
{
    if (name == "hex")
        return SecretFormat::hex;
    if (name == "base32")
        return SecretFormat::base32;
    return std::nullopt;
}

SecureBytes decode_secret_text(std::string_view text, SecretFormat format)
{
    SecureChars clean;
    clean.reserve(text.size());
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        if (format == SecretFormat::base32 && c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        clean.push_back(c);
    }
    if (format == SecretFormat::base32)
        while (!clean.empty() && clean.back() == '=')
            clean.pop_back();
    SecureBytes secret;
    bool ok = false;
    if (format == SecretFormat::hex) {
        secret.assign(clean.size() / 2, 0);
        ok = clean.size() % 2 == 0 && from_hex(view(clean), secret.data(), secret.size());
    } else {
        ok = base32_decode(view(clean), secret);
    }
    if (!ok)
        throw OperationFailed(std::string("the secret on standard input is not ")
                              + (format == SecretFormat::hex ? "hex" : "base32") + "; nothing stored");
    if (secret.size() < kMinSecretBytes || secret.size() > kMaxSecretBytes)
        throw OperationFailed("the secret on standard input has " + std::to_string(secret.size())
                              + " bytes; 10 to 128 are accepted; nothing stored");
    return secret;
}

SecureBytes read_secret(SecretFormat format)
{
    const std::optional<SecureChars> line = read_line("Secret of the token: ", Prompt::terminal_only, true);
    if (!line)
        throw OperationFailed("no secret on standard input; nothing stored");
    return decode_secret_text(view(*line), format);
}

} // namespace twofactor::cli
