// Built only with TWOFACTOR_SANITIZE. LeakSanitizer stops the world with
// ptrace, which the kernel refuses inside a setuid, non-dumpable process, so
// it would end every run with a fatal error: the sanitizer build of this
// tool checks memory errors and undefined behaviour, not leaks. (The
// environment cannot say so: the tool starts with the user's environment
// but reads no option from it.)
extern "C" const char* __asan_default_options();
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
