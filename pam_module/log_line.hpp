// The module's log lines, built so that nothing from outside can forge one:
// "EVENT key=value key=value ...", where EVENT and the keys are fixed words
// of this module and every value, whatever its origin (user name, remote
// host, tty, error texts, options), goes through log_value(). The format is
// documented in pam_twofactor(8), LOGGING.
#pragma once

#include <string>
#include <string_view>

namespace twofactor::pam {

// One value of a log line: printable ASCII stands for itself, except ' ',
// '=' and '%'; those and every other byte become %XX (upper-case hex), so a
// value never holds a space or an '=' and " key=" cannot appear inside it.
// Empty is "-" (and a value that is "-" is written "%2D"); a value over
// `limit` bytes is cut and ends in "...".
std::string log_value(std::string_view value, std::size_t limit = 128);

class LogLine {
public:
    // `event`: a fixed word of this module (accepted, denied, error, ...).
    explicit LogLine(std::string_view event) : text_(event) {}

    // `key`: a fixed word; `value` is encoded with log_value().
    LogLine& add(std::string_view key, std::string_view value);
    // "detail=TEXT": an error text (an exception's what(), strerror), encoded
    // like any value but cut only after 512 bytes.
    LogLine& detail(std::string_view text);

    const std::string& text() const { return text_; }

private:
    LogLine& add(std::string_view key, std::string_view value, std::size_t limit);

    std::string text_;
};

// Who is logging in, from where: the fields every decision line starts with.
struct LoginFields {
    std::string user;
    std::string service;
    std::string rhost;
    std::string tty;
};

// "OUTCOME user=U service=S rhost=R tty=T method=M"; the caller adds the
// rest (reason=..., ...). OUTCOME is accepted, denied, locked_out, ignored
// or error.
LogLine decision_line(std::string_view outcome, const LoginFields& fields, std::string_view method);

} // namespace twofactor::pam
