#include "host_checks.hpp"

#include <algorithm>

namespace twofactor::doctor {

namespace {

std::string seconds(std::int64_t us)
{
    const std::int64_t ms = us / 1000;
    return ms < 10000 ? std::to_string(ms) + " ms" : std::to_string(ms / 1000) + " s";
}

std::string joined(const std::vector<std::string>& names, std::size_t at_most)
{
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < at_most; ++i)
        out += (i ? ", " : "") + names[i];
    if (names.size() > at_most)
        out += " and " + std::to_string(names.size() - at_most) + " more";
    return out;
}

} // namespace

Finding check_clock(const ClockReading& clock, unsigned window, unsigned period)
{
    const std::int64_t tolerance_us = static_cast<std::int64_t>(window) * period * 1000000;
    const std::string tolerated
        = "codes are accepted within " + std::to_string(window) + " x " + std::to_string(period) + " s of this clock";
    if (!clock.synchronised)
        return {Level::warn, "clock",
                "not synchronised (the kernel reports STA_UNSYNC; maximum error " + seconds(clock.max_error_us) + "); "
                    + tolerated,
                "run a time daemon (systemd-timesyncd, chrony or ntpd): a clock that drifts refuses right codes"};
    if (clock.est_error_us > tolerance_us)
        return {Level::fail, "clock",
                "synchronised, but the estimated error is " + seconds(clock.est_error_us) + "; " + tolerated,
                "check the time daemon and its servers"};
    return {Level::ok, "clock",
            "synchronised, estimated error " + seconds(clock.est_error_us) + " (at most " + seconds(clock.max_error_us)
                + "); " + tolerated,
            ""};
}

bool has_login_shell(const std::string& shell, const std::vector<std::string>& shells)
{
    if (shell.empty())
        return false; // login(1) would use /bin/sh; a service account, by convention
    const std::string base = shell.substr(shell.rfind('/') + 1);
    if (base == "nologin" || base == "false")
        return false;
    return std::find(shells.begin(), shells.end(), shell) != shells.end();
}

bool has_password(const std::string& password_field)
{
    return password_field.empty() || (password_field.front() != '!' && password_field.front() != '*');
}

Finding check_unenrolled(const std::vector<std::string>& unenrolled, bool nullok)
{
    if (unenrolled.empty())
        return {Level::ok, "coverage", "every account with a login shell and a password is enrolled", ""};
    const std::string who = std::to_string(unenrolled.size()) + " account"
        + (unenrolled.size() == 1 ? " has" : "s have")
        + " a login shell and a password but no second factor: " + joined(unenrolled, 10);
    if (nullok)
        return {Level::warn, "coverage", who + " (nullok: they log in with the password alone)",
                "enrol them: twofactor-admin enroll USER"};
    return {Level::warn, "coverage", who + " (without nullok they are denied at every login that asks a code)",
            "enrol them (twofactor-admin enroll USER), or lock their password if they should not log in"};
}

Finding check_no_secret_key(bool postgresql, const std::string& key_file)
{
    if (postgresql)
        return {Level::warn, "secrets",
                "no secret key file " + key_file
                    + ": enrolling a secret to PostgreSQL is refused, and secrets from before stay in clear",
                "twofactor-admin key init, copy " + key_file + " to every host, then twofactor-admin key rotate"};
    return {Level::ok, "secrets",
            "no secret key file " + key_file
                + ": secrets are stored in clear ('twofactor-admin key init' seals them, docs/secrets.md)",
            ""};
}

Finding check_sealed(const std::string& key_file, std::size_t sealed, std::size_t clear)
{
    if (clear > 0)
        return {Level::warn, "secrets",
                std::to_string(clear) + " secret(s) stored in clear although " + key_file + " exists",
                "twofactor-admin key rotate (seals them all)"};
    return {Level::ok, "secrets", std::to_string(sealed) + " secret(s), all sealed with the keys of " + key_file, ""};
}

} // namespace twofactor::doctor
