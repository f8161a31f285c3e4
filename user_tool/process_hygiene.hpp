// The first thing the setuid twofactor(1) does, before it reads anything:
// turn the process an untrusted user handed over (environment, open files,
// limits, umask, signal state) into one that is safe to run with root's
// effective uid.
#pragma once

namespace twofactor::self_service {

enum class Hygiene {
    ok,
    stdio_closed, // fd 0, 1 or 2 closed (or not open for reading / writing): refuse,
                  // rather than let a file we open become one of them
    failed,       // a limit or process flag could not be set
};

// Checks fds 0-2 and closes every fd above them; replaces the environment
// with PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C, LC_ALL=C; umask 077; no
// core dumps and not dumpable (no ptrace, no /proc/PID/mem for the user);
// no file-size limit (a user's RLIMIT_FSIZE must not cut a state write
// short); default SIGCHLD, nothing blocked, SIGPIPE ignored (a closed
// stdout is an error we report, not a silent death).
Hygiene sanitize_process();

} // namespace twofactor::self_service
