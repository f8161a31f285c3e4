// twofactor enroll: after re-authentication, a new random TOTP secret is
// shown (otpauth URI, QR code, base32 text) and stored only once the user
// has typed a current code from the app; until then the old secret, if any,
// keeps working. Only the authenticator --name names (default: default) is
// added or replaced; the others and the backup codes are kept.
#include "self_service.hpp"

#include "enrolment.hpp"
#include "output.hpp"

namespace twofactor::self_service {

ExitCode run_enroll(Session& session)
{
    const Config& config = session.config;
    const std::optional<UserState> before = prepare_change(session);
    const std::string& name = session.command_line.name;
    const auto too_many = [&](const UserState& state) {
        return !state.find(name) && state.authenticators.size() >= config.max_authenticators;
    };
    if (before && too_many(*before))
        throw Refused("reason=too_many_authenticators",
                      "you have " + std::to_string(before->authenticators.size())
                          + " authenticators, the most allowed; re-enroll one of them with --name NAME");

    cli::Enrolment enrolment = cli::new_enrolment(session.subject.user, config, session.clock.now(), name);
    cli::OutputBuffer shown;
    shown << "Scan this QR code with your authenticator app, or type in the secret by hand.\n\n";
    cli::print_enrolment(shown, enrolment, session.command_line.qr);
    shown << '\n';
    shown.flush();
    // The code typed was on the screen: its step counts as used, so it
    // cannot open a login afterwards.
    const cli::Confirmation confirmation = cli::confirm_enrolment(enrolment, session.clock);
    if (confirmation.result != cli::Confirmation::Result::confirmed)
        throw Refused("reason=confirmation_failed",
                      "the code does not match the new secret; nothing changed, your previous app setup (if any)"
                      " still works (check the phone's clock, then run 'twofactor enroll' again)");
    cli::apply_confirmation(enrolment.totp, confirmation);

    bool replaced = false, has_codes = false;
    // update_own_state refuses a state changed since `before`, so the
    // count checked above still holds.
    update_own_state(session, before, [&](UserState& state) {
        replaced = state.find(name) != nullptr;
        has_codes = state.codes && state.codes->remaining() > 0;
        state.put(std::move(enrolment.totp));
        state.devices.clear(); // a new secret: every device proves itself again
    });
    session.privileges.drop_permanently();
    audit(session.subject, "enroll", Outcome::success,
          std::string("replaced=") + (replaced ? "yes" : "no") + " algorithm=" + to_string(config.totp.algorithm)
              + " digits=" + std::to_string(config.totp.digits) + " period=" + std::to_string(config.totp.period)
              + " name=" + name);

    cli::OutputBuffer out;
    out << "Your authenticator app \"" << name << "\" is set up for " << session.subject.user << ".\n";
    if (replaced)
        out << "The previous app setup of that name no longer works: delete its entry from the old app.\n";
    if (!has_codes)
        out << "You have no unused backup codes: make a set with 'twofactor new-codes'.\n";
    out.flush();
    return ExitCode::ok;
}

} // namespace twofactor::self_service
