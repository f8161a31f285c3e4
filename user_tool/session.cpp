#include "self_service.hpp"

#include "reauthentication.hpp"

#include "enrolment.hpp"

#include "account.hpp"
#include "state_compare.hpp"

#include <cstring>

namespace twofactor::self_service {
namespace {

// The user database did not answer: that says nothing about the account, so
// nothing is done (never "no such user").
Refused lookup_failed(const Account& account)
{
    return Refused(std::string("reason=user_lookup_failed: ") + std::strerror(account.error),
                   std::string("cannot look up your account in the user database (") + std::strerror(account.error)
                       + "); try again later, or ask your administrator");
}

// Root's ids for a use of the store, and no database connection left open
// after it, however it ends: once root's real uid is given back the caller
// may stop the process, and a stopped process must hold no connection.
class StoreUse {
public:
    explicit StoreUse(Session& session) : root_(session.privileges), store_(*session.store) {}
    ~StoreUse() { store_.idle(); } // before root_ lowers the ids
    StoreUse(const StoreUse&) = delete;
    StoreUse& operator=(const StoreUse&) = delete;
    StateStore& store() { return store_; }

private:
    const Privileged root_;
    StateStore& store_;
};

} // namespace

std::string own_user_name(uid_t uid)
{
    const Account by_uid = look_up_account(uid);
    if (by_uid.lookup == Account::Lookup::failed)
        throw lookup_failed(by_uid);
    if (by_uid.lookup == Account::Lookup::not_found)
        throw Refused("reason=unknown_uid", "your user id " + std::to_string(uid) + " has no account name");
    if (!valid_user_name(by_uid.name))
        throw Refused("reason=invalid_user_name", "your account name cannot have a second factor here");
    // Two names for one uid, or a name that resolves elsewhere or to another
    // spelling: the state file and PAM must both mean exactly this account.
    const Account by_name = look_up_account(by_uid.name);
    if (by_name.lookup == Account::Lookup::failed)
        throw lookup_failed(by_name);
    if (by_name.lookup != Account::Lookup::found || by_name.uid != uid || by_name.name != by_uid.name)
        throw Refused("reason=ambiguous_user_name", "your account name does not map back to your user id");
    return by_uid.name;
}

void require_allowed(const Session& session, Operation operation)
{
    const Config& c = session.config;
    // Forgetting devices only takes trust away: always allowed.
    const bool allowed = operation == Operation::forget ? true
        : operation == Operation::status                ? c.allow_user_status
        : operation == Operation::new_codes             ? c.allow_user_new_codes
                                                        : c.allow_user_enroll;
    if (!allowed)
        throw Refused("reason=not_allowed",
                      std::string("'twofactor ") + to_string(operation)
                          + "' is not allowed on this host; ask your administrator");
}

std::optional<UserState> load_own_state(Session& session)
{
    // What follows a read is a wait for the user (password, code, a QR code
    // on screen): StoreUse holds no database connection past the read, or a
    // few hundred idle prompts would take every connection of the fleet's
    // server.
    StoreUse use(session);
    return use.store().load(session.subject.user);
}

std::optional<UserState> prepare_change(Session& session)
{
    const Operation operation = session.command_line.operation;
    const Config& config = session.config;
    require_allowed(session, operation);
    if (operation == Operation::enroll && config.no_totp)
        throw Refused("reason=totp_disabled", "authenticator app codes are not accepted on this host (no_totp)");
    if (operation == Operation::new_codes && config.no_backup_codes)
        throw Refused("reason=backup_codes_disabled", "backup codes are not accepted on this host (no_backup_codes)");
    std::optional<UserState> before = load_own_state(session);
    if (!(before && before->enrolled()) && !config.allow_user_enroll)
        throw Refused("reason=not_allowed",
                      "you have no second factor yet, and setting one up yourself is not allowed on this host"
                      " (allow_user_enroll); ask your administrator");
    require_reauthentication(session, before);
    return before;
}

void update_own_state(Session& session, const std::optional<UserState>& checked,
                      const std::function<void(UserState&)>& change)
{
    bool changed_meanwhile = false;
    {
        // Nothing more to read or write after this: no connection (nor, in
        // libpq, the database password) kept while root is given up and
        // output made.
        StoreUse use(session);
        use.store().update(session.subject.user, [&](std::optional<UserState>& state) {
            changed_meanwhile = !same_second_factor(checked, state);
            if (changed_meanwhile)
                return false;
            change(cli::state_to_enrol(state, session.subject.user));
            return true;
        });
    }
    if (changed_meanwhile)
        throw Refused("reason=state_changed_meanwhile",
                      "your second factor was changed while you were being asked (by your administrator or another"
                      " 'twofactor' run); nothing changed: run 'twofactor "
                          + std::string(to_string(session.command_line.operation)) + "' again");
}

void require_reauthentication(Session& session, const std::optional<UserState>& before)
{
    const std::int64_t started = session.clock.now();
    Reauthentication result;
    {
        const Privileged root(session.privileges);
        result = reauthenticate(session.subject.user, session.subject.tty);
    }
    if (!result.passed)
        throw Refused(result.audit_reason, result.message);
    if (!before || !before->enrolled())
        return; // nothing to protect yet: the stack's nullok let this user through on the password
    const std::optional<UserState> after = load_own_state(session);
    const bool verified
        = after && after->last_login && after->last_login->service == kPamService && after->last_login->at >= started;
    if (!verified)
        throw Refused("reason=second_factor_not_checked",
                      std::string("the PAM service '") + kPamService
                          + "' did not check your second factor; nothing changed (ask your administrator)");
}

} // namespace twofactor::self_service
