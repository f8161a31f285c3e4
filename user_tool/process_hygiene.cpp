#include "process_hygiene.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace twofactor::self_service {
namespace {

// For a setuid program glibc replaces a closed fd 0, 1 or 2 before main()
// with /dev/full opened write-only (stdin) or /dev/null read-only (stdout,
// stderr): so "closed" is also an fd that cannot be used in its direction.
bool standard_fds_usable()
{
    for (int fd = 0; fd <= 2; ++fd) {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags == -1)
            return false;
        const int mode = flags & O_ACCMODE;
        if (mode != O_RDWR && mode != (fd == STDIN_FILENO ? O_RDONLY : O_WRONLY))
            return false;
    }
    return true;
}

void close_inherited_fds()
{
    if (::close_range(3, ~0U, 0) == 0)
        return;
    // Kernels before 5.9: close one by one up to the descriptor limit.
    long max = ::sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = 3; fd < max; ++fd)
        ::close(fd);
}

bool reset_environment()
{
    // The dynamic loader has already ignored LD_* for this setuid program;
    // clearing the rest keeps it from reaching PAM modules and the helpers
    // they run (unix_chkpwd), and the locale from changing any parsing.
    if (::clearenv() != 0)
        return false;
    return ::setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) == 0 && ::setenv("LANG", "C", 1) == 0
        && ::setenv("LC_ALL", "C", 1) == 0;
}

bool set_limits()
{
    const rlimit no_core{0, 0};
    const rlimit no_size_limit{RLIM_INFINITY, RLIM_INFINITY};
    return ::setrlimit(RLIMIT_CORE, &no_core) == 0 && ::setrlimit(RLIMIT_FSIZE, &no_size_limit) == 0
        && ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
}

void reset_signals()
{
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // An ignored SIGCHLD would make waitpid() fail for helpers PAM modules fork.
    std::signal(SIGCHLD, SIG_DFL);
    std::signal(SIGPIPE, SIG_IGN);
}

} // namespace

Hygiene sanitize_process()
{
    if (!standard_fds_usable())
        return Hygiene::stdio_closed;
    close_inherited_fds();
    ::umask(077);
    reset_signals();
    if (!set_limits() || !reset_environment())
        return Hygiene::failed;
    return Hygiene::ok;
}

} // namespace twofactor::self_service
