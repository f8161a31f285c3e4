// The one place that decides a login: given a user's state, what they typed
// and the time, accept a code of one of the user's authenticators (TOTP or
// HOTP) or a backup code, refuse replays, count
// failures and lock out (pam_twofactor(8); docs/design.md, "Lockout").
// decide() is pure; Verifier wraps it in the store's read-modify-write and
// runs the KDF before taking the lock (docs/store.md).
#pragma once

#include "backup_codes.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "devices.hpp"
#include "state_store.hpp"
#include "user_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor {

struct LoginContext {
    std::string service;
    std::string rhost;
    std::string tty;
    // The device the first factor came from, when remembering applies to
    // this login (docs/devices.md): remembered if the code is accepted.
    std::optional<DeviceIdentity> device = std::nullopt;
};

enum class Verdict {
    accepted,
    wrong_code,   // wrong, malformed or replayed code (counted as a failure)
    locked_out,   // too many failures: refused without checking
    not_enrolled, // no TOTP secret and no backup codes (counted if count_unenrolled)
};
const char* to_string(Verdict verdict);

struct VerifyResult {
    Verdict verdict = Verdict::wrong_code;
    std::optional<Method> method; // how the code was accepted
    std::size_t codes_remaining = 0;
    std::size_t codes_total = 0;
    std::int64_t locked_until = 0; // set for locked_out and when this failure started a lockout
    bool lockout_started = false;
    bool replayed = false; // a valid TOTP code for a step already used
    // A refused TOTP code of a step outside the window, up to ten minutes
    // away (common/clock_skew.hpp): how far off the device's clock is, in
    // seconds (< 0: behind). Still a wrong code, counted as one.
    std::optional<std::int64_t> skew_seconds;
    std::string remembered = {}; // short id of the device this code remembered
    std::string authenticator;   // the name of the authenticator that accepted (TOTP, HOTP)
};

struct VerifyPolicy {
    unsigned window = 1;
    unsigned hotp_window = 10;
    unsigned max_failures = 5;
    unsigned lockout_seconds = 300;
    bool totp = true; // authenticators (TOTP and HOTP); off with no_totp
    bool backup_codes = true;
    // When set, a backup-shaped code typed for a user with no codes to check
    // (not enrolled, codes-only off, none left) still costs one KDF at these
    // parameters, so the response time does not tell who has codes.
    std::optional<ScryptParams> decoy_kdf;
    unsigned decoy_code_length = 8;
    // Count a code typed for a user who is not enrolled as a failure, with
    // the same lockout as for an enrolled user, in a state that holds only
    // the count (created if need be). The module sets it for a name that is
    // an account, without nullok, so that what a wrong code does (messages,
    // return codes, the write) does not tell who is enrolled. Off, a user
    // who is not enrolled gets not_enrolled and nothing is written.
    bool count_unenrolled = false;
    // Recognised devices: an accepted code remembers the context's device
    // for this many days (0: never), keeping at most max_devices.
    unsigned remember_days = 0;
    std::size_t max_devices = 10;

    static VerifyPolicy from(const Config& config);
};

// Trims surrounding whitespace (what the user typed, before any check).
std::string_view trim_code(std::string_view typed);

// Decides one attempt and applies its effect to `state`. `derived` is the KDF
// output of the typed code for the state's current set (nullopt if the input
// is not shaped like a backup code or was derived for another set). For a
// state that is not enrolled: not_enrolled, and with count_unenrolled the
// lockout check and the failure count an enrolled user gets.
VerifyResult decide(UserState& state, std::string_view typed, const std::optional<DerivedCode>& derived,
                    std::int64_t now, const VerifyPolicy& policy, const LoginContext& context);

class Verifier {
public:
    Verifier(StateStore& store, const VerifyPolicy& policy, const Clock& clock)
        : store_(store),
          policy_(policy),
          clock_(clock)
    {
    }

    // Throws InvalidUserName, StoreError, CryptoError; never accepts on error.
    VerifyResult verify(const std::string& user, std::string_view typed, const LoginContext& context);

    // The same, with `snapshot` the user's state as the caller read it
    // earlier (the module, before prompting) instead of reading it again.
    // It only picks the backup-code set the KDF runs for and answers "not
    // enrolled" / "locked" early; the decision is made on the state read
    // under the lock, so a stale snapshot can refuse a code, never accept one.
    VerifyResult verify(const std::string& user, std::string_view typed, const LoginContext& context,
                        const std::optional<UserState>& snapshot);

private:
    StateStore& store_;
    VerifyPolicy policy_;
    const Clock& clock_;
};

} // namespace twofactor
