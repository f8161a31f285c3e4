// twofactor::Logger over pam_syslog (facility authpriv, prefixed by libpam
// with the module and service name). Messages carry user names, services,
// hosts and outcomes; never a code, a secret or a hash. Every line is a
// LogLine (log_line.hpp): fixed words and encoded values, so nobody can
// forge a line or a field through a value.
#pragma once

#include "log_line.hpp"
#include "logger.hpp"

#include <security/pam_modules.h>

#include <string>

namespace twofactor::pam {

class PamLogger final : public Logger {
public:
    explicit PamLogger(pam_handle_t* pamh) : pamh_(pamh) {}

    void set_debug(bool debug) { debug_ = debug; }
    bool debug() const { return debug_; }

    // Never throws: a line that cannot be logged is dropped.
    void log(LogLevel level, const LogLine& line) noexcept;

    // Free text from the core's Logger interface: logged whole as one value,
    // "note detail=MESSAGE".
    void log(LogLevel level, const std::string& message) noexcept override;

private:
    pam_handle_t* pamh_;
    bool debug_ = false;
};

} // namespace twofactor::pam
