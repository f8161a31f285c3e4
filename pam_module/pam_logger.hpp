// twofactor::Logger over pam_syslog (facility authpriv, prefixed by libpam
// with the module and service name), and the one-line record of each
// decision. Messages carry user names, services, hosts and outcomes; never a
// code, a secret or a hash. Values that came from outside (user, rhost, tty,
// error texts) are made printable first, so nobody can forge log lines.
#pragma once

#include "logger.hpp"

#include <security/pam_modules.h>

#include <string>
#include <string_view>

namespace twofactor::pam {

class PamLogger final : public Logger {
public:
    explicit PamLogger(pam_handle_t* pamh) : pamh_(pamh) {}

    void set_debug(bool debug) { debug_ = debug; }
    bool debug() const { return debug_; }

    // Never throws: a log line that cannot be built is dropped.
    void log(LogLevel level, const std::string& message) noexcept override;

private:
    pam_handle_t* pamh_;
    bool debug_ = false;
};

// Who is logging in, from where: the fields every decision line starts with.
struct LoginFields {
    std::string user;
    std::string service;
    std::string rhost;
    std::string tty;
};

// "OUTCOME user=U service=S rhost=R tty=T method=M[ DETAIL]"; empty fields
// are "-". OUTCOME is one word (accepted, denied, locked_out, ignored,
// error); DETAIL is "key=value ..." chosen by the caller.
std::string decision_line(std::string_view outcome, const LoginFields& fields, std::string_view method,
                          std::string_view detail);

// Bytes outside printable ASCII, and spaces, become '?'; empty becomes "-";
// long values are cut. For one field of a log line.
std::string log_field(std::string_view value);

// The same for free text (error messages): spaces are kept.
std::string log_text(std::string_view value);

} // namespace twofactor::pam
