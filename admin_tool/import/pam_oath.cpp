// A pam_oath users file (liboath's usersfile): one token per line,
// `TYPE USER PASSWORD HEXSECRET [COUNTER [LAST-OTP [TIME]]]`, TYPE one of
// HOTP, HOTP/E, HOTP/E/D, HOTP/T30, HOTP/T60, HOTP/T30/D, HOTP/T60/D (D the
// digits, 6-8). Blank lines and lines starting with '#' are skipped.
#include "imported_user.hpp"

#include "codec.hpp"
#include "totp.hpp"

#include <ctime>

namespace twofactor::admin {
namespace {

// How far from a line's TIME its LAST-OTP is searched for: pam_oath's
// window= is rarely above 20 steps.
constexpr std::uint64_t kLastOtpSearch = 64;

// TYPE: (kind, period, digits), or false if it is none of liboath's types.
bool parse_type(std::string_view type, ImportedUser& u)
{
    std::string_view rest;
    if (type == "HOTP" || type == "HOTP/E") {
        u.kind = ImportedUser::Kind::hotp;
        return true;
    }
    if (type.substr(0, 7) == "HOTP/E/") {
        u.kind = ImportedUser::Kind::hotp;
        rest = type.substr(7);
    } else if (type.substr(0, 8) == "HOTP/T30" || type.substr(0, 8) == "HOTP/T60") {
        u.kind = ImportedUser::Kind::totp;
        u.params.period = type[6] == '3' ? 30 : 60;
        if (type.size() == 8)
            return true;
        if (type[8] != '/')
            return false;
        rest = type.substr(9);
    } else {
        return false;
    }
    if (rest != "6" && rest != "7" && rest != "8")
        return false;
    u.params.digits = static_cast<unsigned>(rest[0] - '0');
    return true;
}

// liboath writes the time of the last login in local time.
std::optional<std::int64_t> parse_local_time(std::string_view text)
{
    const std::string s(text);
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SL", &tm);
    if (end == nullptr || *end != '\0')
        return std::nullopt;
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1))
        return std::nullopt;
    return static_cast<std::int64_t>(t);
}

// The step whose code is `last_otp`, nearest after TIME's step (the latest
// one if several match), or nullopt if none near it does.
std::optional<std::uint64_t> spent_step(const ImportedUser& u, std::string_view last_otp, std::int64_t at)
{
    if (at < 0)
        return std::nullopt;
    const std::uint64_t step = static_cast<std::uint64_t>(at) / u.params.period;
    const std::uint64_t first = step > kLastOtpSearch ? step - kLastOtpSearch : 0;
    std::optional<std::uint64_t> found;
    for (std::uint64_t s = first; s <= step + kLastOtpSearch; ++s) {
        const SecureChars code = totp_generate(u.secret, u.params, static_cast<std::int64_t>(s * u.params.period));
        if (view(code) == last_otp)
            found = s;
    }
    return found;
}

ImportedUser parse_line(const std::vector<std::string_view>& f, unsigned n, const std::string& path)
{
    if (f.size() < 4 || f.size() > 7)
        throw SourceError(n, "expected TYPE USER PASSWORD SECRET [COUNTER [LAST-OTP [TIME]]]");
    ImportedUser u;
    u.origin = path + ":" + std::to_string(n);
    if (!parse_type(f[0], u))
        throw SourceError(n, "unknown token type (HOTP, HOTP/E, HOTP/T30, HOTP/T60, with /6, /7 or /8)");
    u.user = std::string(f[1]);
    if (f[3].size() % 2 != 0 || f[3].empty())
        throw SourceError(n, "the secret is not hex");
    u.secret.resize(f[3].size() / 2);
    if (!from_hex(f[3], u.secret.data(), u.secret.size()))
        throw SourceError(n, "the secret is not hex");
    std::uint64_t counter = 0;
    if (f.size() >= 5) {
        const auto c = parse_decimal(f[4]);
        if (!c)
            throw SourceError(n, "the counter is not a number");
        counter = *c;
    }
    std::optional<std::int64_t> at;
    if (f.size() == 7) {
        at = parse_local_time(f[6]);
        if (!at)
            throw SourceError(n, "the time is not YYYY-MM-DDTHH:MM:SSL");
    }
    if (f.size() >= 6 && !parse_decimal(f[5]))
        throw SourceError(n, "the last code is not a number");

    // A password (or '+', "checked elsewhere", which we cannot see) is a
    // first factor: we do not take it over.
    if (f[2] != "-")
        u.refused = "the line has a password field ('" + std::string(f[2] == "+" ? "+" : "...")
            + "'): twofactor does not take over first factors; keep pam_oath for this user or remove the "
              "password from the line";

    if (u.kind == ImportedUser::Kind::hotp) {
        // liboath keeps the counter of the last code used next to that code.
        u.counter = f.size() >= 6 ? counter + 1 : counter;
    } else if (f.size() >= 6 && u.refused.empty()) {
        if (!at)
            throw SourceError(n, "a last code without its time");
        u.last_step = spent_step(u, f[5], *at);
        if (!u.last_step)
            u.refused = "its last code matches no time step near its time (a clock or time zone change?): "
                        "cannot tell which steps were spent";
    }
    return u;
}

} // namespace

std::vector<ImportedUser> parse_pam_oath(std::string_view text, const std::string& path)
{
    std::vector<ImportedUser> users;
    for_each_record(
        text, [&](unsigned n, const std::vector<std::string_view>& f) { users.push_back(parse_line(f, n, path)); });
    return users;
}

} // namespace twofactor::admin
