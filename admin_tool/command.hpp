// The command framework of twofactor-admin: the exit codes, the error types
// commands throw, and the Command interface the runner dispatches to. The
// runner (main.cpp) is the one place that turns an error type into an exit
// code, so a command only says what went wrong, never how to exit.
#pragma once

#include "operation_failed.hpp"

#include "clock.hpp"
#include "config.hpp"
#include "state_store.hpp"

#include <boost/program_options.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor::admin {

namespace po = boost::program_options;

// Documented in --help and twofactor-admin(8).
enum class ExitCode : int {
    ok = 0,
    failed = 1,       // verification or operation failed
    usage = 2,        // bad command line or configuration
    not_enrolled = 3, // user not enrolled, or unknown to the system
};

// Bad command line: unknown or missing argument, conflicting flags.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The user has no state (or not the method asked about), or no account.
class NotEnrolled : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The operation was refused or failed (exit status 1): the error the pieces
// shared with twofactor(1) throw too.
using cli::OperationFailed;

// A command-line flag that is really a configuration key (--count is
// backup_code_count): the value goes through the config parser, so ranges
// and messages are the same as in twofactor.conf.
struct ConfigFlag {
    const char* flag; // without the leading "--"
    const char* key;
};

// What a command runs with. The config already carries the command's
// config flags; options holds everything parsed from the command line.
struct Context {
    const po::variables_map& options;
    const Config& config;
    StateStore& store;
    const Clock& clock;
};

class Command {
public:
    virtual ~Command() = default;

    virtual const char* name() const = 0;
    virtual const char* synopsis() const = 0;          // arguments after the name
    virtual const char* summary() const = 0;           // one line for the overview
    virtual const char* details() const { return ""; } // extra --help text

    // Declares the command's options (shown in --help) and its positional
    // arguments (as hidden options plus their positions).
    virtual void declare(po::options_description& shown, po::options_description& hidden,
                         po::positional_options_description& positional) const = 0;
    virtual std::vector<ConfigFlag> config_flags() const { return {}; }

    virtual ExitCode run(const Context& context) const = 0;

    // A command that checks the configuration and the store itself
    // (doctor): the runner calls diagnose() before loading either, so a
    // broken one is something it reports, not an exit.
    virtual bool loads_config_itself() const { return false; }
    virtual ExitCode diagnose(const po::variables_map& /*options*/, const std::string& /*config_path*/,
                              const std::vector<Setting>& /*overrides*/) const
    {
        return ExitCode::usage;
    }
};

// Every command, in the order --help lists them.
std::vector<std::unique_ptr<Command>> all_commands();

// Shared argument helpers.
std::string required_user(const po::variables_map& options); // the USER positional, name-checked
// Where state lives, for messages: "/var/lib/twofactor" or "the PostgreSQL store".
std::string store_name(const Config& config);
// "USER is not enrolled (no state in WHERE)", or, for a state that holds
// only failed codes (an account the module counted, docs/state-format.md),
// "USER is not enrolled (only failed codes are recorded; ...)".
NotEnrolled not_enrolled(const std::string& user, const Config& config);
NotEnrolled not_enrolled(const std::string& user, const Config& config, const std::optional<UserState>& state);
bool flag(const po::variables_map& options, const char* name); // a bool_switch
// Before giving `user` state: an account by exactly that name. Throws
// NotEnrolled if there is none; OperationFailed if the user database spells
// it otherwise ("ALICE" for alice), since logins look state up by the
// account's own name and would never find it.
void require_account(const std::string& user);

} // namespace twofactor::admin
