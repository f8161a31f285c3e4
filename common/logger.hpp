// One small logging interface for the core's callers: the module implements
// it over pam_syslog, the tool over stderr. Messages are fixed text plus
// user names, services and hosts; never a code, a secret or a hash.
#pragma once

#include <string>

namespace twofactor {

enum class LogLevel { error, warning, notice, info, debug };

class Logger {
public:
    virtual ~Logger() = default;
    virtual void log(LogLevel level, const std::string& message) = 0;
};

class NullLogger final : public Logger {
public:
    void log(LogLevel /*level*/, const std::string& /*message*/) override {}
};

} // namespace twofactor
