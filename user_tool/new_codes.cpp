// twofactor new-codes: after re-authentication, a new set of one-time backup
// codes replaces the caller's old set (whose codes stop working at once).
// Only the hashes are stored; the codes are printed once, after the set is
// safely stored and root is given up for good, then wiped.
#include "self_service.hpp"

#include "enrolment.hpp"
#include "output.hpp"

#include "backup_codes.hpp"

namespace twofactor::self_service {

ExitCode run_new_codes(Session& session)
{
    const Config& config = session.config;
    const std::optional<UserState> before = prepare_change(session);

    // The KDF runs with the user's ids: root is needed only for the write.
    IssuedCodes issued = generate_backup_codes(config.backup_code_count, config.backup_code_length, config.scrypt,
                                               session.clock.now());
    std::size_t unused_before = 0;
    bool replaced = false, has_totp = false;
    update_own_state(session, before, [&](UserState& state) {
        replaced = state.codes.has_value();
        unused_before = replaced ? state.codes->remaining() : 0;
        has_totp = !state.authenticators.empty();
        state.codes = issued.set;
    });
    session.privileges.drop_permanently();
    audit(session.subject, "new-codes", Outcome::success,
          "count=" + std::to_string(issued.codes.size()) + " replaced_set=" + (replaced ? "yes" : "no")
              + " unused_before=" + std::to_string(unused_before));

    cli::OutputBuffer out;
    cli::print_code_sheet(out, session.subject.user, issued,
                          std::string("Each code works once, when your authenticator app is not at hand.\n"
                                      "Keep them in a password manager or on paper: never in a plain file\n"
                                      "or an email draft. Make a new set when you have used some, or when\n"
                                      "you change phones.\n")
                              + (replaced ? "Your previous backup codes no longer work.\n" : ""));
    cli::flush_new_codes(out, "run 'twofactor new-codes' again");
    if (!has_totp)
        cli::notice("you have no authenticator app set up: these codes are your only second factor"
                    " (set one up with 'twofactor enroll')");
    return ExitCode::ok;
}

} // namespace twofactor::self_service
