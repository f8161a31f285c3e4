// migrate --from STORE --to STORE: moves every user's whole state (TOTP
// secret and replay step, backup-code hashes with which are used, failure
// count and lockout, last login) from one store to the other, without
// re-issuing anything. Each user is copied while the source holds that
// user's lock, and removed from the source once the target has it, so a
// code cannot be spent in one store after it was copied to the other.
// Running it again continues where it stopped: a user already in the target
// with the same state is done; one with a different state is left alone
// unless --force, and even then nothing spent in the target is revived.
#include "commands.hpp"

#include "output.hpp"

#include "state_compare.hpp"
#include "store_factory.hpp"

namespace twofactor::admin {
namespace {

enum class Outcome { copied, identical, overwritten, refused, vanished };

Config::Store parse_store(const po::variables_map& options, const char* flag)
{
    if (!options.count(flag))
        throw UsageError(std::string("missing --") + flag + " file|postgresql");
    const std::string value = options[flag].as<std::string>();
    if (value == "file")
        return Config::Store::file;
    if (value == "postgresql")
        return Config::Store::postgresql;
    throw UsageError(std::string("--") + flag + ": expected file or postgresql, got '" + cli::printable(value) + "'");
}

const char* store_name(Config::Store store) { return store == Config::Store::file ? "file" : "postgresql"; }

class MigrateCommand final : public Command {
public:
    const char* name() const override { return "migrate"; }
    const char* synopsis() const override
    {
        return "--from file|postgresql --to file|postgresql [--force] [--keep-source]";
    }
    const char* summary() const override { return "move every user's state between the file and PostgreSQL stores"; }
    const char* details() const override
    {
        return "The file store is state_dir, the PostgreSQL store pg_conninfo (its schema must\n"
               "exist: db-init). Codes are not re-issued: used codes stay used, unused ones keep\n"
               "working, once. Each user is removed from the source once the target holds it\n"
               "(--keep-source: copied only). A user already in the target with the same state\n"
               "counts as done; with a different state it is not overwritten (exit status 1)\n"
               "unless --force, which keeps whatever the target had already spent.\n"
               "Stop logins, or switch every host to the target store right after: a code used\n"
               "through the source store after its user was moved is not spent in the target.\n";
    }

    void declare(po::options_description& shown, po::options_description& /*hidden*/,
                 po::positional_options_description& /*positional*/) const override
    {
        auto add = shown.add_options();
        add("from", po::value<std::string>()->value_name("STORE"), "the store to move from: file or postgresql");
        add("to", po::value<std::string>()->value_name("STORE"), "the store to move to: file or postgresql");
        add("force", po::bool_switch(), "overwrite users whose state in the target differs");
        add("keep-source", po::bool_switch(), "copy only: leave the source state in place");
    }

    ExitCode run(const Context& ctx) const override
    {
        const Config::Store from = parse_store(ctx.options, "from");
        const Config::Store to = parse_store(ctx.options, "to");
        if (from == to)
            throw UsageError("--from and --to name the same store");
        const bool force = flag(ctx.options, "force");
        const bool keep_source = flag(ctx.options, "keep-source");

        Config source_config = ctx.config;
        source_config.store = from;
        Config target_config = ctx.config;
        target_config.store = to;
        const std::unique_ptr<StateStore> source = open_state_store(source_config);
        const std::unique_ptr<StateStore> target = open_state_store(target_config);

        std::size_t counts[5] = {};
        cli::OutputBuffer out;
        for (const std::string& user : source->users()) {
            const Outcome outcome = move_one(*source, *target, user, force, keep_source);
            ++counts[static_cast<int>(outcome)];
            out << user << ": " << describe(outcome) << '\n';
            out.flush();
        }

        const std::size_t moved
            = counts[static_cast<int>(Outcome::copied)] + counts[static_cast<int>(Outcome::overwritten)];
        const std::size_t refused = counts[static_cast<int>(Outcome::refused)];
        cli::notice(std::string(keep_source ? "copied " : "moved ") + std::to_string(moved) + " user(s) from "
                    + store_name(from) + " to " + store_name(to) + "; "
                    + std::to_string(counts[static_cast<int>(Outcome::identical)]) + " already there; "
                    + std::to_string(refused) + " refused");
        if (refused > 0)
            throw OperationFailed(std::to_string(refused)
                                  + " user(s) have a different state in the target and were left alone (--force "
                                    "overwrites them)");
        return ExitCode::ok;
    }

private:
    static const char* describe(Outcome outcome)
    {
        switch (outcome) {
        case Outcome::copied:
            return "moved";
        case Outcome::identical:
            return "already in the target with the same state";
        case Outcome::overwritten:
            return "overwrote a different state in the target (spent codes kept spent)";
        case Outcome::refused:
            return "refused: a different state is in the target (use --force)";
        case Outcome::vanished:
            return "gone from the source meanwhile";
        }
        return "?";
    }

    // The target is written inside the source's update, so the source user
    // stays locked from the read until it is removed: no login can spend a
    // code in between.
    static Outcome move_one(StateStore& source, StateStore& target, const std::string& user, bool force,
                            bool keep_source)
    {
        Outcome outcome = Outcome::vanished;
        source.update(user, [&](std::optional<UserState>& from) {
            if (!from)
                return false;
            target.update(user, [&](std::optional<UserState>& to) {
                if (!to) {
                    to = *from;
                    outcome = Outcome::copied;
                    return true;
                }
                if (same_state(*to, *from)) {
                    outcome = Outcome::identical;
                    return false;
                }
                if (!force) {
                    outcome = Outcome::refused;
                    return false;
                }
                to = keep_spent(*from, *to);
                outcome = Outcome::overwritten;
                return true;
            });
            if (keep_source || outcome == Outcome::refused)
                return false;
            from.reset(); // the target has it now
            return true;
        });
        return outcome;
    }
};

} // namespace

std::unique_ptr<Command> make_migrate_command() { return std::make_unique<MigrateCommand>(); }

} // namespace twofactor::admin
