#include "command_line.hpp"

#include "output.hpp"

#include <optional>
#include <string_view>
#include <utility>

namespace twofactor::self_service {

const char* const kUsage = "Usage: twofactor status\n"
                           "       twofactor new-codes\n"
                           "       twofactor enroll [--name NAME] [--qr utf8|ansi|none]\n"
                           "       twofactor forget\n"
                           "       twofactor --help | --version\n"
                           "\n"
                           "Manage the second factor of your own account on this host. It always acts on\n"
                           "the account you are logged in as; new-codes, enroll and forget first ask for your\n"
                           "password and a current verification code.\n"
                           "\n"
                           "Commands:\n"
                           "  status     whether an authenticator app is set up, backup codes left, last use\n"
                           "  new-codes  a new set of one-time backup codes, shown once; the old set stops working\n"
                           "  enroll     set up a new authenticator app (QR code), confirmed by a code from it;\n"
                           "             the app of that name stops working, the others and backup codes are kept\n"
                           "  forget     forget your recognised devices: each is asked for a code again\n"
                           "\n"
                           "Options:\n"
                           "  --qr STYLE  enroll: utf8 (default; light-on-dark terminals), ansi (any terminal)\n"
                           "              or none (no QR code, type the secret by hand)\n"
                           "  --name NAME enroll: the authenticator to add or replace (default: default),\n"
                           "              1-32 of a-z 0-9 . _ -\n"
                           "  --help      show this help\n"
                           "  --version   show the version\n"
                           "\n"
                           "Exit status: 0 done; 1 refused or failed (re-authentication failed, not allowed\n"
                           "by the administrator, wrong confirmation code, state or configuration error);\n"
                           "2 usage error; 3 status: no second factor set up.\n";

namespace {

// Each command's name, on the command line and in messages and audit lines.
constexpr std::pair<Operation, const char*> kOperationNames[] = {
    {Operation::status, "status"},
    {Operation::new_codes, "new-codes"},
    {Operation::enroll, "enroll"},
    {Operation::forget, "forget"},
};

} // namespace

const char* to_string(Operation operation)
{
    for (const auto& [candidate, name] : kOperationNames)
        if (candidate == operation)
            return name;
    return "unknown";
}

namespace {

// An argument quoted in a message: printable, and short.
std::string quoted(std::string_view argument)
{
    constexpr std::size_t kMax = 40;
    std::string text = cli::printable(argument.substr(0, kMax));
    if (argument.size() > kMax)
        text += "...";
    return "'" + text + "'";
}

std::optional<Operation> parse_operation(std::string_view text)
{
    for (const auto& [operation, name] : kOperationNames)
        if (text == name)
            return operation;
    return std::nullopt;
}

cli::QrStyle parse_qr(std::string_view value)
{
    const std::optional<cli::QrStyle> style = cli::parse_qr_style(value);
    if (!style)
        throw UsageError("--qr: expected utf8, ansi or none, got " + quoted(value));
    return *style;
}

} // namespace

CommandLine parse_command_line(int argc, const char* const* argv)
{
    CommandLine line;
    std::optional<Operation> operation;
    bool help = false, version = false, qr = false, named = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i] != nullptr ? argv[i] : "";
        if (arg == "--help" || arg == "-h") {
            help = true;
        } else if (arg == "--version") {
            version = true;
        } else if (arg == "--qr" || arg.substr(0, 5) == "--qr=") {
            if (qr)
                throw UsageError("--qr given twice");
            qr = true;
            if (arg == "--qr") {
                if (i + 1 >= argc || argv[i + 1] == nullptr)
                    throw UsageError("--qr needs a value (utf8, ansi or none)");
                line.qr = parse_qr(argv[++i]);
            } else {
                line.qr = parse_qr(arg.substr(5));
            }
        } else if (arg == "--name" || arg.substr(0, 7) == "--name=") {
            if (named)
                throw UsageError("--name given twice");
            named = true;
            if (arg == "--name" && (i + 1 >= argc || argv[i + 1] == nullptr))
                throw UsageError("--name needs a value");
            const std::string_view value = arg == "--name" ? std::string_view(argv[++i]) : arg.substr(7);
            if (!valid_authenticator_name(value))
                throw UsageError("--name: 1 to 32 of a-z 0-9 . _ - expected, got " + quoted(value));
            line.name = std::string(value);
        } else if (!arg.empty() && arg[0] == '-') {
            throw UsageError("unknown option " + quoted(arg));
        } else if (!operation) {
            operation = parse_operation(arg);
            if (!operation)
                throw UsageError("unknown command " + quoted(arg));
        } else {
            throw UsageError("unexpected argument " + quoted(arg)
                             + ": twofactor acts only on your own account and takes no user name");
        }
    }
    if (help) {
        line.action = CommandLine::Action::help;
        return line;
    }
    if (version) {
        line.action = CommandLine::Action::version;
        return line;
    }
    if (!operation)
        throw UsageError("no command given");
    if (qr && *operation != Operation::enroll)
        throw UsageError("--qr is only for enroll");
    if (named && *operation != Operation::enroll)
        throw UsageError("--name is only for enroll");
    line.operation = *operation;
    return line;
}

} // namespace twofactor::self_service
