#include "config.hpp"

#include "errors.hpp"
#include "path_checks.hpp"
#include "read_whole.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace twofactor {

namespace {

constexpr std::size_t kMaxConfigBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxStringValue = 4096;

[[noreturn]] void fail(const Setting& s, const std::string& reason)
{
    throw ConfigError(s.origin + ": " + s.key + ": " + reason);
}

const std::string& require_value(const Setting& s)
{
    if (!s.value)
        fail(s, "needs a value (" + s.key + "=...)");
    return *s.value;
}

bool parse_bool(const Setting& s)
{
    if (!s.value)
        return true; // bare flag
    const std::string& v = *s.value;
    if (v == "yes" || v == "true" || v == "1" || v == "on")
        return true;
    if (v == "no" || v == "false" || v == "0" || v == "off")
        return false;
    fail(s, "expected yes or no, got '" + v + "'");
}

unsigned parse_unsigned(const Setting& s, unsigned min, unsigned max)
{
    const std::string& v = require_value(s);
    unsigned out = 0;
    const char* end = v.data() + v.size();
    auto [ptr, ec] = std::from_chars(v.data(), end, out);
    if (v.empty() || ec != std::errc() || ptr != end)
        fail(s, "expected a whole number, got '" + v + "'");
    if (out < min || out > max)
        fail(s, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return out;
}

std::string parse_string(const Setting& s)
{
    const std::string& v = require_value(s);
    if (v.empty())
        fail(s, "must not be empty");
    if (v.size() > kMaxStringValue)
        fail(s, "value too long");
    for (unsigned char c : v)
        if (c < 0x20 || c == 0x7f)
            fail(s, "control characters are not allowed");
    return v;
}

std::string parse_directory(const Setting& s)
{
    std::string dir = parse_string(s);
    if (dir.front() != '/')
        fail(s, "must be an absolute path");
    // "/var/lib/twofactor/" means the directory itself: with the slash
    // the kernel would follow a symlink where the store refuses one.
    while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
    if (last_component_not_a_name(dir))
        fail(s, "must end in a directory name (not /, . or ..)");
    return dir;
}

// One of two words.
template <typename Choice>
Choice parse_choice(const Setting& s, const char* first, Choice first_choice, const char* second, Choice second_choice)
{
    const std::string& v = require_value(s);
    if (v == first)
        return first_choice;
    if (v == second)
        return second_choice;
    fail(s, std::string("expected ") + first + " or " + second + ", got '" + v + "'");
}

std::string_view trim(std::string_view s);

// "a, b, c": the items, trimmed; an empty value is the empty list (a module
// argument "exempt_groups=" clears what the file set). An empty item is an
// error, since "a,,b" or a trailing comma is usually a typo.
std::vector<std::string> parse_list(const Setting& s)
{
    const std::string& v = require_value(s);
    std::vector<std::string> items;
    if (trim(v).empty())
        return items;
    if (v.size() > kMaxStringValue)
        fail(s, "value too long");
    std::string_view rest(v);
    for (;;) {
        const auto comma = rest.find(',');
        const std::string_view item = trim(rest.substr(0, comma));
        if (item.empty())
            fail(s, "empty item in the list '" + v + "'");
        for (unsigned char c : item)
            if (c < 0x20 || c == 0x7f)
                fail(s, "control characters are not allowed");
        items.emplace_back(item);
        if (comma == std::string_view::npos)
            return items;
        rest = rest.substr(comma + 1);
    }
}

std::vector<IpNetwork> parse_networks(const Setting& s)
{
    std::vector<IpNetwork> networks;
    for (const std::string& item : parse_list(s)) {
        std::string error;
        const std::optional<IpNetwork> network = parse_ip_network(item, error);
        if (!network)
            fail(s, error);
        networks.push_back(*network);
    }
    return networks;
}

// "sshd" or "sshd, other": PAM service names, at least one.
std::vector<std::string> parse_services(const Setting& s)
{
    std::vector<std::string> names = parse_list(s);
    if (names.empty())
        fail(s, "must not be empty");
    for (const std::string& name : names) {
        bool valid = name.size() <= 64;
        for (const char c : name)
            valid = valid
                && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == '-');
        if (!valid)
            fail(s, "expected service names separated by commas, got '" + *s.value + "'");
    }
    return names;
}

struct Key {
    const char* name;
    void (*set)(Config&, const Setting&);
};

// The one list of keys: a constant table, so loading the module builds
// nothing and unloading it destroys nothing.
constexpr Key kKeys[] = {
    {"state_dir", [](Config& c, const Setting& s) { c.state_dir = parse_directory(s); }},
    {"nullok", [](Config& c, const Setting& s) { c.nullok = parse_bool(s); }},
    {"debug", [](Config& c, const Setting& s) { c.debug = parse_bool(s); }},
    {"prompt",
     [](Config& c, const Setting& s) {
         // A prompt may end in a space; the file parser trims, so the
         // module argument is the way to get one. Keep what was given.
         c.prompt = parse_string(s);
     }},
    {"echo_code", [](Config& c, const Setting& s) { c.echo_code = parse_bool(s); }},
    {"forward_pass", [](Config& c, const Setting& s) { c.forward_pass = parse_bool(s); }},
    {"no_totp", [](Config& c, const Setting& s) { c.no_totp = parse_bool(s); }},
    {"no_backup_codes", [](Config& c, const Setting& s) { c.no_backup_codes = parse_bool(s); }},
    {"window", [](Config& c, const Setting& s) { c.window = parse_unsigned(s, 0, 10); }},
    {"max_failures", [](Config& c, const Setting& s) { c.max_failures = parse_unsigned(s, 1, 100); }},
    {"lockout_seconds", [](Config& c, const Setting& s) { c.lockout_seconds = parse_unsigned(s, 1, 604800); }},
    {"warn_remaining", [](Config& c, const Setting& s) { c.warn_remaining = parse_unsigned(s, 0, 100); }},
    {"backup_code_count", [](Config& c, const Setting& s) { c.backup_code_count = parse_unsigned(s, 1, 100); }},
    {"backup_code_length", [](Config& c, const Setting& s) { c.backup_code_length = parse_unsigned(s, 8, 16); }},
    {"scrypt_log2_n", [](Config& c, const Setting& s) { c.scrypt.log2_n = parse_unsigned(s, 10, 20); }},
    {"scrypt_r", [](Config& c, const Setting& s) { c.scrypt.r = parse_unsigned(s, 1, 32); }},
    {"scrypt_p", [](Config& c, const Setting& s) { c.scrypt.p = parse_unsigned(s, 1, 16); }},
    {"totp_algorithm",
     [](Config& c, const Setting& s) {
         auto a = parse_totp_algorithm(require_value(s));
         if (!a)
             fail(s, "expected sha1, sha256 or sha512, got '" + *s.value + "'");
         c.totp.algorithm = *a;
     }},
    {"totp_digits", [](Config& c, const Setting& s) { c.totp.digits = parse_unsigned(s, 6, 8); }},
    {"totp_period", [](Config& c, const Setting& s) { c.totp.period = parse_unsigned(s, 15, 300); }},
    {"hotp_window", [](Config& c, const Setting& s) { c.hotp_window = parse_unsigned(s, 1, 100); }},
    {"max_authenticators", [](Config& c, const Setting& s) { c.max_authenticators = parse_unsigned(s, 1, 20); }},
    {"issuer",
     [](Config& c, const Setting& s) {
         c.issuer = parse_string(s);
         if (c.issuer.find(':') != std::string::npos)
             fail(s, "must not contain ':'");
     }},
    {"store",
     [](Config& c, const Setting& s) {
         c.store = parse_choice(s, "file", Config::Store::file, "postgresql", Config::Store::postgresql);
     }},
    {"pg_conninfo",
     [](Config& c, const Setting& s) {
         c.pg_conninfo = parse_string(s);
         c.pg_conninfo_origin = s.origin;
         if (c.pg_conninfo.find("password") != std::string::npos)
             fail(s, "must not contain a password (use pg_password_file)");
     }},
    {"pg_password_file",
     [](Config& c, const Setting& s) {
         c.pg_password_file = parse_string(s);
         if (c.pg_password_file.front() != '/')
             fail(s, "must be an absolute path");
     }},
    {"pg_timeout_seconds", [](Config& c, const Setting& s) { c.pg_timeout_seconds = parse_unsigned(s, 1, 60); }},
    {"pg_unavailable",
     [](Config& c, const Setting& s) {
         c.pg_unavailable = parse_choice(s, "deny", Config::PgUnavailable::deny, "local", Config::PgUnavailable::local);
         c.pg_unavailable_origin = s.origin;
     }},
    {"local_state_dir", [](Config& c, const Setting& s) { c.local_state_dir = parse_directory(s); }},
    {"secret_key_file",
     [](Config& c, const Setting& s) {
         c.secret_key_file = parse_string(s);
         c.secret_key_file_origin = s.origin;
         if (c.secret_key_file.front() != '/')
             fail(s, "must be an absolute path");
     }},
    {"allow_user_status", [](Config& c, const Setting& s) { c.allow_user_status = parse_bool(s); }},
    {"allow_user_new_codes", [](Config& c, const Setting& s) { c.allow_user_new_codes = parse_bool(s); }},
    {"allow_user_enroll", [](Config& c, const Setting& s) { c.allow_user_enroll = parse_bool(s); }},
    {"exempt_groups", [](Config& c, const Setting& s) { c.exempt_groups = parse_list(s); }},
    {"require_groups", [](Config& c, const Setting& s) { c.require_groups = parse_list(s); }},
    {"exempt_networks", [](Config& c, const Setting& s) { c.exempt_networks = parse_networks(s); }},
    {"remember_days", [](Config& c, const Setting& s) { c.remember_days = parse_unsigned(s, 0, kMaxRememberDays); }},
    {"remember_by",
     [](Config& c, const Setting& s) {
         const auto by = parse_remember_by(require_value(s));
         if (!by)
             fail(s, "expected key, key+address or address, got '" + *s.value + "'");
         c.remember_by = *by;
     }},
    {"remember_services", [](Config& c, const Setting& s) { c.remember_services = parse_services(s); }},
    {"max_devices",
     [](Config& c, const Setting& s) { c.max_devices = parse_unsigned(s, 1, static_cast<unsigned>(kMaxDevices)); }},
};

std::string_view trim(std::string_view s)
{
    const char* ws = " \t\r";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    const auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

} // namespace

void apply_setting(Config& config, const Setting& setting)
{
    for (const Key& k : kKeys)
        if (setting.key == k.name) {
            k.set(config, setting);
            return;
        }
    throw ConfigError(setting.origin + ": " + setting.key + ": unknown option");
}

Setting parse_argument(std::string_view argument, std::string origin)
{
    Setting s;
    s.origin = std::move(origin);
    const auto eq = argument.find('=');
    if (eq == std::string_view::npos) {
        s.key = std::string(argument);
    } else {
        s.key = std::string(argument.substr(0, eq));
        s.value = std::string(argument.substr(eq + 1));
    }
    if (s.key.empty())
        throw ConfigError(s.origin + ": empty option name");
    return s;
}

namespace {

// The config can switch on nullok or point at another state directory, so
// it must be as trusted as the module: a regular file owned by root (or by
// whoever runs us), not writable by group or others.
std::string read_trusted_file(const std::string& path)
{
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd)
        throw ConfigError(path + ": cannot read: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw ConfigError(path + ": cannot read: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw ConfigError(path + ": cannot read: not a regular file");
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        throw ConfigError(path + ": unsafe: owned by uid " + std::to_string(st.st_uid));
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        throw ConfigError(path + ": unsafe: writable by group or others");
    if (st.st_size > static_cast<off_t>(kMaxConfigBytes))
        throw ConfigError(path + ": file too large");
    const WholeFile file = read_whole(fd.get(), static_cast<std::size_t>(st.st_size), kMaxConfigBytes);
    if (file.error != 0)
        throw ConfigError(path + ": read error: " + std::strerror(file.error));
    if (file.too_large)
        throw ConfigError(path + ": file too large"); // grew while we read
    std::string text(file.data.begin(), file.data.end());
    return text;
}

} // namespace

std::vector<Setting> read_config_file(const std::string& path)
{
    const std::string text = read_trusted_file(path);
    if (text.find('\0') != std::string::npos)
        throw ConfigError(path + ": contains a NUL byte");

    std::vector<Setting> settings;
    std::string_view rest(text);
    int line_no = 0;
    while (!rest.empty()) {
        ++line_no;
        const auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        line = trim(line);
        if (line.empty() || line.front() == '#')
            continue;
        const std::string origin = path + ":" + std::to_string(line_no);
        Setting s;
        s.origin = origin;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            s.key = std::string(line);
        } else {
            s.key = std::string(trim(line.substr(0, eq)));
            std::string_view value = trim(line.substr(eq + 1));
            // "..." keeps leading or trailing spaces (a prompt ending in a space).
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            s.value = std::string(value);
        }
        if (s.key.empty())
            throw ConfigError(origin + ": missing key before '='");
        if (s.key == "config")
            throw ConfigError(origin + ": config: only valid as a module argument");
        settings.push_back(std::move(s));
    }
    return settings;
}

