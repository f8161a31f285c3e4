// All the tokens the sources of one import bring for one user, which
// become that user's authenticators (docs/moving.md): the names they get
// and the rules on the set as a whole. One token is named "default", as
// `enroll` names one; several are named from what the token says of itself
// (an otpauth issuer) or by their order.
#pragma once

#include "imported_user.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace twofactor::admin {

// One name per token, in order: valid (1-32 of [a-z0-9._-]), unique and
// the same for the same input. A single token is "default". Of several,
// a token's `label` in lower case names it when that is a valid name no
// other token of the user yields and none of the fallbacks is; otherwise
// it is SOURCE-N (N its place among the user's tokens, from 1).
std::vector<std::string> authenticator_names(const std::vector<ImportedUser>& tokens, std::string_view source);

// Why these tokens cannot together become one user's state, or empty if
// they can: a token refused on its own (with its origin when there are
// several), more than `max_authenticators`, two scratch-code sets (a user
// has one backup-code set), or two tokens with one secret (each would
// accept the same code once). Needs no KDF.
std::string refusal(const std::vector<ImportedUser>& tokens, unsigned max_authenticators);

// "A, B, C": the origins of the tokens, for messages.
std::string origins(const std::vector<ImportedUser>& tokens);

} // namespace twofactor::admin
