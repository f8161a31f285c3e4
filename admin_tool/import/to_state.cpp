#include "to_state.hpp"

#include "backup_codes.hpp"

namespace twofactor::admin {

namespace {
// The state format's bounds on a TOTP secret (docs/state-format.md).
constexpr std::size_t kMinSecretBytes = 10;
constexpr std::size_t kMaxSecretBytes = 128;
constexpr unsigned kScratchCodeLength = 8;
} // namespace

UserState to_user_state(const ImportedUser& imported, const std::string& user, const Config& config, std::int64_t now)
{
    if (!imported.refused.empty())
        throw ImportRefused(imported.refused);
    if (imported.secret.size() < kMinSecretBytes || imported.secret.size() > kMaxSecretBytes)
        throw ImportRefused("the secret is " + std::to_string(imported.secret.size())
                            + " bytes; twofactor takes 10 to 128 (80 to 1024 bits)");
    if (imported.scratch_codes.size() > kMaxBackupCodes)
        throw ImportRefused("more than " + std::to_string(kMaxBackupCodes) + " scratch codes");

    UserState state;
    state.user = user;
    Authenticator a; // named "default"
    a.secret = imported.secret;
    a.params = imported.params;
    a.enrolled_at = now;
    if (imported.kind == ImportedUser::Kind::hotp) {
        a.type = AuthenticatorType::hotp;
        a.counter = imported.counter;
    } else {
        a.last_step = imported.last_step;
    }
    state.put(std::move(a));
    if (!imported.scratch_codes.empty())
        state.codes = hash_backup_codes(imported.scratch_codes, kScratchCodeLength, config.scrypt, now);
    return state;
}

} // namespace twofactor::admin
