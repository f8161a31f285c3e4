// Only in a module linked with -static-libstdc++ (pam_module/CMakeLists.txt).
//
// The module then carries its own copy of the C++ runtime, whose start-up
// code allocates the emergency exception pool (about 70 KiB) every time the
// module is loaded and never frees it. libpam loads and unloads the module
// on every pam_start/pam_end, so a process that authenticates more than once
// (a screen locker, a display manager, an auth daemon) would grow by that much
// per login. __gnu_cxx::__freeres() is libstdc++'s hook for releasing that
// pool (valgrind calls it at exit); nothing can throw through the module once
// libpam is unloading it, so freeing the pool then is safe.
//
// Never in a build with the shared libstdc++: the pool would be the host's.

namespace __gnu_cxx {
void __freeres();
} // namespace __gnu_cxx

namespace {

__attribute__((destructor)) void release_cxx_runtime_pool() { __gnu_cxx::__freeres(); }

} // namespace
