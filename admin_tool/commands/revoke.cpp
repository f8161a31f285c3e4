// revoke USER [--codes|--totp|--all]: removes a second factor. Removing the
// last one removes the user's state file, so the user is then exactly "not
// enrolled" to the module (denied, or let through by nullok).
#include "commands.hpp"

#include "output.hpp"

namespace twofactor::admin {
namespace {

enum class What { codes, totp, all };

class RevokeCommand final : public Command {
public:
    const char* name() const override { return "revoke"; }
    const char* synopsis() const override { return "USER [--codes | --totp | --all]"; }
    const char* summary() const override { return "remove USER's backup codes, TOTP secret, or both"; }
    const char* details() const override
    {
        return "USER need not have an account any more. Removing the last method (and --all)\n"
               "removes the user's state file, failure count and last-login record with it.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        declare_user(hidden, positional);
        auto add = shown.add_options();
        add("codes", po::bool_switch(), "remove the backup-code set only");
        add("totp", po::bool_switch(), "remove the TOTP secret only");
        add("all", po::bool_switch(), "remove both (the default)");
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string user = required_user(ctx.options);
        const What what = parse_what(ctx.options);
        // Looked at first, so a user without state leaves no lock file behind.
        // A record holding only failed codes has nothing to revoke (unlock
        // removes it).
        const std::optional<UserState> before = ctx.store.load(user);
        if (!before || !before->enrolled())
            throw not_enrolled(user, ctx.config, before);

        std::string missing;
        bool removed_file = false;
        ctx.store.update(user, [&](std::optional<UserState>& state) {
            if (!state || !state->enrolled()) {
                missing = "no second factor";
                return false;
            }
            if (what == What::codes && !state->codes) {
                missing = "no backup codes";
                return false;
            }
            if (what == What::totp && !state->totp) {
                missing = "no TOTP secret";
                return false;
            }
            if (what == What::codes)
                state->codes.reset();
            else if (what == What::totp)
                state->totp.reset();
            if (what == What::all || !state->enrolled()) {
                state.reset();
                removed_file = true;
            }
            return true;
        });
        if (!missing.empty())
            throw NotEnrolled(user + " has " + missing + "; nothing revoked");

        if (removed_file)
            cli::notice("removed the second factor of " + user
                        + ": not enrolled now (denied at login, or let through on the password alone with nullok)");
        else if (what == What::codes)
            cli::notice("revoked the backup codes of " + user + "; the TOTP secret remains");
        else
            cli::notice("revoked the TOTP secret of " + user + "; the backup codes remain");
        return ExitCode::ok;
    }

private:
    static What parse_what(const po::variables_map& options)
    {
        const bool codes = flag(options, "codes"), totp = flag(options, "totp"), all = flag(options, "all");
        if (int(codes) + int(totp) + int(all) > 1)
            throw UsageError("--codes, --totp and --all exclude each other");
        return codes ? What::codes : totp ? What::totp : What::all;
    }
};

} // namespace

std::unique_ptr<Command> make_revoke_command() { return std::make_unique<RevokeCommand>(); }

} // namespace twofactor::admin
