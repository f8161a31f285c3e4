#include "sealed_secret.hpp"

#include "codec.hpp"
#include "crypto.hpp"

#include <openssl/evp.h>

#include <memory>

namespace twofactor {

namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kMinSecret = 10;  // as a state file allows
constexpr std::size_t kMaxSecret = 128; // as a state file allows
constexpr std::size_t kMinSealed = kNonceBytes + kMinSecret + kTagBytes;
constexpr std::size_t kMaxSealed = kNonceBytes + kMaxSecret + kTagBytes;
constexpr std::size_t b64_length(std::size_t n) { return (n * 8 + 5) / 6; }
// The longest token fits a state file field (256 bytes).
static_assert(kSealedPrefix.size() + kSecretKeyIdLength + 1 + b64_length(kMaxSealed) <= 256);

constexpr std::string_view kDomain = "twofactor sealed secret";
constexpr unsigned char kFormat = 1;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

void add_field(SecureBytes& out, std::string_view s)
{
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<unsigned char>(n >> static_cast<unsigned>(shift)));
    out.insert(out.end(), s.begin(), s.end());
}

// Domain, format, then each part with its length first: no two tuples give
// the same bytes.
SecureBytes associated_data(std::string_view key_id, std::string_view user, std::string_view authenticator)
{
    SecureBytes ad;
    add_field(ad, kDomain);
    ad.push_back(kFormat);
    add_field(ad, key_id);
    add_field(ad, user);
    add_field(ad, authenticator);
    return ad;
}

int as_int(std::size_t n) { return static_cast<int>(n); }

std::string who(std::string_view user, std::string_view authenticator)
{
    return "user " + std::string(user) + ": authenticator " + std::string(authenticator) + ": ";
}

} // namespace

bool valid_sealed_token(std::string_view token)
{
    if (token.substr(0, kSealedPrefix.size()) != kSealedPrefix)
        return false;
    token.remove_prefix(kSealedPrefix.size());
    if (token.size() < kSecretKeyIdLength + 1 || token[kSecretKeyIdLength] != ':'
        || !valid_key_id(token.substr(0, kSecretKeyIdLength)))
        return false;
    const std::string_view data = token.substr(kSecretKeyIdLength + 1);
    if (data.size() < b64_length(kMinSealed) || data.size() > b64_length(kMaxSealed))
        return false;
    SecureBytes bytes;
    return base64url_decode(data, bytes) && bytes.size() >= kMinSealed && bytes.size() <= kMaxSealed;
}

std::string_view sealed_key_id(std::string_view token)
{
    return token.substr(kSealedPrefix.size(), kSecretKeyIdLength);
}

std::string seal_secret(const SecretKey& key, std::string_view user, std::string_view authenticator,
                        const SecureBytes& secret)
{
    if (key.key.size() != kSecretKeyBytes || secret.size() < kMinSecret || secret.size() > kMaxSecret)
        throw CryptoError("cannot seal: bad key or secret size");
    const SecureBytes ad = associated_data(key.id, user, authenticator);
    SecureBytes out = random_bytes(kNonceBytes);
    out.resize(kNonceBytes + secret.size() + kTagBytes);
    const CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    int n = 0;
    int m = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1
        || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, as_int(kNonceBytes), nullptr) != 1
        || EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.key.data(), out.data()) != 1
        || EVP_EncryptUpdate(ctx.get(), nullptr, &n, ad.data(), as_int(ad.size())) != 1
        || EVP_EncryptUpdate(ctx.get(), out.data() + kNonceBytes, &n, secret.data(), as_int(secret.size())) != 1
        || EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceBytes + n, &m) != 1
        || static_cast<std::size_t>(n) + static_cast<std::size_t>(m) != secret.size()
        || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, as_int(kTagBytes),
                               out.data() + kNonceBytes + secret.size())
            != 1)
        throw CryptoError("AES-256-GCM encryption failed");
    const SecureChars b64 = base64url_encode(out.data(), out.size());
    return std::string(kSealedPrefix) + key.id + ":" + std::string(view(b64));
}

SecureBytes open_secret(const SecretKeys* keys, std::string_view user, std::string_view authenticator,
                        std::string_view token)
{
    if (!valid_sealed_token(token))
        throw SecretError(who(user, authenticator) + "sealed secret is malformed");
    const std::string_view id = sealed_key_id(token);
    const SecretKey* key = keys ? keys->find(id) : nullptr;
    if (!key)
        throw SecretError(who(user, authenticator) + "secret sealed with key " + std::string(id) + ", which "
                          + (keys ? keys->path() + " does not hold" : std::string("no secret key file holds")));
    SecureBytes data;
    base64url_decode(token.substr(kSealedPrefix.size() + kSecretKeyIdLength + 1), data);
    const std::size_t length = data.size() - kNonceBytes - kTagBytes;
    const SecureBytes ad = associated_data(id, user, authenticator);
    SecureBytes secret(length);
    const CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    int n = 0;
    int m = 0;
    const bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
        && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, as_int(kNonceBytes), nullptr) == 1
        && EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key->key.data(), data.data()) == 1
        && EVP_DecryptUpdate(ctx.get(), nullptr, &n, ad.data(), as_int(ad.size())) == 1
        && EVP_DecryptUpdate(ctx.get(), secret.data(), &n, data.data() + kNonceBytes, as_int(length)) == 1
        && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, as_int(kTagBytes), data.data() + kNonceBytes + length)
            == 1
        && EVP_DecryptFinal_ex(ctx.get(), secret.data() + n, &m) == 1
        && static_cast<std::size_t>(n) + static_cast<std::size_t>(m) == length;
    if (!ok)
        throw SecretError(who(user, authenticator) + "secret sealed with key " + std::string(id)
                          + " does not decrypt (wrong key or altered data)");
    return secret;
}

void open_secrets(UserState& state, const SecretKeys* keys)
{
    for (Authenticator& a : state.authenticators)
        if (!a.sealed.empty())
            a.secret = open_secret(keys, state.user, a.name, a.sealed);
}

void seal_secrets(UserState& state, const SecretKeys* keys)
{
    for (Authenticator& a : state.authenticators) {
        if (!keys) {
            a.sealed.clear();
            continue;
        }
        const SecretKey& current = keys->current();
        // Under a `next` key too: a host whose key file is not updated yet
        // must not seal back what `key rotate` sealed elsewhere.
        const SecretKey* used = valid_sealed_token(a.sealed) ? keys->find(sealed_key_id(a.sealed)) : nullptr;
        if (used && used->role != KeyRole::old) {
            try {
                const SecureBytes stored = open_secret(keys, state.user, a.name, a.sealed);
                if (stored.size() == a.secret.size() && ct_equal(stored.data(), a.secret.data(), stored.size()))
                    continue; // still this secret, for this user and name
            } catch (const SecretError&) {
                // renamed, or another user's: sealed afresh below
            }
        }
        a.sealed = seal_secret(current, state.user, a.name, a.secret);
    }
}

} // namespace twofactor
