// Configuration shared by the module and the tool: built-in defaults, then
// the config file, then overrides (module arguments or tool flags), through
// one parser and one list of keys. An unknown key or a malformed value is a
// ConfigError naming where it came from; nothing is silently ignored.
#pragma once

#include "crypto.hpp"
#include "devices.hpp"
#include "ip_network.hpp"
#include "totp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor {

inline constexpr const char* kDefaultConfigPath = "/etc/security/twofactor.conf";
inline constexpr const char* kDefaultStateDir = "/var/lib/twofactor";
inline constexpr const char* kDefaultLocalStateDir = "/var/lib/twofactor-local";
inline constexpr const char* kDefaultSecretKeyFile = "/etc/security/twofactor.key";

struct Config {
    std::string state_dir = kDefaultStateDir;
    bool nullok = false;
    bool debug = false;
    std::string prompt = "Verification code: ";
    bool echo_code = false;
    bool forward_pass = false;
    bool no_totp = false;
    bool no_backup_codes = false;
    unsigned window = 1;
    unsigned max_failures = 5;
    unsigned lockout_seconds = 300;
    unsigned warn_remaining = 3;
    unsigned backup_code_count = 10;
    unsigned backup_code_length = 8;
    ScryptParams scrypt;
    TotpParams totp;
    std::string issuer;              // empty: the host name
    unsigned hotp_window = 10;       // HOTP: counters accepted ahead of the stored one
    unsigned max_authenticators = 5; // named authenticators per user

    // Where state lives (docs/store.md): the embedded file store or a
    // PostgreSQL database shared by a fleet of hosts (docs/fleet.md).
    enum class Store { file, postgresql } store = Store::file;
    std::string pg_conninfo;        // libpq connection string, without a password
    std::string pg_conninfo_origin; // where it was set ("FILE:LINE"), for messages
    std::string pg_password_file;   // root-only file holding the password
    unsigned pg_timeout_seconds = 5;
    // When no PostgreSQL server answers: deny every login, or log in only
    // the accounts enrolled in the file store local_state_dir (docs/fleet.md).
    enum class PgUnavailable { deny, local } pg_unavailable = PgUnavailable::deny;
    std::string pg_unavailable_origin; // where it was set, for messages
    std::string local_state_dir = kDefaultLocalStateDir;
    // The key that seals TOTP/HOTP secrets at rest (docs/secrets.md). Not
    // set: the default path, where a missing file means secrets in clear.
    std::string secret_key_file = kDefaultSecretKeyFile;
    std::string secret_key_file_origin; // where it was set; empty: the default

    // Self-service (the setuid `twofactor` command): what users may do themselves.
    bool allow_user_status = true;
    bool allow_user_new_codes = true;
    bool allow_user_enroll = true;

    // Logins that are not asked for a code (docs/exemptions.md): members of
    // exempt_groups; with require_groups, everyone outside those groups;
    // a numeric PAM_RHOST inside exempt_networks. Empty: no exemption.
    std::vector<std::string> exempt_groups;
    std::vector<std::string> require_groups;
    std::vector<IpNetwork> exempt_networks;
    // Recognised devices (docs/devices.md): off while remember_days is 0.
    unsigned remember_days = 0;
    RememberBy remember_by = RememberBy::key;
    std::vector<std::string> remember_services{"sshd"};
    unsigned max_devices = 10;
};

// One setting from somewhere: "key=value" or a bare "key" (a boolean set to yes).
struct Setting {
    std::string key;
    std::optional<std::string> value;
    std::string origin; // "FILE:LINE" or "argument" for messages
};

// Applies one setting. Throws ConfigError "ORIGIN: KEY: reason".
void apply_setting(Config& config, const Setting& setting);

// Splits "key=value" / "key" (module-argument form).
Setting parse_argument(std::string_view argument, std::string origin);

// Reads a config file ("key = value" lines, '#' comments). Throws ConfigError
// for an unreadable file or any bad line.
std::vector<Setting> read_config_file(const std::string& path);

// Defaults -> file -> overrides. `path` empty means the default path, where a
// missing file is fine; a path given explicitly must exist.
Config load_config(const std::string& explicit_path, const std::vector<Setting>& overrides);

// Module arguments: pulls out config=PATH, applies the rest as overrides.
Config load_config_from_arguments(const std::vector<std::string>& arguments);

// The list of known keys (for documentation checks and completion).
std::vector<std::string> config_keys();

} // namespace twofactor
