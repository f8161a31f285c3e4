// resync USER NAME: brings the stored counter of an HOTP token back in step
// after its button was pressed more often than the look-ahead (hotp_window)
// allows. Two consecutive codes from standard input, searched within
// kHotpResyncWindow counters after the stored one: two in a row are what
// a guess does not produce. On success the counter moves past the second
// code; on any failure nothing changes. Codes never come from argv.
#include "commands.hpp"

#include "output.hpp"
#include "terminal.hpp"

#include "hotp.hpp"
#include "verifier.hpp"

namespace twofactor::admin {
namespace {

class ResyncCommand final : public Command {
public:
    const char* name() const override { return "resync"; }
    const char* synopsis() const override { return "USER NAME   (two consecutive codes on standard input)"; }
    const char* summary() const override { return "resynchronise the counter of USER's HOTP token NAME"; }
    const char* details() const override
    {
        return "Reads two consecutive codes of the token, one per line, from standard input and\n"
               "looks for them within 100 counters after the stored one. Found: the counter moves\n"
               "past the second code. Not found: nothing changes, exit status 1. A TOTP\n"
               "authenticator has no counter and is refused.\n";
    }

    void declare(po::options_description& /*shown*/, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        hidden.add_options()("user", po::value<std::string>())("authenticator", po::value<std::string>());
        positional.add("user", 1).add("authenticator", 1);
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string user = required_user(ctx.options);
        if (!ctx.options.count("authenticator"))
            throw UsageError("missing the authenticator's NAME");
        const std::string name = ctx.options["authenticator"].as<std::string>();
        if (!valid_authenticator_name(name))
            throw UsageError("NAME: 1 to 32 of a-z 0-9 . _ - expected");
        const std::optional<UserState> before = ctx.store.load(user);
        if (!before || !before->enrolled())
            throw not_enrolled(user, ctx.config, before);
        check(before->find(name), user, name);

        const std::optional<SecureChars> first = cli::read_line("First code: ", cli::Prompt::terminal_only, true);
        const std::optional<SecureChars> second
            = first ? cli::read_line("Next code: ", cli::Prompt::terminal_only, true) : std::nullopt;
        if (!second)
            throw UsageError("two codes, one per line, are needed on standard input");

        std::optional<std::uint64_t> found;
        std::string refusal;
        ctx.store.update(user, [&](std::optional<UserState>& state) {
            Authenticator* a = state ? state->find(name) : nullptr;
            if (!a || a->type != AuthenticatorType::hotp) {
                refusal = user + " has no HOTP authenticator named " + name + " (changed meanwhile); nothing changed";
                return false;
            }
            found = hotp_resync(a->secret, a->params, a->counter, trim_code(view(*first)), trim_code(view(*second)));
            if (!found)
                return false;
            a->counter = *found + 2;
            return true;
        });
        if (!refusal.empty())
            throw OperationFailed(refusal);
        if (!found)
            throw OperationFailed("the two codes are not consecutive codes of " + name
                                  + " within 100 counters of the stored one; nothing changed");
        cli::notice("resynchronised " + name + " of " + user + ": the next code expected is counter "
                    + std::to_string(*found + 2));
        return ExitCode::ok;
    }

private:
    static void check(const Authenticator* a, const std::string& user, const std::string& name)
    {
        if (!a)
            throw NotEnrolled(user + " has no authenticator named " + name + "; nothing changed");
        if (a->type != AuthenticatorType::hotp)
            throw OperationFailed(name + " of " + user + " is a TOTP authenticator: it has no counter to resync");
    }
};

} // namespace

std::unique_ptr<Command> make_resync_command() { return std::make_unique<ResyncCommand>(); }

} // namespace twofactor::admin
