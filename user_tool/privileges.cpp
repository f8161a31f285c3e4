#include "privileges.hpp"

#include "output.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>

namespace twofactor::self_service {
namespace {

[[noreturn]] void die(const char* what)
{
    admin::notice(std::string("cannot change user ids (") + what + "); stopped");
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
    set_ids(::setresuid(static_cast<uid_t>(-1), uid_, static_cast<uid_t>(-1)), "lower");
    uid_t r, e, s;
    gid_t rg, eg, sg;
    ids(r, e, s, rg, eg, sg);
    if (e != uid_ || eg != gid_)
        die("lower: effective ids unchanged");
}

void Privileges::raise()
{
    if (permanent_)
        die("raise after a permanent drop");
    set_ids(::setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)), "raise");
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
}

} // namespace twofactor::self_service
