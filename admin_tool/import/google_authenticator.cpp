// A ~/.google_authenticator file as google-authenticator(1) writes it: the
// base32 secret on the first line, then option lines starting with `" `,
// then one 8-digit scratch code per line (docs/moving.md).
#include "imported_user.hpp"

#include <algorithm>

namespace twofactor::admin {
namespace {

bool is_scratch_code(std::string_view line)
{
    return line.size() == 8 && std::all_of(line.begin(), line.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::uint64_t number(const std::vector<std::string_view>& f, std::size_t i, unsigned line, const char* option)
{
    const auto n = i < f.size() ? parse_decimal(f[i]) : std::nullopt;
    if (!n)
        throw SourceError(line, std::string("\" ") + option + ": expected a number");
    return *n;
}

} // namespace

ImportedUser parse_google_authenticator(std::string_view text, const std::string& path)
{
    ImportedUser u;
    u.origin = path;
    bool totp_auth = false;
    bool hotp = false;
    bool disallow_reuse = false;
    for_each_line(text, [&](unsigned n, std::string_view line) {
        if (!line.empty() && line.back() == '\r')
            throw SourceError(n, "carriage return at the end of the line");
        if (n == 1) {
            if (!decode_base32_loose(line, u.secret))
                throw SourceError(n, "the first line is not a base32 secret");
            return;
        }
        if (line.empty())
            return;
        if (is_scratch_code(line)) {
            const SecureChars code = to_secure(line);
            // A code written twice is still one code: it works once.
            if (std::find(u.scratch_codes.begin(), u.scratch_codes.end(), code) == u.scratch_codes.end())
                u.scratch_codes.push_back(code);
            return;
        }
        if (line.size() < 2 || line[0] != '"' || line[1] != ' ')
            throw SourceError(n, "neither an option line (\" NAME) nor an 8-digit scratch code");
        const std::vector<std::string_view> f = split_fields(line.substr(2));
        if (f.empty())
            throw SourceError(n, "empty option line");
        const std::string option(f[0]);
        if (option == "TOTP_AUTH" && f.size() == 1) {
            totp_auth = true;
        } else if (option == "HOTP_COUNTER" && f.size() == 2) {
            hotp = true;
            u.counter = number(f, 1, n, "HOTP_COUNTER");
        } else if (option == "STEP_SIZE" && f.size() == 2) {
            const std::uint64_t step = number(f, 1, n, "STEP_SIZE");
            if (step < 1 || step > 3600)
                throw SourceError(n, "\" STEP_SIZE: out of range (1-3600 seconds)");
            u.params.period = static_cast<unsigned>(step);
        } else if (option == "WINDOW_SIZE" && f.size() == 2) {
            (void)number(f, 1, n, "WINDOW_SIZE");
            u.dropped.push_back("WINDOW_SIZE (twofactor.conf's window applies)");
        } else if (option == "DISALLOW_REUSE") {
            disallow_reuse = true;
            for (std::size_t i = 1; i < f.size(); ++i) {
                const std::uint64_t step = number(f, i, n, "DISALLOW_REUSE");
                u.last_step = std::max(u.last_step.value_or(0), step);
            }
        } else if (option == "RATE_LIMIT" && f.size() >= 3) {
            for (std::size_t i = 1; i < f.size(); ++i)
                (void)number(f, i, n, "RATE_LIMIT");
            u.dropped.push_back("RATE_LIMIT (twofactor's lockout applies: max_failures, lockout_seconds)");
        } else if ((option == "TIME_SKEW" || option == "RESETTING_TIME_SKEW") && f.size() >= 2) {
            u.dropped.push_back(option + " (twofactor.conf's window applies)");
        } else {
            throw SourceError(n, "unknown or malformed option \"" + option + "\"");
        }
    });
    if (u.secret.empty())
        throw SourceError(1, "no secret");
    if (totp_auth && hotp)
        throw SourceError(0, "both TOTP_AUTH and HOTP_COUNTER");
    if (hotp) {
        u.kind = ImportedUser::Kind::hotp;
        u.last_step.reset();
    } else if (!disallow_reuse) {
        u.dropped.push_back("reuse of a code was allowed (twofactor always refuses a spent step)");
    }
    return u;
}

} // namespace twofactor::admin
