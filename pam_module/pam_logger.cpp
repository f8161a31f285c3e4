#include "pam_logger.hpp"

#include <security/pam_ext.h>
#include <syslog.h>

namespace twofactor::pam {

namespace {

constexpr std::size_t kMaxFieldBytes = 128;
constexpr std::size_t kMaxTextBytes = 512;

int priority(LogLevel level)
{
    switch (level) {
    case LogLevel::error:
        return LOG_ERR;
    case LogLevel::warning:
        return LOG_WARNING;
    case LogLevel::notice:
        return LOG_NOTICE;
    case LogLevel::info:
        return LOG_INFO;
    case LogLevel::debug:
        return LOG_DEBUG;
    }
    return LOG_NOTICE;
}

std::string printable(std::string_view value, std::size_t limit, bool keep_spaces)
{
    std::string out;
    const bool cut = value.size() > limit;
    if (cut)
        value = value.substr(0, limit);
    out.reserve(value.size() + 3);
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        const bool ok = (u > 0x20 && u < 0x7f) || (keep_spaces && u == 0x20);
        out.push_back(ok ? c : '?');
    }
    if (cut)
        out += "...";
    return out;
}

} // namespace

void PamLogger::log(LogLevel level, const std::string& message) noexcept
{
    if (level == LogLevel::debug && !debug_)
        return;
    try {
        const std::string line = log_text(message);
        // Always through "%s": the text is never a format string.
        pam_syslog(pamh_, priority(level), "%s", line.c_str());
    } catch (...) {
        // Out of memory while logging: losing the line beats failing the login path.
    }
}

std::string log_field(std::string_view value)
{
    if (value.empty())
        return "-";
    return printable(value, kMaxFieldBytes, false);
}

std::string log_text(std::string_view value) { return printable(value, kMaxTextBytes, true); }

std::string decision_line(std::string_view outcome, const LoginFields& fields, std::string_view method,
                          std::string_view detail)
{
    std::string line(outcome);
    line += " user=" + log_field(fields.user);
    line += " service=" + log_field(fields.service);
    line += " rhost=" + log_field(fields.rhost);
    line += " tty=" + log_field(fields.tty);
    line += " method=" + log_field(method);
    if (!detail.empty()) {
        line += ' ';
        line += detail;
    }
    return line;
}

} // namespace twofactor::pam
