// Only in a module linked with -static-libstdc++ (pam_module/CMakeLists.txt).
//
// The module then carries its own copy of the parts of the C++ runtime it
// uses. Two of those parts are adjusted here.

#include <cstdlib>
#include <exception>

// 1. The terminate handler. libstdc++'s default one,
// __gnu_cxx::__verbose_terminate_handler, prints the type of the exception
// that was never caught, and so links in the whole C++ demangler: a third of
// the runtime's code in the module (about 55 KB of the 330 KB), and a parser
// of untrusted-looking input we do not need inside a root login module.
// Nothing should ever reach std::terminate here (no exception leaves
// pam_entry.cpp), and if something did, abort() leaves the same core dump
// without the message on sshd's stderr. Defining the runtime's own variable
// keeps the archive member that sets the verbose handler out of the link
// (libstdc++'s eh_term_handler.cc: that member defines nothing else).
namespace __cxxabiv1 {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): std::set_terminate writes it
std::terminate_handler __terminate_handler = std::abort;
} // namespace __cxxabiv1

// 2. The emergency exception pool. The runtime's start-up code allocates it
// (about 70 KiB) every time the module is loaded and never frees it. libpam
// loads and unloads the module on every pam_start/pam_end, so a process that
// authenticates more than once (a screen locker, a display manager, an auth
// daemon) would grow by that much per login. __gnu_cxx::__freeres() is
// libstdc++'s hook for releasing that pool (valgrind calls it at exit);
// nothing can throw through the module once libpam is unloading it, so
// freeing the pool then is safe.
//
// Never in a build with the shared libstdc++: the handler and the pool would
// be the host's.

namespace __gnu_cxx {
void __freeres();
} // namespace __gnu_cxx

namespace {

__attribute__((destructor)) void release_cxx_runtime_pool() { __gnu_cxx::__freeres(); }

} // namespace
