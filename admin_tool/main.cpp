// twofactor-admin: parses the command line (Boost.Program_options), loads the
// configuration with the command's flags as overrides, refuses to touch the
// system state directory as non-root, runs one command, and maps whatever
// went wrong to the documented exit code. This file is the only place that
// knows which error means which exit code.
#include "command.hpp"

#include "output.hpp"

#include "errors.hpp"
#include "store_factory.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#ifndef TWOFACTOR_VERSION
#error "TWOFACTOR_VERSION must be defined by the build"
#endif

namespace twofactor::admin {
namespace {

// No abbreviations ("--conf" for "--config"): a mistyped flag is an error,
// not a guess.
constexpr int kStyle = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;

const char* const kExitCodes = "Exit status: 0 success; 1 verification or operation failed; 2 usage or\n"
                               "configuration error; 3 user not enrolled or unknown.\n";

po::options_description global_options()
{
    po::options_description d("Global options");
    auto add = d.add_options();
    add("config", po::value<std::string>()->value_name("PATH"), "config file (default /etc/security/twofactor.conf)");
    add("state-dir", po::value<std::string>()->value_name("DIR"),
        "the file store in DIR (overrides state_dir and store)");
    add("help,h", "show help (after a command: that command's help)");
    add("version", "show the version");
    return d;
}

struct Invocation {
    const Command* command = nullptr;
    po::variables_map options;                // global options plus the command's
    po::options_description shown{"Options"}; // the command's, for --help
};

// `positional_only` are the hidden options behind positional arguments
// (USER): they must not also be accepted as flags ("--user alice").
void store_parsed(const std::vector<std::string>& args, const po::options_description& all,
                  const po::positional_options_description& positional, const po::options_description& positional_only,
                  po::variables_map& into)
{
    const po::parsed_options parsed
        = po::command_line_parser(args).options(all).positional(positional).style(kStyle).run();
    for (const po::option& o : parsed.options)
        if (o.position_key == -1 && positional_only.find_nothrow(o.string_key, false))
            throw UsageError("unrecognised option '" + (o.original_tokens.empty() ? o.string_key : o.original_tokens[0])
                             + "'");
    po::store(parsed, into);
    po::notify(into);
}

// Splits argv at the command: global options may come before it, and
// (for convenience) after it, but never twice.
Invocation parse(int argc, char** argv, const std::vector<std::unique_ptr<Command>>& commands, std::string& hint)
{
    std::vector<std::string> before, after;
    std::optional<std::string> name;
    for (int i = 1; i < argc; ++i) {
        const std::string token = argv[i];
        if (name) {
            after.push_back(token);
        } else if (token == "--config" || token == "--state-dir") {
            before.push_back(token);
            if (i + 1 < argc)
                before.push_back(argv[++i]);
        } else if (token.size() > 1 && token[0] == '-') {
            before.push_back(token);
        } else {
            name = token;
        }
    }

    Invocation inv;
    const po::options_description global = global_options();
    po::variables_map global_vm;
    store_parsed(before, global, {}, {}, global_vm);

    if (!name) {
        if (global_vm.count("help") || global_vm.count("version")) {
            inv.options = std::move(global_vm);
            return inv;
        }
        throw UsageError("no command given");
    }
    for (const auto& c : commands)
        if (*name == c->name())
            inv.command = c.get();
    if (!inv.command)
        throw UsageError("unknown command '" + *name + "'");
    hint = std::string(" (see 'twofactor-admin ") + inv.command->name() + " --help')";

    po::positional_options_description positional;
    po::options_description hidden;
    inv.command->declare(inv.shown, hidden, positional);
    po::options_description all;
    all.add(inv.shown).add(hidden).add(global);
    po::variables_map command_vm;
    store_parsed(after, all, positional, hidden, command_vm);

    // po::store keeps the first value it sees, so a second --state-dir would
    // be silently ignored: refuse it instead.
    for (const auto& [key, value] : global_vm)
        if (command_vm.count(key) && !command_vm[key].defaulted())
            throw UsageError("--" + key + " given twice");
    inv.options = std::move(command_vm);
    for (auto& [key, value] : global_vm)
        inv.options.insert({key, value});
    return inv;
}

void print_overview(const std::vector<std::unique_ptr<Command>>& commands)
{
    std::cout << "Usage: twofactor-admin [--config PATH] [--state-dir DIR] COMMAND [ARGS]\n"
                 "       twofactor-admin --help | --version\n\n"
                 "Manage the TOTP secrets and one-time backup codes of pam_twofactor.\n\nCommands:\n";
    for (const auto& c : commands) {
        std::cout << "  ";
        std::cout.width(12);
        std::cout << std::left << c->name() << c->summary() << "\n";
    }
    std::cout << "\n"
              << global_options() << "\n"
              << "Run 'twofactor-admin COMMAND --help' for a command's options.\n"
              << kExitCodes;
}

void print_command_help(const Invocation& inv)
{
    const Command& c = *inv.command;
    std::cout << "Usage: twofactor-admin [GLOBAL OPTIONS] " << c.name() << " " << c.synopsis() << "\n\n"
              << c.summary() << "\n";
    if (*c.details())
        std::cout << "\n" << c.details();
    std::cout << "\n" << inv.shown << "\n" << global_options() << "\n" << kExitCodes;
}

// Flags that are configuration keys become overrides with the flag as their
// origin, so "--count 0" is refused by the same rule as backup_code_count=0.
std::vector<Setting> overrides(const Invocation& inv)
{
    std::vector<Setting> out;
    if (inv.options.count("state-dir")) {
        // The file store in DIR, whatever store the configuration names: how
        // an admin enrols the local accounts of pg_unavailable = local.
        out.push_back(Setting{"state_dir", inv.options["state-dir"].as<std::string>(), "--state-dir"});
        out.push_back(Setting{"store", std::string("file"), "--state-dir"});
        out.push_back(Setting{"pg_unavailable", std::string("deny"), "--state-dir"});
    }
    for (const ConfigFlag& f : inv.command->config_flags())
        if (inv.options.count(f.flag))
            out.push_back(Setting{f.key, inv.options[f.flag].as<std::string>(), std::string("--") + f.flag});
    return out;
}

// The system state directory belongs to root: a non-root run against it
// would fail on the first file anyway, with a less useful message. Compared
// by name and by inode, so a symlink or a trailing slash does not slip by.
void refuse_non_root_on_system_state(const Config& config)
{
    if (::geteuid() == 0)
        return;
    bool same = config.state_dir == kDefaultStateDir || config.state_dir == std::string(kDefaultStateDir) + "/";
    struct stat a {};
    struct stat b {};
    if (!same && ::stat(config.state_dir.c_str(), &a) == 0 && ::stat(kDefaultStateDir, &b) == 0)
        same = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    if (same)
        throw OperationFailed(std::string("must be run as root to use the system state directory ") + kDefaultStateDir
                              + " (use --state-dir for a private one)");
}

ExitCode run(int argc, char** argv, std::string& hint)
{
    const auto commands = all_commands();
    Invocation inv = parse(argc, argv, commands, hint);
    if (inv.options.count("version")) {
        std::cout << "twofactor-admin " << TWOFACTOR_VERSION << "\n";
        return ExitCode::ok;
    }
    if (inv.options.count("help")) {
        if (inv.command)
            print_command_help(inv);
        else
            print_overview(commands);
        return ExitCode::ok;
    }
    const std::string config_path = inv.options.count("config") ? inv.options["config"].as<std::string>() : "";
    if (inv.options.count("config") && config_path.empty())
        throw UsageError("--config: needs a path");
    if (inv.command->loads_config_itself())
        return inv.command->diagnose(inv.options, config_path, overrides(inv));
    const Config config = load_config(config_path, overrides(inv));
    refuse_non_root_on_system_state(config);

    const std::unique_ptr<StateStore> store = open_state_store(config);
    const SystemClock clock;
    return inv.command->run(Context{inv.options, config, *store, clock});
}

int fail(ExitCode code, const std::string& message)
{
    cli::notice(message);
    return static_cast<int>(code);
}

} // namespace
} // namespace twofactor::admin

int main(int argc, char** argv)
{
    using namespace twofactor;
    using namespace twofactor::admin;
    // A closed stdout must be an error we report (issue has then stored
    // codes it could not show), not a silent death by SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    ::umask(077);
    std::string hint = " (see 'twofactor-admin --help')";
    try {
        return static_cast<int>(run(argc, argv, hint));
    } catch (const UsageError& e) {
        return fail(ExitCode::usage, e.what() + hint);
    } catch (const po::error& e) {
        return fail(ExitCode::usage, e.what() + hint);
    } catch (const ConfigError& e) {
        return fail(ExitCode::usage, std::string("configuration: ") + e.what());
    } catch (const InvalidUserName& e) {
        return fail(ExitCode::usage, e.what());
    } catch (const NotEnrolled& e) {
        return fail(ExitCode::not_enrolled, e.what());
    } catch (const StoreError& e) {
        return fail(ExitCode::failed, std::string("state: ") + e.what());
    } catch (const CryptoError& e) {
        return fail(ExitCode::failed, std::string("crypto: ") + e.what());
    } catch (...) {
        return fail(ExitCode::failed, cli::current_failure_message());
    }
}
