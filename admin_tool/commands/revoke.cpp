// revoke USER [--codes|--totp|--authenticator NAME|--all]: removes a second
// factor (--totp: every authenticator; --authenticator: that one only). Removing the
// last one removes the user's state file, so the user is then exactly "not
// enrolled" to the module (denied, or let through by nullok).
#include "commands.hpp"

#include "output.hpp"

namespace twofactor::admin {
namespace {

enum class What { codes, totp, one, all };

class RevokeCommand final : public Command {
public:
    const char* name() const override { return "revoke"; }
    const char* synopsis() const override { return "USER [--codes | --totp | --authenticator NAME | --all]"; }
    const char* summary() const override { return "remove USER's backup codes, authenticators, or both"; }
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
        add("totp", po::bool_switch(), "remove every authenticator (TOTP and HOTP) only");
        add("authenticator", po::value<std::string>()->value_name("NAME"), "remove the authenticator NAME only");
        add("all", po::bool_switch(), "remove both (the default)");
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string user = required_user(ctx.options);
        const What what = parse_what(ctx.options);
        const std::string name = what == What::one ? ctx.options["authenticator"].as<std::string>() : std::string();
        if (what == What::one && !valid_authenticator_name(name))
            throw UsageError("--authenticator: 1 to 32 of a-z 0-9 . _ - expected");
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
            if (what == What::totp && state->authenticators.empty()) {
                missing = "no authenticator";
                return false;
            }
            if (what == What::one && !state->find(name)) {
                missing = "no authenticator named " + name;
                return false;
            }
            if (what == What::codes)
                state->codes.reset();
            else if (what == What::totp)
                state->authenticators.clear();
            else if (what == What::one)
                state->remove(name);
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
            cli::notice("revoked the backup codes of " + user + "; the authenticators remain");
        else if (what == What::one)
            cli::notice("revoked the authenticator " + name + " of " + user + "; the rest remain");
        else
            cli::notice("revoked the authenticators of " + user + "; the backup codes remain");
        return ExitCode::ok;
    }

private:
    static What parse_what(const po::variables_map& options)
    {
        const bool codes = flag(options, "codes"), totp = flag(options, "totp"), all = flag(options, "all");
        const bool one = options.count("authenticator") > 0;
        if (int(codes) + int(totp) + int(all) + int(one) > 1)
            throw UsageError("--codes, --totp, --authenticator and --all exclude each other");
        return codes ? What::codes : totp ? What::totp : one ? What::one : What::all;
    }
};

} // namespace

std::unique_ptr<Command> make_revoke_command() { return std::make_unique<RevokeCommand>(); }

} // namespace twofactor::admin
