// The one step from what another tool stored (ImportedUser) to our state:
// the TOTP secret with its parameters and spent step, the scratch codes
// hashed into a backup-code set. This is where a token we cannot hold is
// refused.
#pragma once

#include "imported_user.hpp"

#include "config.hpp"
#include "user_state.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofactor::admin {

// A well-formed entry this build cannot import (the message says why).
class ImportRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The complete state of `user` from `tokens`, one authenticator each,
// named `names[i]` (user_tokens.hpp; the tokens already passed refusal()),
// enrolled `now`; the scratch codes are hashed at config.scrypt (one KDF
// each: the slow part). Throws ImportRefused.
UserState to_user_state(const std::vector<ImportedUser>& tokens, const std::vector<std::string>& names,
                        const std::string& user, const Config& config, std::int64_t now);

} // namespace twofactor::admin
