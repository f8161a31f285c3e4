// twofactor status: what the caller's second factor looks like, without a
// code or a secret: authenticator app set up or not, backup codes left, the
// last verified login and the last backup code used (when, which service,
// from where), failures and lockout. Read-only, so no re-authentication.
#include "self_service.hpp"

#include "device_list.hpp"
#include "output.hpp"

#include "otpauth.hpp"

namespace twofactor::self_service {
namespace {

std::string where(const std::string& service, const std::string& rhost, const std::string& tty)
{
    std::string text = "via " + cli::printable(service.empty() ? std::string("-") : service);
    if (!rhost.empty())
        text += " from " + cli::printable(rhost);
    else if (!tty.empty())
        text += " on " + cli::printable(tty);
    return text;
}

const CodeUse* last_code_use(const BackupCodeSet& set)
{
    const CodeUse* last = nullptr;
    for (const CodeSlot& slot : set.slots)
        if (slot.used && (last == nullptr || slot.used->at > last->at))
            last = &*slot.used;
    return last;
}

void print(cli::OutputBuffer& out, const UserState& s, const Config& config, std::int64_t now)
{
    constexpr std::size_t kLabel = 26;
    if (s.authenticators.empty()) {
        out.padded("  Authenticator app:", kLabel);
        out << "not set up\n";
    }
    for (const Authenticator& a : s.authenticators) {
        out.padded("  Authenticator " + a.name + ":", kLabel);
        out << "set up " << cli::format_time(a.enrolled_at) << " (" << to_string(a.type) << ", "
            << cli::uri_algorithm(a.params.algorithm) << ", " << a.params.digits << " digits";
        if (a.type == AuthenticatorType::totp)
            out << ", " << a.params.period << " s)\n";
        else
            out << ", counter " << a.counter << ")\n";
    }

    out.padded("  Backup codes:", kLabel);
    if (s.codes)
        out << static_cast<std::uint64_t>(s.codes->remaining()) << " of "
            << static_cast<std::uint64_t>(s.codes->slots.size()) << " left, issued "
            << cli::format_time(s.codes->issued_at) << "\n";
    else
        out << "none\n";

    out.padded("  Last verified login:", kLabel);
    if (s.last_login)
        out << cli::format_time(s.last_login->at) << ", "
            << (s.last_login->method == Method::backup_code ? std::string("backup code")
                                                            : "code of " + cli::printable(s.last_login->authenticator))
            << ", " << where(s.last_login->service, s.last_login->rhost, s.last_login->tty) << "\n";
    else
        out << "never\n";

    if (s.codes)
        if (const CodeUse* use = last_code_use(*s.codes)) {
            out.padded("  Last backup code used:", kLabel);
            out << cli::format_time(use->at) << ", " << where(use->service, use->rhost, use->tty) << "\n";
        }

    out.padded("  Failed attempts:", kLabel);
    out << s.failures << " since the last success\n";
    if (s.locked_until > now) {
        out.padded("  Locked out until:", kLabel);
        out << cli::format_time(s.locked_until) << " (too many failed codes)\n";
    }

    if (!cli::current_devices(s.devices, now).empty()) {
        out << "  Recognised devices (no code asked until they expire; 'twofactor forget' forgets them):\n";
        cli::print_devices(out, s.devices, now, "    ");
    }

    if (s.codes && s.codes->remaining() == 0)
        out << "\nNo backup codes left: make a new set with 'twofactor new-codes'.\n";
    else if (s.codes && s.codes->remaining() <= config.warn_remaining)
        out << "\nFew backup codes left: make a new set with 'twofactor new-codes'.\n";
}

} // namespace

ExitCode run_status(Session& session)
{
    require_allowed(session, Operation::status);
    const std::optional<UserState> state = load_own_state(session);
    session.privileges.drop_permanently();

    const std::string& user = session.subject.user;
    cli::OutputBuffer out;
    if (!state || !state->enrolled()) {
        out << "No second factor is set up for " << user << " on " << cli::host_name() << ".\n";
        if (session.config.allow_user_enroll)
            out << "Set one up with 'twofactor enroll' (authenticator app) and 'twofactor new-codes'.\n";
        out.flush();
        audit(session.subject, "status", Outcome::success, "enrolled=no");
        return ExitCode::not_enrolled;
    }
    out << "Second factor of " << user << " on " << cli::host_name() << ":\n";
    print(out, *state, session.config, session.clock.now());
    out.flush();
    audit(session.subject, "status", Outcome::success, "enrolled=yes");
    return ExitCode::ok;
}

} // namespace twofactor::self_service
