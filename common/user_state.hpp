// A user's second-factor state and its on-disk text format (versioned, one
// record per line, parsed strictly with a size cap). See docs/state-format.md.
#pragma once

#include "backup_codes.hpp"
#include "devices.hpp"
#include "secure_memory.hpp"
#include "totp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor {

// Version 2 adds `device` records; version 1 is still read (docs/state-format.md).
inline constexpr int kStateFormatVersion = 2;
// The largest state the writer can produce (100 used backup codes, every
// text field at its limit, all escaped) is under 90 KB; the cap leaves room
// so that no state the store writes is refused when read back.
inline constexpr std::size_t kMaxStateBytes = std::size_t{128} * 1024;

struct TotpState {
    SecureBytes secret;
    TotpParams params;
    std::int64_t enrolled_at = 0;
    std::optional<std::uint64_t> last_step; // replay refusal: steps <= this are refused
};

enum class Method { totp, backup_code };
const char* to_string(Method method);

struct LastLogin {
    std::int64_t at = 0;
    Method method = Method::totp;
    std::string service;
    std::string rhost;
    std::string tty;
};

// The last refused TOTP code that belonged to a step outside the window
// (common/clock_skew.hpp): when, and how far off the device's clock was.
struct SkewSeen {
    std::int64_t at = 0;
    std::int64_t seconds = 0; // < 0: the device is behind
};

struct UserState {
    std::string user;
    std::optional<TotpState> totp;
    std::optional<BackupCodeSet> codes;
    unsigned failures = 0;         // consecutive failed codes
    std::int64_t locked_until = 0; // 0: not locked
    std::optional<SkewSeen> last_skew;
    std::optional<LastLogin> last_login;
    std::vector<Device> devices; // recognised devices (devices.hpp), at most kMaxDevices

    bool enrolled() const { return totp.has_value() || codes.has_value(); }
};

// Throws StateFormatError with a typed StateErrc and the line number.
UserState parse_user_state(std::string_view text);
SecureChars serialize_user_state(const UserState& state);

} // namespace twofactor
