// twofactor forget: after re-authentication, every recognised device of the
// caller (docs/devices.md) is forgotten and asked for a code at its next
// login. Always allowed: it only takes trust away.
#include "self_service.hpp"

#include "device_list.hpp"
#include "output.hpp"

namespace twofactor::self_service {

ExitCode run_forget(Session& session)
{
    require_allowed(session, Operation::forget);
    const std::optional<UserState> before = load_own_state(session);
    const std::int64_t now = session.clock.now();
    if (!before || !before->enrolled()) {
        session.privileges.drop_permanently();
        cli::OutputBuffer out;
        out << "No second factor is set up for " << session.subject.user << ": no device is remembered.\n";
        out.flush();
        audit(session.subject, "forget", Outcome::success, "enrolled=no forgotten=0");
        return ExitCode::not_enrolled;
    }
    if (cli::current_devices(before->devices, now).empty()) {
        session.privileges.drop_permanently();
        cli::OutputBuffer out;
        out << "No device of yours is remembered; nothing to forget.\n";
        out.flush();
        audit(session.subject, "forget", Outcome::success, "forgotten=0");
        return ExitCode::ok;
    }
    require_reauthentication(session, before);
    std::size_t forgotten = 0;
    update_own_state(session, before, [&](UserState& state) {
        forgotten = cli::current_devices(state.devices, now).size();
        state.devices.clear();
    });
    session.privileges.drop_permanently();
    audit(session.subject, "forget", Outcome::success, "forgotten=" + std::to_string(forgotten));
    cli::OutputBuffer out;
    out << "Forgot " << static_cast<std::uint64_t>(forgotten)
        << " recognised device(s): each is asked for a code at its next login.\n";
    out.flush();
    return ExitCode::ok;
}

} // namespace twofactor::self_service
