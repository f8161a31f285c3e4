// Recognised devices (docs/devices.md): after a good code from a device, a
// later login of the same user from it may skip the prompt for a while.
// The device is what completed the first factor: the SSH public key sshd
// reports in SSH_AUTH_INFO_0, PAM_RHOST, or both. Pure functions only: the
// module reads the PAM environment and the store, the verifier remembers a
// device in the update that records the accepted code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor {

inline constexpr unsigned kMaxRememberDays = 90;
// The largest max_devices, and the most device records a state may hold.
inline constexpr std::size_t kMaxDevices = 50;
inline constexpr std::size_t kDeviceIdBytes = 32;
// A device's short id: this many hex digits of its id (list, forget, logs).
inline constexpr std::size_t kShortIdDigits = 12;
// The shortest prefix of an id `forget USER DEVICE` takes.
inline constexpr std::size_t kMinDevicePrefixDigits = 8;
// SSH_AUTH_INFO_0 longer than this is not parsed (no device).
inline constexpr std::size_t kMaxAuthInfoBytes = std::size_t{16} * 1024;

enum class RememberBy { key, key_address, address };
const char* to_string(RememberBy by); // "key", "key+address", "address"
std::optional<RememberBy> parse_remember_by(std::string_view text);
bool uses_key(RememberBy by);
bool uses_address(RememberBy by);

using DeviceId = std::array<unsigned char, kDeviceIdBytes>;

struct Device {
    DeviceId id{};               // device_id(): never the raw key
    std::string fingerprint;     // "SHA256:..." of the key; empty when the mode has no key
    std::string address;         // PAM_RHOST; empty when the mode has no address
    std::int64_t first_used = 0; // the code that remembered it
    std::int64_t last_used = 0;  // the last login it skipped (or that code)
    std::int64_t expires_at = 0; // first_used + remember_days: never moved by a use
};

// The device of one login, as remembered (id, fingerprint, address).
struct DeviceIdentity {
    DeviceId id{};
    std::string fingerprint;
    std::string address;
};

std::string short_id(const DeviceId& id);

// The key blob of the one "publickey TYPE BASE64" line of SSH_AUTH_INFO_0.
// Other methods' lines are skipped; everything else (no publickey line, two
// of them, extra or missing fields as with a certificate, bad base64, a blob
// whose type is not TYPE, control bytes, too long) is nullopt with `problem`
// saying which, in words safe to log.
std::optional<std::vector<unsigned char>> parse_auth_info(std::string_view info, std::string& problem);

// OpenSSH's fingerprint: "SHA256:" and unpadded base64 of SHA-256(blob).
std::string key_fingerprint(const std::vector<unsigned char>& blob);

// SHA-256 over "twofactor-device-v1", the user, the mode, the key blob (for
// key, key+address) and the address (for address, key+address), each
// length-prefixed: an id says nothing about the key and matches nothing of
// another user.
DeviceId device_id(std::string_view user, RememberBy by, const std::vector<unsigned char>& blob,
                   std::string_view address);

// The device of a login of `user` by `by`, from SSH_AUTH_INFO_0 (`auth_info`,
// nullopt when absent) and PAM_RHOST. nullopt, with `problem` set, when what
// the mode needs is missing or malformed.
std::optional<DeviceIdentity> identify_device(std::string_view user, RememberBy by,
                                              const std::optional<std::string>& auth_info, std::string_view rhost,
                                              std::string& problem);

// The remembered, unexpired device with this id, or nullptr.
const Device* find_device(const std::vector<Device>& devices, const DeviceId& id, std::int64_t now);

// Drops the devices that expired at or before `now`; true if any was.
bool drop_expired_devices(std::vector<Device>& devices, std::int64_t now);

// After a good code from `device`: remembered for `days` from `now` (a
// device already there starts over), expired ones dropped, and while more
// than `max_devices` remain, the one that expires first goes.
void remember_device(std::vector<Device>& devices, const DeviceIdentity& device, std::int64_t now, unsigned days,
                     std::size_t max_devices);

// Hex digits (any case), at least kMinDevicePrefixDigits, at most a whole id.
bool valid_device_prefix(std::string_view prefix);

// The indices of the devices whose id starts with `prefix`; empty if the
// prefix is not valid_device_prefix.
std::vector<std::size_t> match_device_prefix(const std::vector<Device>& devices, std::string_view prefix);

// The prompt may be skipped: enrolled, not locked out, and the device
// remembered, not expired at `now`, and remembered less than
// `remember_days` ago (a lowered remember_days shortens what was stored).
// (Used by the module, and by twofactor-admin explain to say the same.)
struct UserState;
bool may_skip_prompt(const UserState& state, const DeviceId& device, std::int64_t now, unsigned remember_days);

} // namespace twofactor
