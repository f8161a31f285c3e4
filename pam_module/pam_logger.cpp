#include "pam_logger.hpp"

#include <security/pam_ext.h>
#include <syslog.h>

namespace twofactor::pam {

namespace {

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

} // namespace

void PamLogger::log(LogLevel level, const LogLine& line) noexcept
{
    if (level == LogLevel::debug && !debug_)
        return;
    // Always through "%s": the text is never a format string.
    pam_syslog(pamh_, priority(level), "%s", line.text().c_str());
}

void PamLogger::log(LogLevel level, const std::string& message) noexcept
{
    if (level == LogLevel::debug && !debug_)
        return;
    try {
        log(level, LogLine("note").detail(message));
    } catch (...) {
        // Out of memory while logging: losing the line beats failing the login path.
    }
}

} // namespace twofactor::pam
