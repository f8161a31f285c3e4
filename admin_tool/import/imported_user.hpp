// What `twofactor-admin import` reads from another tool's files, before it
// becomes a UserState: one user's one-time-password token, scratch codes
// and the settings that came with them (docs/moving.md). The parsers of
// google-authenticator files, pam_oath users files and otpauth lines fill
// it; to_user_state() (to_state.hpp) is the one place that turns it into
// our state.
#pragma once

#include "secure_memory.hpp"
#include "totp.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor::admin {

struct ImportedUser {
    enum class Kind { totp, hotp };

    std::string user;   // empty: the source file's owner (google-authenticator)
    std::string origin; // "FILE:LINE" (or "FILE"), for messages
    Kind kind = Kind::totp;
    SecureBytes secret;
    TotpParams params;                      // digits and algorithm; the period for TOTP
    std::uint64_t counter = 0;              // HOTP: the next counter value
    std::optional<std::uint64_t> last_step; // TOTP: steps <= this were spent
    std::vector<SecureChars> scratch_codes; // 8 digits each
    // otpauth: the issuer, else the label's issuer prefix, else the label;
    // names the authenticator when a user has several (user_tokens.hpp).
    std::string label;
    // Why this user cannot be imported though the file is well formed (a
    // password field in a pam_oath line); empty if it can.
    std::string refused;
    // Settings of the old tool that are not carried over, for the output.
    std::vector<std::string> dropped;
};

// A source file that is not what it claims to be: nothing is imported from
// it. `line` is 0 for the file as a whole.
class SourceError : public std::runtime_error {
public:
    SourceError(unsigned line, const std::string& message) : std::runtime_error(message), line_(line) {}
    unsigned line() const { return line_; }

private:
    unsigned line_;
};

// Base32 as people and other tools write it: upper or lower case, with or
// without '=' padding, unused bits of the last character ignored (apps
// ignore them too). False if anything else is in `text`.
bool decode_base32_loose(std::string_view text, SecureBytes& out);

// The sources; each throws SourceError. `path` only names lines in
// `origin`. The text is the whole file.
ImportedUser parse_google_authenticator(std::string_view text, const std::string& path);
std::vector<ImportedUser> parse_pam_oath(std::string_view text, const std::string& path);
std::vector<ImportedUser> parse_otpauth_lines(std::string_view text, const std::string& path);

// Splits `text` into lines (a last line without '\n' counts); calls
// f(line_number, line) for each, numbering from 1.
template <typename F>
void for_each_line(std::string_view text, F&& f)
{
    unsigned number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        f(++number, line);
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
}

// Whitespace-separated fields of a line (spaces and tabs).
std::vector<std::string_view> split_fields(std::string_view line);

// The lines of a list file (a users file, otpauth lines) as fields:
// f(line_number, fields) for each line that is neither blank nor a comment
// ('#' first); a '\r' before the newline is dropped.
template <typename F>
void for_each_record(std::string_view text, F&& f)
{
    for_each_line(text, [&](unsigned n, std::string_view line) {
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        const std::vector<std::string_view> fields = split_fields(line);
        if (!fields.empty() && fields[0].front() != '#')
            f(n, fields);
    });
}

// A decimal number with no sign, no leading '+', the whole token.
std::optional<std::uint64_t> parse_decimal(std::string_view token);

} // namespace twofactor::admin
