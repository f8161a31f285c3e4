// forward_pass: one answer holds the password immediately followed by the
// verification code (for clients that can answer only one prompt). This unit
// decides where the password ends; it needs no PAM handle, so it is tested
// on its own.
#pragma once

#include "secure_memory.hpp"

#include <optional>
#include <string_view>

namespace twofactor::pam {

// The code shapes the user can present, from their state (or the configured
// defaults for a user without state, so the split does not reveal enrolment).
struct CodeShapes {
    std::optional<unsigned> totp_digits;   // set if a TOTP code can be accepted
    std::optional<unsigned> backup_length; // set if a backup code can be accepted
};

struct SplitAnswer {
    SecureChars password;
    SecureChars code;
};

// The rule (also in the man page), after blanks (space, tab, CR, LF) at the
// end of the answer are set aside, as a code typed alone ignores them:
//  1. If a TOTP code is possible and the answer ends in `totp_digits` ASCII
//     digits, those digits are the code.
//  2. Otherwise, if a backup code is possible and the answer is long enough,
//     its last `backup_length` characters are the code.
//  3. Otherwise the code is empty (a wrong code) and the whole answer, blanks
//     included, is the password.
// Everything before the code is the password, byte for byte: no trimming,
// since a password may begin or end with spaces. TOTP comes first because it
// is the everyday case; the price is that a backup code whose last
// `totp_digits` characters are all digits (about 1 code in 2,200 for six
// digits) is read as a TOTP code and fails, and the user takes another one.
// One answer is checked once: trying both readings would count one attempt
// twice or give a second guess for free.
SplitAnswer split_forward_pass(std::string_view answer, const CodeShapes& shapes);

} // namespace twofactor::pam
