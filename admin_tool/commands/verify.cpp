// verify USER: checks one code from standard input through the same
// Verifier as a login, so it has the same effects: a backup code is spent,
// a TOTP step is recorded against replay, a failure counts toward lockout.
// The code never comes from argv, where any local user could read it.
#include "commands.hpp"

#include "output.hpp"
#include "terminal.hpp"

#include "clock_skew.hpp"
#include "verifier.hpp"

namespace twofactor::admin {
namespace {

class VerifyCommand final : public Command {
public:
    const char* name() const override { return "verify"; }
    const char* synopsis() const override { return "USER   (the code is read from standard input)"; }
    const char* summary() const override { return "check a code for USER exactly as a login would"; }
    const char* details() const override
    {
        return "Reads one line from standard input (hidden when it is a terminal). An accepted\n"
               "backup code is spent; a wrong code counts toward the lockout. Exit status 0 if\n"
               "accepted, 1 if wrong, reused or locked out, 2 if standard input is empty,\n"
               "3 if USER is not enrolled.\n";
    }

    void declare(po::options_description& /*shown*/, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        declare_user(hidden, positional);
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string user = required_user(ctx.options);
        // Before asking: nobody should type a code for a user who has none
        // (a record of failed codes alone is not a second factor).
        const std::optional<UserState> state = ctx.store.load(user);
        if (!state || !state->enrolled())
            throw not_enrolled(user, ctx.config, state);
        const std::optional<SecureChars> code = cli::read_line("Verification code: ", cli::Prompt::terminal_only, true);
        if (!code)
            throw UsageError("no code on standard input");

        Verifier verifier(ctx.store, VerifyPolicy::from(ctx.config), ctx.clock);
        const VerifyResult r
            = verifier.verify(user, view(*code), LoginContext{"twofactor-admin", "", cli::stdin_tty()});
        switch (r.verdict) {
        case Verdict::accepted:
            accepted(r, ctx.config);
            return ExitCode::ok;
        case Verdict::not_enrolled:
            throw not_enrolled(user, ctx.config);
        case Verdict::locked_out:
            throw OperationFailed(user + " is locked out until " + cli::format_time(r.locked_until)
                                  + "; the code was not checked (twofactor-admin unlock " + user + ")");
        case Verdict::wrong_code:
            break;
        }
        std::string why = r.replayed ? "code rejected: that TOTP code (or a later one) was already used"
            : r.skew_seconds         ? "code rejected: " + clock_skew_message(*r.skew_seconds)
                                     : "code rejected: wrong or already used";
        if (r.lockout_started)
            why += "; " + user + " is now locked out until " + cli::format_time(r.locked_until);
        throw OperationFailed(why);
    }

private:
    static void accepted(const VerifyResult& r, const Config& config)
    {
        cli::OutputBuffer out;
        if (r.method == Method::totp || r.method == Method::hotp) {
            out << (r.method == Method::totp ? "TOTP" : "HOTP") << " code accepted (authenticator " << r.authenticator
                << ").\n";
        } else {
            // The count a user is told after a backup-code login
            // (pam_twofactor(8)), in the administrator's words.
            out << "Backup code accepted; " << static_cast<std::uint64_t>(r.codes_remaining) << " of "
                << static_cast<std::uint64_t>(r.codes_total) << " backup codes remain.\n";
            if (r.codes_remaining == 0)
                out << "No backup codes remain: issue a new set.\n";
            else if (r.codes_remaining <= config.warn_remaining)
                out << "Few backup codes remain: consider issuing a new set.\n";
        }
        out.flush();
    }
};

} // namespace

std::unique_ptr<Command> make_verify_command() { return std::make_unique<VerifyCommand>(); }

} // namespace twofactor::admin
