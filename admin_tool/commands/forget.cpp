// forget USER DEVICE | --all: the recognised devices of USER
// (docs/devices.md) ask for a code again at their next login. DEVICE is the
// short id `list USER` shows (or any prefix of the id of at least 8 hex
// digits that names one device).
#include "commands.hpp"

#include "output.hpp"

namespace twofactor::admin {
namespace {

class ForgetCommand final : public Command {
public:
    const char* name() const override { return "forget"; }
    const char* synopsis() const override { return "USER DEVICE | USER --all"; }
    const char* summary() const override { return "forget a recognised device of USER, or all of them"; }
    const char* details() const override
    {
        return "DEVICE is a short id from 'list USER'. The device is asked for a code at its\n"
               "next login. Exit status 3 if USER is not enrolled or has no such device.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        hidden.add_options()("user", po::value<std::string>())("device", po::value<std::string>());
        positional.add("user", 1).add("device", 1);
        shown.add_options()("all", po::bool_switch(), "forget every device of USER");
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string user = required_user(ctx.options);
        const bool all = flag(ctx.options, "all");
        const bool one = ctx.options.count("device") > 0;
        if (all == one)
            throw UsageError("name one DEVICE (see 'list " + user + "') or --all");
        const std::string device = one ? ctx.options["device"].as<std::string>() : std::string();
        if (one && !valid_device_prefix(device))
            throw UsageError("DEVICE must be at least " + std::to_string(kMinDevicePrefixDigits)
                             + " hex digits of an id that 'list " + user + "' shows");
        const std::optional<UserState> before = ctx.store.load(user);
        if (!before || !before->enrolled())
            throw not_enrolled(user, ctx.config, before);

        const std::int64_t now = ctx.clock.now();
        std::size_t forgotten = 0;
        std::size_t matches = 0;
        ctx.store.update(user, [&](std::optional<UserState>& state) {
            if (!state)
                return false;
            const bool expired = drop_expired_devices(state->devices, now);
            if (all) {
                forgotten = state->devices.size();
                state->devices.clear();
                return expired || forgotten > 0;
            }
            const std::vector<std::size_t> found = match_device_prefix(state->devices, device);
            matches = found.size();
            if (matches != 1)
                return expired;
            state->devices.erase(state->devices.begin() + static_cast<std::ptrdiff_t>(found.front()));
            forgotten = 1;
            return true;
        });
        if (!all && matches == 0)
            throw NotEnrolled(user + " has no recognised device " + cli::printable(device));
        if (!all && matches > 1)
            throw UsageError("DEVICE " + device + " names " + std::to_string(matches) + " devices of " + user
                             + "; give more digits");
        cli::notice(all ? "forgot " + std::to_string(forgotten) + " recognised device(s) of " + user
                        : "forgot device " + cli::printable(device) + " of " + user);
        return ExitCode::ok;
    }
};

} // namespace

std::unique_ptr<Command> make_forget_command() { return std::make_unique<ForgetCommand>(); }

} // namespace twofactor::admin
