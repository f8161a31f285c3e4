#include "privileges.hpp"

#include "output.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace twofactor::self_service {
namespace {

[[noreturn]] void die(const char* what)
{
    cli::notice(std::string("cannot change user ids (") + what + "); stopped");
    std::_Exit(1);
}

void ids(uid_t& ruid, uid_t& euid, uid_t& suid, gid_t& rgid, gid_t& egid, gid_t& sgid)
{
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0)
        die("getresuid");
}

// Every change of effective (or filesystem) ids makes the kernel reset
// "dumpable" to fs.suid_dumpable, which may be 1 or 2. Until it is set back,
// a process whose ids are all the caller's may be traced and its memory
// read by the caller (the store's credentials, codes not yet shown), and
// the files in /proc/PID are the caller's. So each set*id call is followed
// at once by this, before its result is even looked at:
// then_not_dumpable(::setresuid(...)).
int then_not_dumpable(int rc)
{
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        die("PR_SET_DUMPABLE");
    return rc;
}

void set_ids(int rc, const char* what)
{
    if (then_not_dumpable(rc) != 0)
        die(what);
}

// The stops a terminal sends its foreground job (Ctrl-Z; reading or, with
// tostop, writing from the background) need no permission: they are held
// back while root's ids are in effect and delivered once they are given
// back, so the process stops only where it holds nothing. A background read
// then fails (EIO) instead of stopping. Ctrl-C, Ctrl-\ and a hang-up are
// left alone: they end the process, and the kernel closes its connections.
void hold_terminal_stops(bool hold)
{
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTSTP);
    sigaddset(&stops, SIGTTIN);
    sigaddset(&stops, SIGTTOU);
    if (::sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &stops, nullptr) != 0)
        die("sigprocmask");
}

} // namespace

Privileges::Privileges() : uid_(::getuid()), gid_(::getgid())
{
    if (::geteuid() != 0)
        die("not running with effective uid 0");
}

void Privileges::lower()
{
    if (permanent_)
        return;
    // Group first: after the uid is lowered we could no longer change it.
    set_ids(::setresgid(static_cast<gid_t>(-1), gid_, static_cast<gid_t>(-1)), "lower");
    set_ids(::setresuid(uid_, uid_, static_cast<uid_t>(-1)), "lower");
    uid_t r, e, s;
    gid_t rg, eg, sg;
    ids(r, e, s, rg, eg, sg);
    if (r != uid_ || e != uid_ || eg != gid_)
        die("lower: ids unchanged");
    hold_terminal_stops(false);
}

void Privileges::raise()
{
    if (permanent_)
        die("raise after a permanent drop");
    hold_terminal_stops(true);
    // The real uid too: it is what lets the caller signal the process
    // (kill(2)), and a process the caller stopped would hold its database
    // connection (or a PAM module's) for as long as the caller likes.
    set_ids(::setresuid(0, 0, 0), "raise");
    set_ids(::setresgid(static_cast<gid_t>(-1), 0, static_cast<gid_t>(-1)), "raise");
}

void Privileges::drop_permanently()
{
    if (permanent_)
        return;
    raise(); // setting the saved ids needs root when they differ
    set_ids(::setresgid(gid_, gid_, gid_), "drop");
    set_ids(::setresuid(uid_, uid_, uid_), "drop");
    permanent_ = true;
    uid_t r, e, s;
    gid_t rg, eg, sg;
    ids(r, e, s, rg, eg, sg);
    if (r != uid_ || e != uid_ || s != uid_ || rg != gid_ || eg != gid_ || sg != gid_)
        die("drop: ids unchanged");
    // The proof (CERT POS37-C): a non-root user must not get root back.
    if (uid_ != 0 && (then_not_dumpable(::setuid(0)) == 0 || then_not_dumpable(::seteuid(0)) == 0))
        die("drop: root could be regained");
    hold_terminal_stops(false);
}

} // namespace twofactor::self_service
