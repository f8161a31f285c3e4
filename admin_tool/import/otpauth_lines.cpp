// Lines `USER otpauth://TYPE/LABEL?PARAMETERS` (Google's Key Uri Format):
// TYPE totp or hotp; the parameters secret (base32, padded or not), issuer,
// algorithm, digits, counter (hotp) and period (totp). Blank lines and
// lines starting with '#' are skipped.
#include "imported_user.hpp"

#include "codec.hpp"

#include <algorithm>
#include <cctype>

namespace twofactor::admin {
namespace {

// RFC 3986 percent-decoding into a wiping buffer (the secret goes through it).
std::optional<SecureChars> percent_decode(std::string_view text)
{
    SecureChars out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size())
            return std::nullopt;
        unsigned char byte = 0;
        if (!from_hex(text.substr(i + 1, 2), &byte, 1))
            return std::nullopt;
        out.push_back(static_cast<char>(byte));
        i += 2;
    }
    return out;
}

std::string upper(std::string_view text)
{
    std::string s(text);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

void set_parameter(ImportedUser& u, const std::string& name, const SecureChars& value, unsigned n,
                   std::optional<std::uint64_t>& counter, bool& has_secret)
{
    const std::string_view v = view(value);
    if (name == "secret") {
        if (!decode_base32_loose(v, u.secret))
            throw SourceError(n, "secret: not base32");
        has_secret = true;
    } else if (name == "issuer") {
        // Shown by the app; our state keeps no issuer, but it names the
        // authenticator when the user has several.
        u.label = std::string(v);
    } else if (name == "algorithm") {
        const auto algorithm = parse_totp_algorithm(upper(v) == "SHA1"         ? "sha1"
                                                        : upper(v) == "SHA256" ? "sha256"
                                                        : upper(v) == "SHA512" ? "sha512"
                                                                               : "");
        if (!algorithm)
            throw SourceError(n, "algorithm: expected SHA1, SHA256 or SHA512");
        u.params.algorithm = *algorithm;
    } else if (name == "digits") {
        const auto d = parse_decimal(v);
        if (!d || *d < 6 || *d > 8)
            throw SourceError(n, "digits: expected 6, 7 or 8");
        u.params.digits = static_cast<unsigned>(*d);
    } else if (name == "period") {
        const auto p = parse_decimal(v);
        if (!p || *p < 1 || *p > 3600)
            throw SourceError(n, "period: expected 1-3600 seconds");
        u.params.period = static_cast<unsigned>(*p);
    } else if (name == "counter") {
        counter = parse_decimal(v);
        if (!counter)
            throw SourceError(n, "counter: expected a number");
    } else {
        // Not in the Key Uri Format (an app's own, like image=): no app
        // computes codes with it.
        u.dropped.push_back("the parameter " + name);
    }
}

ImportedUser parse_uri(std::string_view user, std::string_view uri, unsigned n, const std::string& path)
{
    ImportedUser u;
    u.user = std::string(user);
    u.origin = path + ":" + std::to_string(n);
    constexpr std::string_view scheme = "otpauth://";
    if (uri.substr(0, scheme.size()) != scheme)
        throw SourceError(n, "expected USER otpauth://...");
    uri.remove_prefix(scheme.size());
    const std::size_t slash = uri.find('/');
    const std::string type = upper(uri.substr(0, slash));
    if (type == "TOTP")
        u.kind = ImportedUser::Kind::totp;
    else if (type == "HOTP")
        u.kind = ImportedUser::Kind::hotp;
    else
        throw SourceError(n, "the type is neither totp nor hotp");
    const std::size_t query = uri.find('?');
    if (slash == std::string_view::npos || query == std::string_view::npos || query < slash)
        throw SourceError(n, "expected otpauth://TYPE/LABEL?PARAMETERS");
    const auto label = percent_decode(uri.substr(slash + 1, query - slash - 1));
    if (!label)
        throw SourceError(n, "the label is not percent-encoded correctly");

    std::string_view params = uri.substr(query + 1);
    std::vector<std::string> seen;
    std::optional<std::uint64_t> counter;
    bool has_secret = false;
    while (!params.empty()) {
        const std::size_t amp = params.find('&');
        const std::string_view pair = params.substr(0, amp);
        params = amp == std::string_view::npos ? std::string_view() : params.substr(amp + 1);
        if (pair.empty())
            continue;
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos)
            throw SourceError(n, "a parameter without a value");
        const std::string name(pair.substr(0, eq));
        if (std::find(seen.begin(), seen.end(), name) != seen.end())
            throw SourceError(n, "the parameter " + name + " is given twice");
        seen.push_back(name);
        const auto value = percent_decode(pair.substr(eq + 1));
        if (!value)
            throw SourceError(n, "the parameter " + name + " is not percent-encoded correctly");
        set_parameter(u, name, *value, n, counter, has_secret);
    }
    if (!has_secret)
        throw SourceError(n, "no secret parameter");
    if (u.label.empty()) // LABEL is ISSUER:ACCOUNT or ACCOUNT
        u.label = std::string(view(*label).substr(0, view(*label).find(':')));
    if (u.kind == ImportedUser::Kind::hotp) {
        if (!counter)
            throw SourceError(n, "an hotp URI needs its counter parameter");
        u.counter = *counter;
    } else if (counter) {
        throw SourceError(n, "counter is for hotp URIs");
    }
    return u;
}

} // namespace

std::vector<ImportedUser> parse_otpauth_lines(std::string_view text, const std::string& path)
{
    std::vector<ImportedUser> users;
    for_each_record(text, [&](unsigned n, const std::vector<std::string_view>& f) {
        if (f.size() != 2)
            throw SourceError(n, "expected USER otpauth://...");
        users.push_back(parse_uri(f[0], f[1], n, path));
    });
    return users;
}

} // namespace twofactor::admin
