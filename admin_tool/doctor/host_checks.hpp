// The checks of the host that are not PAM or sshd: the clock against the
// TOTP window, which accounts can log in without being enrolled, and whether
// secrets are sealed at rest. Pure:
// the doctor command reads adjtimex(2), the user database and the store.
#pragma once

#include "finding.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace twofactor::doctor {

// The kernel's view of its clock (ntp_adjtime with no change).
struct ClockReading {
    bool synchronised = false;     // an NTP daemon disciplines it (no STA_UNSYNC)
    std::int64_t est_error_us = 0; // estimated error
    std::int64_t max_error_us = 0; // maximum error
};

// Check "clock": TOTP accepts codes within window x period seconds.
Finding check_clock(const ClockReading& clock, unsigned window, unsigned period);

// Can this account log in with a password? A login shell (listed in
// /etc/shells, not nologin or false) and a password field that is not
// locked ("!...") or disabled ("*..."). An empty field is a login without
// a password: counted as able to log in.
bool has_login_shell(const std::string& shell, const std::vector<std::string>& shells);
bool has_password(const std::string& password_field);

// Check "coverage": the accounts that can log in and are not enrolled.
Finding check_unenrolled(const std::vector<std::string>& unenrolled, bool nullok);

// Check "secrets" without a key file (docs/secrets.md): PostgreSQL refuses
// new secrets then, the file store keeps them in clear.
Finding check_no_secret_key(bool postgresql, const std::string& key_file);
// Check "secrets" with a key file: how many stored secrets are in clear.
Finding check_sealed(const std::string& key_file, std::size_t sealed, std::size_t clear);

} // namespace twofactor::doctor
