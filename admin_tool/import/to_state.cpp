#include "to_state.hpp"

#include "backup_codes.hpp"

namespace twofactor::admin {

namespace {
// The state format's bounds on a TOTP secret (docs/state-format.md).
constexpr std::size_t kMinSecretBytes = 10;
constexpr std::size_t kMaxSecretBytes = 128;
constexpr unsigned kScratchCodeLength = 8;
} // namespace

namespace {

Authenticator to_authenticator(const ImportedUser& imported, const std::string& name, std::int64_t now)
{
    if (!imported.refused.empty())
        throw ImportRefused(imported.refused);
    if (imported.secret.size() < kMinSecretBytes || imported.secret.size() > kMaxSecretBytes)
        throw ImportRefused("the secret is " + std::to_string(imported.secret.size())
                            + " bytes; twofactor takes 10 to 128 (80 to 1024 bits)");
    if (imported.scratch_codes.size() > kMaxBackupCodes)
        throw ImportRefused("more than " + std::to_string(kMaxBackupCodes) + " scratch codes");
    Authenticator a;
    a.name = name;
    a.secret = imported.secret;
    a.params = imported.params;
    a.enrolled_at = now;
    if (imported.kind == ImportedUser::Kind::hotp) {
        a.type = AuthenticatorType::hotp;
        a.counter = imported.counter;
    } else {
        a.last_step = imported.last_step;
    }
    return a;
}

} // namespace

UserState to_user_state(const std::vector<ImportedUser>& tokens, const std::vector<std::string>& names,
                        const std::string& user, const Config& config, std::int64_t now)
{
    if (tokens.empty() || names.size() != tokens.size() || tokens.size() > kMaxAuthenticators)
        throw ImportRefused("no authenticator, or more than " + std::to_string(kMaxAuthenticators));
    UserState state;
    state.user = user;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        try {
            state.put(to_authenticator(tokens[i], names[i], now));
        } catch (const ImportRefused& e) {
            if (tokens.size() == 1)
                throw;
            throw ImportRefused(tokens[i].origin + ": " + e.what());
        }
    }
    if (state.authenticators.size() != tokens.size())
        throw ImportRefused("two authenticators with one name");
    for (const ImportedUser& t : tokens)
        if (!t.scratch_codes.empty()) {
            if (state.codes)
                throw ImportRefused("scratch codes in more than one source");
            state.codes = hash_backup_codes(t.scratch_codes, kScratchCodeLength, config.scrypt, now);
        }
    return state;
}

} // namespace twofactor::admin
