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

// Version 2 holds named authenticators (`auth` records), the last clock
// skew seen and recognised devices; version 1 files (one `totp` record) are
// still read, and written back as version 2 (docs/state-format.md).
// Version 3 is version 2 where a secret may be sealed (sealed_secret.hpp);
// it is written only when one is, so a host without a key keeps files an
// older build reads.
inline constexpr int kStateFormatVersion = 2;
inline constexpr int kSealedStateFormatVersion = 3;
// The largest state the writer can produce (20 authenticators, 100 used
// backup codes, 50 devices, every field at its limit, all escaped) is under
// 128 KiB; tests/unit/test_user_state.cpp checks that no state the store
// writes is refused when read back.
inline constexpr std::size_t kMaxStateBytes = std::size_t{128} * 1024;

// The most authenticators one state holds (the format's limit; the
// max_authenticators setting is at most this).
inline constexpr std::size_t kMaxAuthenticators = 20;
// The name of the authenticator a version-1 `totp` record becomes, and of
// one enrolled without --name.
inline constexpr const char* kDefaultAuthenticator = "default";

enum class AuthenticatorType { totp, hotp };
const char* to_string(AuthenticatorType type);
std::optional<AuthenticatorType> parse_authenticator_type(std::string_view name);
// 1-32 of [a-z0-9._-].
bool valid_authenticator_name(std::string_view name);

// One named authenticator: a TOTP (RFC 6238) app or an HOTP (RFC 4226)
// token. The first four members come first so that a TOTP authenticator
// named "default" is still written TotpState{secret, params, at, step}.
struct Authenticator {
    SecureBytes secret;
    TotpParams params; // `period` is for TOTP only
    std::int64_t enrolled_at = 0;
    std::optional<std::uint64_t> last_step; // TOTP replay refusal: steps <= this are refused
    std::string name = kDefaultAuthenticator;
    AuthenticatorType type = AuthenticatorType::totp;
    std::uint64_t counter = 0;  // HOTP: the next counter expected (earlier ones are spent)
    std::int64_t last_used = 0; // Unix time of the last accepted code, 0: never
    // The secret as a store keeps it, sealed ("aes256gcm:..."), or empty:
    // in clear. The parser sets either this or `secret`; the stores open it
    // into `secret` after a read and seal into it before a write
    // (sealed_secret.hpp), so above them `secret` is always the plaintext.
    std::string sealed = {};
};
// The name from before several authenticators: one TOTP authenticator.
using TotpState = Authenticator;

enum class Method { totp, backup_code, hotp };
const char* to_string(Method method);

struct LastLogin {
    std::int64_t at = 0;
    Method method = Method::totp;
    std::string service;
    std::string rhost;
    std::string tty;
    std::string authenticator; // the name that accepted (empty for backup codes)
};

// The last refused TOTP code that belonged to a step outside the window
// (common/clock_skew.hpp): when, and how far off the device's clock was.
struct SkewSeen {
    std::int64_t at = 0;
    std::int64_t seconds = 0; // < 0: the device is behind
};

struct UserState {
    std::string user;
    std::vector<Authenticator> authenticators; // unique names, at most kMaxAuthenticators
    std::optional<BackupCodeSet> codes;
    unsigned failures = 0;         // consecutive failed codes
    std::int64_t locked_until = 0; // 0: not locked
    std::optional<SkewSeen> last_skew;
    std::optional<LastLogin> last_login;
    std::vector<Device> devices; // recognised devices (devices.hpp), at most kMaxDevices

    bool enrolled() const { return !authenticators.empty() || codes.has_value(); }
    Authenticator* find(std::string_view name);
    const Authenticator* find(std::string_view name) const;
    // Adds `a`, or replaces the authenticator of the same name in its place.
    void put(Authenticator a);
    // Removes the authenticator `name`; false if there is none.
    bool remove(std::string_view name);
};

// Throws StateFormatError with a typed StateErrc and the line number.
UserState parse_user_state(std::string_view text);
SecureChars serialize_user_state(const UserState& state);

} // namespace twofactor
