// Comparing two states of one user, for the stores, for moving states
// between stores and for changes made after a wait: is it the same TOTP key,
// the same backup-code set, the same second factor, the same state; and
// merging so that a code spent on either side stays spent.
#pragma once

#include "user_state.hpp"

#include <optional>

namespace twofactor {

// The same authenticator: same name, type, secret, parameters and enrolment
// time (the replay step, the HOTP counter and the last use may differ).
bool same_totp_key(const TotpState& a, const TotpState& b);

// Same set: issue time, parameters, salt and the same hash in every slot
// (which codes are used may differ).
bool same_code_set(const BackupCodeSet& a, const BackupCodeSet& b);

// The same authenticators in the same order and the same backup-code set,
// or the same absence of each, where
// no state at all has neither: what a user set up is unchanged, whatever
// logins did meanwhile (codes spent, the replay step, failures, lockout).
bool same_second_factor(const std::optional<UserState>& a, const std::optional<UserState>& b);

// Equal in every field the state format holds.
bool same_state(const UserState& a, const UserState& b);

// `incoming`, except that whatever `existing` has spent stays spent: a code
// of the same set used in `existing` is used, the TOTP replay step of the
// same authenticator is the later of the two and its HOTP counter the
// higher, and the failure count and lockout are
// the stricter of the two. Used when one state overwrites
// another (twofactor-admin migrate --force), so no overwrite can make a
// spent code, TOTP step or HOTP counter valid again.
UserState keep_spent(const UserState& incoming, const UserState& existing);

} // namespace twofactor
