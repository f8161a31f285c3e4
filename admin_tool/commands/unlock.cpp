// unlock USER: ends a lockout and clears the failure count (docs/design.md,
// "Lockout"), for the admin who has checked that the failures were the
// user's own. The record of an account that is not enrolled holds nothing
// but that count (docs/state-format.md): it is removed.
#include "commands.hpp"

#include "output.hpp"

namespace twofactor::admin {
namespace {

class UnlockCommand final : public Command {
public:
    const char* name() const override { return "unlock"; }
    const char* synopsis() const override { return "USER"; }
    const char* summary() const override { return "end USER's lockout and clear the failure count"; }

    void declare(po::options_description& /*shown*/, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        declare_user(hidden, positional);
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string user = required_user(ctx.options);
        if (!ctx.store.load(user))
            throw not_enrolled(user, ctx.config);

        const std::int64_t now = ctx.clock.now();
        bool found = false;
        bool removed = false;
        unsigned failures = 0;
        std::int64_t locked_until = 0;
        ctx.store.update(user, [&](std::optional<UserState>& state) {
            if (!state)
                return false;
            found = true;
            failures = state->failures;
            locked_until = state->locked_until;
            if (!state->enrolled()) {
                state.reset();
                removed = true;
                return true;
            }
            if (state->failures == 0 && state->locked_until == 0)
                return false; // nothing to write
            state->failures = 0;
            state->locked_until = 0;
            return true;
        });
        if (!found)
            throw not_enrolled(user, ctx.config);
        if (locked_until > now)
            cli::notice("unlocked " + user + " (was locked until " + cli::format_time(locked_until) + ")");
        else if (failures > 0)
            cli::notice("cleared " + std::to_string(failures) + " failed attempt(s) of " + user
                        + "; it was not locked");
        else
            cli::notice(user + " was not locked and had no failed attempts");
        if (removed)
            cli::notice(user + " is not enrolled: the record of its failed codes is removed");
        return ExitCode::ok;
    }
};

} // namespace

std::unique_ptr<Command> make_unlock_command() { return std::make_unique<UnlockCommand>(); }

} // namespace twofactor::admin
