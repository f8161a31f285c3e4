// The command line of twofactor(1), deliberately tiny: four commands, and
// --help, --version and (for enroll) --qr STYLE and --name NAME. There is no way to name a
// user, a configuration file or a state directory: the tool acts on the
// real uid's account with /etc/security/twofactor.conf, full stop.
#pragma once

#include "qr.hpp"

#include "user_state.hpp"

#include <stdexcept>
#include <string>

namespace twofactor::self_service {

enum class Operation { status, new_codes, enroll, forget };
const char* to_string(Operation operation); // "status", "new-codes", "enroll", "forget"

struct CommandLine {
    enum class Action { run, help, version } action = Action::run;
    Operation operation = Operation::status;
    cli::QrStyle qr = cli::QrStyle::utf8;
    std::string name = kDefaultAuthenticator; // enroll --name: the authenticator added or replaced
};

// Anything else on the command line: exit status 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws UsageError. Reads argv[1] .. argv[argc-1] only (argc may be 0).
CommandLine parse_command_line(int argc, const char* const* argv);

// The --help text, exit codes included.
extern const char* const kUsage;

} // namespace twofactor::self_service
