#include "audit.hpp"

#include "output.hpp"

#include <syslog.h>

#include <array>
#include <cstddef>

namespace twofactor::self_service {
namespace {

// The word for each Outcome, in the enum's order.
constexpr std::array<const char*, 3> kOutcomeWords{"success", "refused", "failed"};

const char* to_string(Outcome outcome)
{
    const auto index = static_cast<std::size_t>(outcome);
    return index < kOutcomeWords.size() ? kOutcomeWords[index] : "failed";
}

} // namespace

void open_audit_log() { ::openlog("twofactor", LOG_PID, LOG_AUTHPRIV); }

void audit(const AuditSubject& subject, std::string_view operation, Outcome outcome, std::string_view detail)
{
    std::string line = "user=" + cli::printable(subject.user) + " uid=" + std::to_string(subject.uid)
        + " tty=" + (subject.tty.empty() ? std::string("-") : cli::printable(subject.tty))
        + " operation=" + std::string(operation) + " outcome=" + to_string(outcome);
    if (!detail.empty())
        line += " " + cli::printable(detail);
    ::syslog(outcome == Outcome::success ? LOG_NOTICE : LOG_WARNING, "%s", line.c_str());
}

void audit_early(std::string_view text) { ::syslog(LOG_WARNING, "%s", cli::printable(text).c_str()); }

} // namespace twofactor::self_service
