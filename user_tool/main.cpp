// twofactor(1): self-service for the second factor of the caller's own
// account, installed setuid root like passwd(1). In order: sanitize the
// process, lower to the real uid, parse the (tiny) command line, find the
// account of the real uid, read the fixed configuration and open the store
// as root, run one command, and map what went wrong to the documented exit
// status here and nowhere else. Every attempted operation leaves an audit
// line in syslog (authpriv).
#include "audit.hpp"
#include "command_line.hpp"
#include "operation_failed.hpp"
#include "output.hpp"
#include "privileges.hpp"
#include "process_hygiene.hpp"
#include "self_service.hpp"
#include "terminal.hpp"

#include "errors.hpp"
#include "store_factory.hpp"

#include <unistd.h>

#include <new>
#include <string>

#ifndef TWOFACTOR_VERSION
#error "TWOFACTOR_VERSION must be defined by the build"
#endif

namespace twofactor::self_service {
namespace {

void print(const char* text)
{
    cli::OutputBuffer out;
    out << text;
    out.flush();
}

ExitCode dispatch(Session& session)
{
    switch (session.command_line.operation) {
    case Operation::status:
        return run_status(session);
    case Operation::new_codes:
        return run_new_codes(session);
    case Operation::enroll:
        return run_enroll(session);
    case Operation::forget:
        return run_forget(session);
    }
    return ExitCode::usage;
}

int fail(ExitCode code, const std::string& message)
{
    cli::notice(message);
    return static_cast<int>(code);
}

// Runs the operation; audits and reports every way it can fail.
int run_operation(Session& session)
{
    const char* operation = to_string(session.command_line.operation);
    const auto failed = [&](Outcome outcome, const std::string& reason, const std::string& message) {
        audit(session.subject, operation, outcome, reason);
        return fail(ExitCode::failed, message);
    };
    try {
        return static_cast<int>(dispatch(session));
    } catch (const Refused& e) {
        return failed(Outcome::refused, e.audit_reason(), e.what());
    } catch (const cli::OperationFailed& e) {
        return failed(Outcome::failed, "reason=output", e.what());
    } catch (const StoreError& e) {
        // The details (paths, a database server's host, port and role) go to
        // the audit line, not to the user.
        return failed(Outcome::failed, std::string("reason=state_error: ") + e.what(),
                      "cannot use your second-factor state (ask your administrator: the details are in the"
                      " system log)");
    } catch (const InvalidUserName& e) {
        return failed(Outcome::failed, "reason=invalid_user_name", e.what());
    } catch (const CryptoError& e) {
        return failed(Outcome::failed, "reason=crypto_error", std::string("crypto: ") + e.what());
    } catch (const std::bad_alloc&) {
        return failed(Outcome::failed, "reason=out_of_memory", "out of memory");
    } catch (const std::exception& e) {
        return failed(Outcome::failed, "reason=internal_error", std::string("internal error: ") + e.what());
    }
}

int run(int argc, const char* const* argv, Privileges& privileges)
{
    const CommandLine command_line = parse_command_line(argc, argv);
    if (command_line.action == CommandLine::Action::help) {
        print(kUsage);
        return 0;
    }
    if (command_line.action == CommandLine::Action::version) {
        print("twofactor " TWOFACTOR_VERSION "\n");
        return 0;
    }

    Session session{AuditSubject{{}, privileges.uid(), cli::stdin_tty()},
                    privileges,
                    Config{},
                    nullptr,
                    SystemClock{},
                    command_line};
    const char* operation = to_string(command_line.operation);
    try {
        session.subject.user = own_user_name(privileges.uid());
    } catch (const Refused& e) {
        audit(session.subject, operation, Outcome::refused, e.audit_reason());
        return fail(ExitCode::failed, e.what());
    }

    try {
        // The fixed path only; it may be root-only (a database password
        // file is named there), and so may the store's credentials.
        const Privileged root(privileges);
        session.config = load_config("", {});
        session.store = open_state_store(session.config);
    } catch (const ConfigError& e) {
        audit(session.subject, operation, Outcome::failed, std::string("reason=configuration_error: ") + e.what());
        return fail(ExitCode::failed,
                    std::string("the configuration in ") + kDefaultConfigPath
                        + " is not valid; ask your administrator");
    } catch (const StoreError& e) {
        audit(session.subject, operation, Outcome::failed, std::string("reason=state_error: ") + e.what());
        return fail(ExitCode::failed, "cannot reach the second-factor state; ask your administrator");
    }
    return run_operation(session);
}

} // namespace
} // namespace twofactor::self_service

int main(int argc, char** argv)
{
    using namespace twofactor;
    using namespace twofactor::self_service;
    cli::set_program_name("twofactor");

    const Hygiene hygiene = sanitize_process();
    open_audit_log();
    if (hygiene == Hygiene::stdio_closed) {
        audit_early("refused: standard input, output or error is closed");
        return static_cast<int>(ExitCode::failed);
    }
    if (hygiene == Hygiene::failed) {
        audit_early("refused: could not sanitize the process");
        return fail(ExitCode::failed, "cannot set up a safe process; stopped");
    }
    if (::geteuid() != 0)
        return fail(ExitCode::failed, "not installed setuid root (owner root, mode 4755); ask your administrator");

    Privileges privileges;
    privileges.lower();
    try {
        return run(argc, argv, privileges);
    } catch (const UsageError& e) {
        cli::notice(std::string(e.what()) + " (see 'twofactor --help')");
        return static_cast<int>(ExitCode::usage);
    } catch (...) {
        return fail(ExitCode::failed, cli::current_failure_message());
    }
}
