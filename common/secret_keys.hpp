// The key file that seals TOTP/HOTP secrets at rest (docs/secrets.md): a
// root-only text file of AES-256 keys, each with an id and a role, read
// with the same owner and mode checks as the configuration and written by
// temp file + fsync + rename. Key bytes live only in SecureBytes.
#pragma once

#include "config.hpp"
#include "secure_memory.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor {

inline constexpr std::size_t kSecretKeyBytes = 32;   // AES-256
inline constexpr std::size_t kSecretKeyIdLength = 8; // lower-case hex

// current: seals new secrets (exactly one); next: opens, added on every
// host before a fleet rotation makes it current; old: opens only.
enum class KeyRole { current, next, old };
const char* to_string(KeyRole role);

struct SecretKey {
    std::string id; // 8 lower-case hex digits
    KeyRole role = KeyRole::current;
    SecureBytes key; // kSecretKeyBytes
};

class SecretKeys {
public:
    SecretKeys() = default;
    SecretKeys(std::string path, std::vector<SecretKey> keys) : path_(std::move(path)), keys_(std::move(keys)) {}

    // The file the keys came from (or go to), for messages.
    const std::string& path() const { return path_; }
    const std::vector<SecretKey>& keys() const { return keys_; }
    std::vector<SecretKey>& keys() { return keys_; }
    // nullptr if no key has this id.
    const SecretKey* find(std::string_view id) const;
    // The key that seals; throws ConfigError if there is not exactly one.
    const SecretKey& current() const;

private:
    std::string path_;
    std::vector<SecretKey> keys_;
};

bool valid_key_id(std::string_view id);
// A fresh random key with an id none of `existing` has.
SecretKey generate_secret_key(KeyRole role, const SecretKeys& existing);

// "twofactor-keys 1", then "key ID ROLE BASE64" lines. Throws ConfigError
// naming `path` and the line; never shows key bytes. Exactly one current
// key, ids unique.
SecretKeys parse_secret_keys(std::string_view text, const std::string& path);
SecureChars serialize_secret_keys(const SecretKeys& keys);

// Reads and checks `path`: a regular file (not a symlink) owned by the
// effective uid with no group or other permission, in a trusted directory.
// Throws ConfigError; if `missing_ok` and the file does not exist, returns
// nullptr.
std::shared_ptr<const SecretKeys> read_secret_key_file(const std::string& path, bool missing_ok);

// The keys config.secret_key_file names: nullptr if it is the default and
// does not exist (secrets then stay in clear). Throws ConfigError.
std::shared_ptr<const SecretKeys> load_secret_keys(const Config& config);

// Writes keys.path() atomically, mode 0600. `create`: refuse if it exists.
void write_secret_key_file(const SecretKeys& keys, bool create);

} // namespace twofactor
