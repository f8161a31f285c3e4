// Setting up a second factor, the same in twofactor-admin and twofactor(1):
// a new random TOTP secret shown once (QR code, otpauth URI, base32 text)
// and kept only after a code from the app confirms it, and a new sheet of
// backup codes printed once. Each tool decides who may do it and when to
// store; this unit is what the person at the terminal sees and types.
#pragma once

#include "output.hpp"
#include "qr.hpp"

#include "backup_codes.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "user_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor::cli {

struct Enrolment {
    std::string account;
    std::string issuer; // shown by the app next to the account
    TotpState totp;     // the new secret; last_step set once confirmed
};

// A new random secret with the configuration's TOTP parameters, enrolled
// `now`, for `account`; the issuer is the configuration's, or the host name.
// The authenticator is called `name`; an HOTP one starts at counter 0.
Enrolment new_enrolment(const std::string& account, const Config& config, std::int64_t now,
                        const std::string& name = kDefaultAuthenticator,
                        AuthenticatorType type = AuthenticatorType::totp);

// The URI an app or token imports for the enrolment (otpauth://totp/ or,
// with its counter, otpauth://hotp/).
SecureChars enrolment_uri(const Enrolment& enrolment);

// Appends what a person needs to add the enrolment to an app: the QR code
// (nothing with QrStyle::none), the otpauth URI, the secret in groups of
// four, the type, issuer and account.
void print_enrolment(OutputBuffer& out, const Enrolment& enrolment, QrStyle style);

// The outcome of asking for a current code of the new secret.
struct Confirmation {
    enum class Result {
        confirmed, // step holds the code's time step (TOTP) or counter (HOTP): it counts as used
        no_input,  // end of input before any code
        no_match,  // no code typed matched (the phone's clock?)
    };
    Result result = Result::no_match;
    std::uint64_t step = 0;
};

// Reads codes from standard input until one is valid for the new secret at
// the clock's time (one step of drift either way; for HOTP, a counter up to
// kHotpResyncWindow ahead, as a token may have been pressed before): three
// tries on a terminal, one from a pipe or file, so a script fails at once.
Confirmation confirm_enrolment(const Enrolment& enrolment, const Clock& clock);

// Marks the confirmed code as spent: the TOTP step becomes the last used
// one, the HOTP counter moves past the code.
void apply_confirmation(Authenticator& authenticator, const Confirmation& confirmation);

// Appends the sheet of a new backup-code set for `account`: a heading with
// the host and the time of issue, the numbered codes with a box to tick off
// on paper, then `advice` (lines ending in '\n').
void print_code_sheet(OutputBuffer& out, const std::string& account, const IssuedCodes& issued,
                      std::string_view advice);

// Flushes `out`, which shows codes that are stored already: if that fails,
// the error says they were not shown, and `again` how to get a new set
// ("run 'twofactor new-codes' again"). Throws OperationFailed.
void flush_new_codes(OutputBuffer& out, std::string_view again);

// The state a new secret or code set goes into: `state`, made afresh for
// `user` if there is none yet or it holds only failed codes (not enrolled).
UserState& state_to_enrol(std::optional<UserState>& state, const std::string& user);

} // namespace twofactor::cli
