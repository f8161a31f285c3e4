#include "libpq.hpp"

#include "errors.hpp"

#include <dlfcn.h>

#include <string>

namespace twofactor {

namespace {

std::string dl_error()
{
    const char* text = dlerror();
    return text ? text : "unknown error";
}

Libpq load()
{
    // A bare soname: the system's library search path only. A setuid
    // program's loader ignores LD_LIBRARY_PATH, and the tool clears it.
    void* handle = dlopen(kLibpqSoname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (handle == nullptr)
        throw StoreError(StoreErrc::io,
                         std::string("store = postgresql needs ") + kLibpqSoname
                             + " (Debian package libpq5): " + dl_error());
    Libpq lib;
    std::string missing; // the first function not found
#define TWOFACTOR_LIBPQ_RESOLVE(name)                                                                                  \
    lib.name = reinterpret_cast<decltype(lib.name)>(dlsym(handle, #name));                                             \
    if (lib.name == nullptr && missing.empty())                                                                        \
        missing = #name;
    TWOFACTOR_LIBPQ_FUNCTIONS(TWOFACTOR_LIBPQ_RESOLVE)
#undef TWOFACTOR_LIBPQ_RESOLVE
    if (!missing.empty()) {
        dlclose(handle);
        throw StoreError(StoreErrc::io, std::string(kLibpqSoname) + " has no " + missing + ": too old a libpq");
    }
    return lib;
}

} // namespace

const Libpq& pq()
{
    // A throwing initializer leaves the static uninitialized: the next call
    // tries again (after the administrator installs libpq5).
    static const Libpq lib = load();
    return lib;
}

} // namespace twofactor
