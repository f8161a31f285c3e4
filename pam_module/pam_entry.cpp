// The module's C ABI: the only exported symbols (see exports.map). No C++
// exception may cross into libpam, so each entry point catches everything
// and turns it into a PAM error, never into success.
#include "authenticate.hpp"
#include "pam_logger.hpp"

#include <security/pam_modules.h>

#include <exception>
#include <new>

namespace {

int unexpected(pam_handle_t* pamh, const char* what, int status) noexcept
{
    twofactor::pam::PamLogger logger(pamh);
    try {
        logger.log(twofactor::LogLevel::error,
                   twofactor::pam::LogLine("error").add("reason", "internal_error").detail(what));
    } catch (...) {
        // Nothing more to do without memory.
    }
    return twofactor::pam::fail(pamh, status);
}

} // namespace

extern "C" {

// PAM_EXTERN is empty on Linux and the module is built with
// -fvisibility=hidden: these two must say so themselves.
__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc,
                                                               const char** argv)
{
    try {
        return twofactor::pam::authenticate(pamh, flags, argc, argv);
    } catch (const std::bad_alloc&) {
        return unexpected(pamh, "out of memory", PAM_BUF_ERR);
    } catch (const std::exception& e) {
        return unexpected(pamh, e.what(), PAM_SERVICE_ERR);
    } catch (...) {
        return unexpected(pamh, "unknown exception", PAM_SERVICE_ERR);
    }
}

// No credentials to establish: the second factor leaves nothing behind.
__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/,
                                                          const char** /*argv*/)
{
    return PAM_SUCCESS;
}

} // extern "C"