Config load_config(const std::string& explicit_path, const std::vector<Setting>& overrides)
{
    Config config;
    std::vector<Setting> from_file;
    if (!explicit_path.empty()) {
        from_file = read_config_file(explicit_path);
    } else {
        // A missing default file means built-in defaults; any other problem
        // (unreadable, a directory) is reported by the reader.
        struct stat st {};
        if (::stat(kDefaultConfigPath, &st) == 0 || errno != ENOENT)
            from_file = read_config_file(kDefaultConfigPath);
    }
    for (const Setting& s : from_file)
        apply_setting(config, s);
    for (const Setting& s : overrides)
        apply_setting(config, s);
    if (config.no_totp && config.no_backup_codes)
        throw ConfigError("no_totp and no_backup_codes together leave no way to log in");
    if (config.store == Config::Store::postgresql && config.pg_conninfo.empty())
        throw ConfigError("store = postgresql needs pg_conninfo");
    // Fail closed and clear: a fallback that could never happen is a
    // setting someone believes in.
    if (config.pg_unavailable == Config::PgUnavailable::local && config.store != Config::Store::postgresql)
        throw ConfigError(config.pg_unavailable_origin + ": pg_unavailable: local needs store = postgresql");
    return config;
}

Config load_config_from_arguments(const std::vector<std::string>& arguments)
{
    std::string path;
    std::vector<Setting> overrides;
    for (const std::string& a : arguments) {
        Setting s = parse_argument(a, "argument");
        if (s.key == "config") {
            if (!s.value || s.value->empty())
                throw ConfigError("argument: config: needs a path (config=PATH)");
            path = *s.value;
        } else {
            overrides.push_back(std::move(s));
        }
    }
    return load_config(path, overrides);
}

std::vector<std::string> config_keys()
{
    std::vector<std::string> out;
    for (const Key& k : kKeys)
        out.emplace_back(k.name);
    return out;
}

} // namespace twofactor
