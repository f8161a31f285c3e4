#include "self_service.hpp"

#include "reauthentication.hpp"

#include "state_compare.hpp"

#include <pwd.h>

#include <cerrno>
#include <vector>

namespace twofactor::self_service {
namespace {

// getpwuid_r / getpwnam_r with a growing buffer; false if not found or failed.
template <typename Lookup>
bool lookup(Lookup&& call, passwd& entry, std::vector<char>& buffer)
{
    buffer.assign(std::size_t{16} * 1024, '\0');
    for (;;) {
        passwd* found = nullptr;
        const int rc = call(&entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < (1u << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        return rc == 0 && found != nullptr;
    }
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
    passwd entry{};
    std::vector<char> buffer;
    if (!lookup([uid](passwd* e, char* b, std::size_t n, passwd** f) { return ::getpwuid_r(uid, e, b, n, f); }, entry,
                buffer))
        throw Refused("reason=unknown_uid", "your user id " + std::to_string(uid) + " has no account name");
    std::string name = entry.pw_name != nullptr ? entry.pw_name : "";
    if (!valid_user_name(name))
        throw Refused("reason=invalid_user_name", "your account name cannot have a second factor here");
    // Two names for one uid, or a name that resolves elsewhere: the state
    // file and PAM must both mean exactly this account.
    if (!lookup(
            [&name](passwd* e, char* b, std::size_t n, passwd** f) { return ::getpwnam_r(name.c_str(), e, b, n, f); },
            entry, buffer)
        || entry.pw_uid != uid)
        throw Refused("reason=ambiguous_user_name", "your account name does not map back to your user id");
    return name;
}

void require_allowed(const Session& session, Operation operation)
{
    const Config& c = session.config;
    const bool allowed = operation == Operation::status ? c.allow_user_status
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

bool same_second_factor(const std::optional<UserState>& a, const std::optional<UserState>& b)
{
    const auto totp = [](const std::optional<UserState>& s) { return s ? s->totp : std::nullopt; };
    const auto codes = [](const std::optional<UserState>& s) { return s ? s->codes : std::nullopt; };
    const std::optional<TotpState> ta = totp(a), tb = totp(b);
    const std::optional<BackupCodeSet> ca = codes(a), cb = codes(b);
    return ta.has_value() == tb.has_value() && (!ta || same_totp_key(*ta, *tb)) && ca.has_value() == cb.has_value()
        && (!ca || same_code_set(*ca, *cb));
}

void update_own_state(Session& session, const std::optional<UserState>& checked,
                      const std::function<void(std::optional<UserState>&)>& change)
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
            change(state);
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
