// What the three commands of twofactor(1) share: the session they run in
// (the caller's own account, the fixed configuration, the store, the
// privileges), the errors they throw, and the steps every change takes:
// allowed by the configuration, state readable, re-authenticated.
#pragma once

#include "audit.hpp"
#include "command_line.hpp"
#include "privileges.hpp"

#include "clock.hpp"
#include "config.hpp"
#include "state_store.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace twofactor::self_service {

// Documented in --help and twofactor(1).
enum class ExitCode : int {
    ok = 0,
    failed = 1,       // refused or failed
    usage = 2,        // bad command line
    not_enrolled = 3, // status: no second factor set up
};

// Refused before or instead of a change: not allowed by the configuration,
// re-authentication failed, wrong confirmation code. Exit status 1.
class Refused : public std::runtime_error {
public:
    Refused(std::string audit_reason, const std::string& message)
        : std::runtime_error(message),
          audit_reason_(std::move(audit_reason))
    {
    }
    const std::string& audit_reason() const { return audit_reason_; } // "reason=..."

private:
    std::string audit_reason_;
};

struct Session {
    AuditSubject subject; // the real uid's account and terminal
    Privileges& privileges;
    Config config;
    std::unique_ptr<StateStore> store;
    SystemClock clock;
    CommandLine command_line;
};

// The real uid's account: its passwd entry, whose name must be a valid state
// file name and must map back to the same uid (common/account.hpp). Throws
// Refused, also when the user database cannot be read.
std::string own_user_name(uid_t uid);

// Throws Refused if twofactor.conf forbids `operation` (allow_user_*).
void require_allowed(const Session& session, Operation operation);

// The caller's state, read with root's effective uid. The store is then
// told to idle (StateStore::idle): a read is followed by a wait for input.
std::optional<UserState> load_own_state(Session& session);

// Runs the PAM service "twofactor". If the user had a second factor before,
// also checks that this very authentication verified it (the state's last
// login is by service "twofactor", at or after the start), so a stack that
// forgot pam_twofactor cannot let a password alone through. Throws Refused.
void require_reauthentication(Session& session, const std::optional<UserState>& before);

// The steps before a change (new-codes, enroll), in this order: allowed by
// the configuration (allow_user_*), the method accepted on this host
// (no_totp, no_backup_codes), the state read (an unsafe or corrupt one
// fails here, before anyone types a password), a first second factor
// allowed (a first set of codes is an enrolment too: allow_user_enroll),
// and the caller re-authenticated. Returns the state read, for
// update_own_state. Throws Refused.
std::optional<UserState> prepare_change(Session& session);

// Applies `change` to the caller's state (a new one if there is none) with
// root's effective uid, under the store's lock, only if the second factor is
// still the one `checked` (read before re-authentication): what an
// administrator did meanwhile (revoke, enroll, issue) or another twofactor
// run wrote wins. Throws Refused, with nothing written, otherwise.
void update_own_state(Session& session, const std::optional<UserState>& checked,
                      const std::function<void(UserState&)>& change);

ExitCode run_status(Session& session);
ExitCode run_new_codes(Session& session);
ExitCode run_enroll(Session& session);
ExitCode run_forget(Session& session);

} // namespace twofactor::self_service
