// TOTP/HOTP secrets sealed at rest with AES-256-GCM (docs/secrets.md). One
// text token, the same in a state file and in PostgreSQL:
//   aes256gcm:KEYID:BASE64URL(nonce[12] || ciphertext || tag[16])
// The associated data binds the token to its key id, its user and its
// authenticator name, so a token copied to another user or authenticator
// does not open. The stores seal on write and open on read: everything
// above them sees plaintext secrets only.
#pragma once

#include "errors.hpp"
#include "secret_keys.hpp"
#include "user_state.hpp"

#include <string>
#include <string_view>

namespace twofactor {

inline constexpr std::string_view kSealedPrefix = "aes256gcm:";

// A secret that cannot be opened: unknown key id, wrong key, altered token.
// A StoreError, so a login fails closed exactly as with a damaged state.
class SecretError : public StoreError {
public:
    explicit SecretError(const std::string& message) : StoreError(StoreErrc::corrupt, message) {}
};

// The token's shape only (prefix, key id, base64url of a plausible size):
// what the state parser accepts in place of a base32 secret.
bool valid_sealed_token(std::string_view token);
// The key id a token names (its shape must be valid).
std::string_view sealed_key_id(std::string_view token);

std::string seal_secret(const SecretKey& key, std::string_view user, std::string_view authenticator,
                        const SecureBytes& secret);
// Throws SecretError naming the user, the authenticator and, for an unknown
// key id, the key file; never the token or the secret.
SecureBytes open_secret(const SecretKeys* keys, std::string_view user, std::string_view authenticator,
                        std::string_view token);

// After a read: every authenticator with a `sealed` token gets its
// plaintext `secret` (the token is kept). Throws SecretError.
void open_secrets(UserState& state, const SecretKeys* keys);
// Before a write: with keys, every authenticator's `sealed` holds `secret`
// under the current key, or under a `next` key if it already did (a token
// that holds the secret is kept, so an unchanged secret is not rewritten,
// and a host whose key file lags a fleet rotation does not undo it); a
// secret in clear or under an `old` key is sealed afresh. Without keys,
// `sealed` is cleared and secrets are written in clear.
void seal_secrets(UserState& state, const SecretKeys* keys);

} // namespace twofactor
