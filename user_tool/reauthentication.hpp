// Proves that the person at the terminal owns the account before anything
// changes: the PAM service "twofactor" (/etc/pam.d/twofactor: the password,
// then the current second factor) with a conversation on standard input
// (hidden on a terminal) and standard error. An unlocked terminal alone is
// not enough. Must run with root's uids (Privileged: pam_unix reads shadow,
// pam_twofactor the state store, and the caller may not stop the process).
#pragma once

#include <string>

namespace twofactor::self_service {

inline constexpr const char* kPamService = "twofactor";
inline constexpr const char* kPamServiceFile = "/etc/pam.d/twofactor";

struct Reauthentication {
    bool passed = false;
    std::string audit_reason; // fixed words for the audit line ("reason=...")
    std::string message;      // for the user, when it did not pass
};

// `tty` ("" if none) becomes PAM_TTY. The service file must exist: without
// it libpam would fall back to "other", which need not ask for a second
// factor.
Reauthentication reauthenticate(const std::string& user, const std::string& tty);

} // namespace twofactor::self_service
