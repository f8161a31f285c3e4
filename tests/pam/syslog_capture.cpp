// Captures what the module hands to pam_syslog. This executable exports
// pam_syslog and pam_vsyslog (see CMakeLists.txt): the main program comes
// first in the global symbol scope, before pam_wrapper and libpam, so the
// module's calls land here. Every line is also echoed to stderr, so a failing
// test shows the module's log.
#include "pam_login.hpp"

#include <security/pam_ext.h>

#include <cstdarg>
#include <cstdio>

namespace {

std::vector<pamtest::LogLine>& captured()
{
    static std::vector<pamtest::LogLine> lines;
    return lines;
}

} // namespace

extern "C" {

__attribute__((visibility("default"), format(printf, 3, 0))) void
pam_vsyslog(const pam_handle_t* /*pamh*/, int priority, const char* fmt, va_list args)
{
    char buffer[2048];
    std::vsnprintf(buffer, sizeof buffer, fmt, args);
    captured().push_back(pamtest::LogLine{priority, buffer});
    std::fprintf(stderr, "[pam_syslog %d] %s\n", priority, buffer);
}

__attribute__((visibility("default"), format(printf, 3, 4))) void pam_syslog(const pam_handle_t* pamh, int priority,
                                                                             const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    pam_vsyslog(pamh, priority, fmt, args);
    va_end(args);
}

} // extern "C"

namespace pamtest {

std::vector<LogLine> take_syslog()
{
    std::vector<LogLine> out;
    out.swap(captured());
    return out;
}

} // namespace pamtest
