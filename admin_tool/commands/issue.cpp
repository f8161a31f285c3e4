// issue USER...: a new backup-code set for each user. Only the hashes are
// stored; the codes are printed once, after the set is safely stored, and
// then wiped. For many users the hashing (one scrypt per code) runs on every
// core.
#include "commands.hpp"

#include "../json.hpp"

#include "enrolment.hpp"
#include "output.hpp"
#include "parallel.hpp"
#include "progress.hpp"

#include "backup_codes.hpp"

namespace twofactor::admin {
namespace {

class IssueCommand final : public Command {
public:
    const char* name() const override { return "issue"; }
    const char* synopsis() const override { return "USER... [--count N] [--length L] [--json]"; }
    const char* summary() const override { return "issue a new set of one-time backup codes for each USER"; }
    const char* details() const override
    {
        return "USER must be an account in the passwd database. The codes are shown now and never\n"
               "again (only salted scrypt hashes are stored). A new set replaces the previous one,\n"
               "whose codes stop working at once. Works for a user without TOTP (a codes-only\n"
               "second factor). With several users, every name is checked before any set is made;\n"
               "the sheets (or JSON objects, one a line) follow in the order given.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        hidden.add_options()("user", po::value<std::vector<std::string>>());
        positional.add("user", -1);
        // Config-key flags are strings: the config parser checks them.
        auto add = shown.add_options();
        add("count", po::value<std::string>()->value_name("N"), "number of codes, 1-100 (backup_code_count)");
        add("length", po::value<std::string>()->value_name("L"), "characters per code, 8-16 (backup_code_length)");
        add("json", po::bool_switch(), "print the codes as JSON (docs/json.md)");
    }

    std::vector<ConfigFlag> config_flags() const override
    {
        return {{"count", "backup_code_count"}, {"length", "backup_code_length"}};
    }

    ExitCode run(const Context& ctx) const override
    {
        if (!ctx.options.count("user"))
            throw UsageError("missing USER");
        const std::vector<std::string> users = ctx.options["user"].as<std::vector<std::string>>();
        for (const std::string& user : users) {
            // Checked before any lookup or file name is built from it.
            require_valid_user_name(user);
            require_account(user);
            // Fail on an unsafe or corrupt state file before spending the KDF time.
            ctx.store.load(user);
        }
        for (std::size_t i = 0; i < users.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (users[i] == users[j])
                    throw UsageError(users[i] + " is named twice");

        const std::int64_t now = ctx.clock.now();
        std::vector<IssuedCodes> issued(users.size());
        {
            cli::ProgressBar bar("hashing backup codes", users.size());
            cli::parallel_for(
                users.size(),
                [&](std::size_t i) {
                    issued[i] = generate_backup_codes(ctx.config.backup_code_count, ctx.config.backup_code_length,
                                                      ctx.config.scrypt, now);
                },
                [&](std::size_t done) { bar.update(done); });
        }
        for (std::size_t i = 0; i < users.size(); ++i) {
            issue_one(ctx, users[i], issued[i]);
            issued[i] = IssuedCodes{}; // wiped as soon as shown
        }
        return ExitCode::ok;
    }

private:
    static void issue_one(const Context& ctx, const std::string& user, const IssuedCodes& issued)
    {
        std::optional<BackupCodeSet> previous;
        bool has_totp = false;
        ctx.store.update(user, [&](std::optional<UserState>& state) {
            UserState& target = cli::state_to_enrol(state, user);
            previous = target.codes;
            has_totp = !target.authenticators.empty();
            target.codes = issued.set;
            return true;
        });

        cli::OutputBuffer out;
        if (flag(ctx.options, "json"))
            print_json(out, user, cli::host_name(), issued, previous.has_value(), has_totp);
        else
            cli::print_code_sheet(out, user, issued,
                                  "Keep these codes offline; each works once, and a new set cancels them.\n");
        cli::flush_new_codes(out, "issue again");

        if (previous)
            cli::notice("replaced the previous set of " + user + " (issued " + cli::format_time(previous->issued_at)
                        + ", " + std::to_string(previous->remaining()) + " of " + std::to_string(previous->slots.size())
                        + " unused): its codes no longer work");
        if (!has_totp)
            cli::notice(user + " has no TOTP secret: these backup codes are a codes-only second factor");
    }

    static void print_json(cli::OutputBuffer& out, const std::string& user, const std::string& host,
                           const IssuedCodes& issued, bool replaced, bool has_totp)
    {
        JsonWriter w(out);
        w.begin_object()
            .field("version", 1u)
            .field("user", user)
            .field("host", host)
            .field("issued_at", issued.set.issued_at)
            .field("length", issued.set.length)
            .field("count", static_cast<std::uint64_t>(issued.codes.size()))
            .field("replaced_previous_set", replaced)
            .field("totp_enrolled", has_totp);
        w.key("codes").begin_array();
        for (const SecureChars& code : issued.codes)
            w.value(code);
        w.end_array().end_object();
        out << '\n';
    }
};

} // namespace

std::unique_ptr<Command> make_issue_command() { return std::make_unique<IssueCommand>(); }

} // namespace twofactor::admin
