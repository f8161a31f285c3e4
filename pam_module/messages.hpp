// What the module tells the user, in one place: the lockout notice and the
// remaining-codes messages after a backup-code login (pam_twofactor(8)).
// Plain sentences; the tests assert them word for word.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace twofactor::pam {

// The prompt when forward_pass asks for password and code in one answer.
inline constexpr const char* kForwardPassPrompt = "Password & verification code: ";

// "Too many failed verification codes; try again in N minutes." N is rounded
// up and at least 1, so the user never comes back too early.
std::string lockout_message(std::int64_t locked_until, std::int64_t now);

// After a backup-code login: how many remain; a warning when `warn_remaining`
// or fewer remain; a plain notice when none remain. One message per element,
// each sent as its own PAM_TEXT_INFO.
std::vector<std::string> backup_code_messages(std::size_t remaining, std::size_t total, unsigned warn_remaining);

} // namespace twofactor::pam
