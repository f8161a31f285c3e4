#include "privileges.hpp"

#include "output.hpp"

#include <sys/prctl.h>
#include <unistd.h>

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

// Every change of effective uid resets "dumpable" to fs.suid_dumpable, which
// may be 1 or 2: set it back each time.
void not_dumpable()
{
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        die("PR_SET_DUMPABLE");
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
    if (::setresgid(static_cast<gid_t>(-1), gid_, static_cast<gid_t>(-1)) != 0
        || ::setresuid(static_cast<uid_t>(-1), uid_, static_cast<uid_t>(-1)) != 0)
        die("lower");
    uid_t r, e, s;
    gid_t rg, eg, sg;
    ids(r, e, s, rg, eg, sg);
    if (e != uid_ || eg != gid_)
        die("lower: effective ids unchanged");
    not_dumpable();
}

void Privileges::raise()
{
    if (permanent_)
        die("raise after a permanent drop");
    if (::setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)) != 0
        || ::setresgid(static_cast<gid_t>(-1), 0, static_cast<gid_t>(-1)) != 0)
        die("raise");
    not_dumpable();
}

void Privileges::drop_permanently()
{
    if (permanent_)
        return;
    raise(); // setting the saved ids needs root when they differ
    if (::setresgid(gid_, gid_, gid_) != 0 || ::setresuid(uid_, uid_, uid_) != 0)
        die("drop");
    permanent_ = true;
    uid_t r, e, s;
    gid_t rg, eg, sg;
    ids(r, e, s, rg, eg, sg);
    if (r != uid_ || e != uid_ || s != uid_ || rg != gid_ || eg != gid_ || sg != gid_)
        die("drop: ids unchanged");
    // The proof (CERT POS37-C): a non-root user must not get root back.
    if (uid_ != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
        die("drop: root could be regained");
    not_dumpable();
}

} // namespace twofactor::self_service
