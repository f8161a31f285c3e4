// The body of pam_sm_authenticate (docs/module.md): read the options, get
// the user, check the state, ask for the code, let the core's Verifier
// decide, and map its verdict to a PAM return code, a message and one log
// line. It may throw; pam_entry.cpp, its only caller, turns any exception
// into a PAM error.
#pragma once

#include <security/pam_modules.h>

namespace twofactor::pam {

// Requested with pam_fail_delay on every failure; libpam applies the longest
// delay any module asked for, and only if the whole stack fails.
inline constexpr unsigned kFailDelayMicroseconds = 2'000'000;

int authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv);

// pam_fail_delay, then `status`; for every failing return path.
int fail(pam_handle_t* pamh, int status) noexcept;

} // namespace twofactor::pam
