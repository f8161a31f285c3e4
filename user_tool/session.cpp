#include "self_service.hpp"

#include "reauthentication.hpp"

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
    const Privileged root(session.privileges);
    return session.store->load(session.subject.user);
}

bool update_own_state(Session& session, const StateStore::Change& change)
{
    const Privileged root(session.privileges);
    return session.store->update(session.subject.user, change);
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
