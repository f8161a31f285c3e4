// twofactor new-codes: after re-authentication, a new set of one-time backup
// codes replaces the caller's old set (whose codes stop working at once).
// Only the hashes are stored; the codes are printed once, after the set is
// safely stored and root is given up for good, then wiped.
#include "self_service.hpp"

#include "operation_failed.hpp"
#include "output.hpp"

#include "backup_codes.hpp"

namespace twofactor::self_service {
namespace {

void print_codes(cli::OutputBuffer& out, const std::string& user, const IssuedCodes& issued, bool replaced)
{
    const std::string rule(64, '-');
    out << rule << "\nBackup codes for " << user << " on " << cli::host_name() << "\nIssued "
        << cli::format_time_long(issued.set.issued_at) << "\n\n";
    const std::size_t n = issued.codes.size();
    for (std::size_t i = 0; i < n; ++i)
        out << (n >= 10 && i + 1 < 10 ? "   " : "  ") << static_cast<std::uint64_t>(i + 1) << ".  " << issued.codes[i]
            << "   [ ]\n";
    out << "\nEach code works once, when your authenticator app is not at hand.\n"
           "Keep them in a password manager or on paper: never in a plain file\n"
           "or an email draft. Make a new set when you have used some, or when\n"
           "you change phones.\n";
    if (replaced)
        out << "Your previous backup codes no longer work.\n";
    out << rule << "\n";
}

} // namespace

ExitCode run_new_codes(Session& session)
{
    require_allowed(session, Operation::new_codes);
    const Config& config = session.config;
    if (config.no_backup_codes)
        throw Refused("reason=backup_codes_disabled", "backup codes are not accepted on this host (no_backup_codes)");
    // An unsafe or corrupt state fails here, before anyone types a password.
    const std::optional<UserState> before = load_own_state(session);
    // A first set of codes is a first second factor: it is an enrolment.
    if (!(before && before->enrolled()) && !config.allow_user_enroll)
        throw Refused("reason=not_allowed",
                      "you have no second factor yet, and setting one up yourself is not allowed on this host"
                      " (allow_user_enroll); ask your administrator");
    require_reauthentication(session, before);

    // The KDF runs with the user's ids: root is needed only for the write.
    IssuedCodes issued = generate_backup_codes(config.backup_code_count, config.backup_code_length, config.scrypt,
                                               session.clock.now());
    std::size_t unused_before = 0;
    bool replaced = false, has_totp = false;
    update_own_state(session, before, [&](std::optional<UserState>& state) {
        if (!state) {
            state.emplace();
            state->user = session.subject.user;
        }
        replaced = state->codes.has_value();
        unused_before = replaced ? state->codes->remaining() : 0;
        has_totp = state->totp.has_value();
        state->codes = issued.set;
    });
    session.privileges.drop_permanently();
    audit(session.subject, "new-codes", Outcome::success,
          "count=" + std::to_string(issued.codes.size()) + " replaced_set=" + (replaced ? "yes" : "no")
              + " unused_before=" + std::to_string(unused_before));

    cli::OutputBuffer out;
    print_codes(out, session.subject.user, issued, replaced);
    try {
        out.flush();
    } catch (const cli::OperationFailed& e) {
        throw cli::OperationFailed(std::string(e.what())
                                   + "; the new codes are stored but were not shown: run 'twofactor new-codes' again");
    }
    if (!has_totp)
        cli::notice("you have no authenticator app set up: these codes are your only second factor"
                    " (set one up with 'twofactor enroll')");
    return ExitCode::ok;
}

} // namespace twofactor::self_service
