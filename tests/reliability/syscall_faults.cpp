#include "syscall_faults.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>

namespace faults {

namespace {

struct Session {
    bool active = false;
    bool has_plan = false;
    Plan plan;
    bool fired = false;
    int fail_next_write = 0; // after a short write
    std::vector<Event> events;
};

Session& session()
{
    static Session s;
    return s;
}

} // namespace

const char* to_string(Call call)
{
    switch (call) {
    case Call::open:
        return "open";
    case Call::openat:
        return "openat";
    case Call::read:
        return "read";
    case Call::write:
        return "write";
    case Call::fsync:
        return "fsync";
    case Call::renameat:
        return "renameat";
    case Call::flock:
        return "flock";
    case Call::unlinkat:
        return "unlinkat";
    case Call::fchmod:
        return "fchmod";
    }
    return "?";
}

void begin(const Plan* plan)
{
    Session& s = session();
    s = Session{};
    s.active = true;
    if (plan) {
        s.has_plan = true;
        s.plan = *plan;
    }
}

std::vector<Event> end()
{
    Session& s = session();
    s.active = false;
    s.fail_next_write = 0;
    return std::move(s.events);
}

bool fired() { return session().fired; }

namespace {

enum class Action { pass, fail, short_write };

// Records the call; says whether to fail it (errno already set).
Action intercept(Call call, std::string detail)
{
    Session& s = session();
    if (!s.active)
        return Action::pass;
    const std::size_t index = s.events.size();
    s.events.push_back(Event{call, std::move(detail)});
    if (call == Call::write && s.fail_next_write != 0) {
        errno = s.fail_next_write;
        s.fail_next_write = 0;
        return Action::fail;
    }
    if (!s.has_plan || index != s.plan.index)
        return Action::pass;
    s.fired = true;
    if (s.plan.mode == Mode::short_write && call == Call::write) {
        s.fail_next_write = s.plan.error;
        return Action::short_write;
    }
    errno = s.plan.error;
    return Action::fail;
}

std::string fd_kind(int fd)
{
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        return "directory";
    return "file";
}

} // namespace

} // namespace faults

using faults::Action;
using faults::Call;
using faults::intercept;

extern "C" {

int __real_open(const char* path, int flags, ...);
int __real_openat(int dirfd, const char* path, int flags, ...);
ssize_t __real_read(int fd, void* buf, size_t count);
ssize_t __real_write(int fd, const void* buf, size_t count);
int __real_fsync(int fd);
int __real_renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath);
int __real_flock(int fd, int operation);
int __real_unlinkat(int dirfd, const char* path, int flags);
int __real_fchmod(int fd, mode_t mode);

int __wrap_open(const char* path, int flags, ...)
{
    mode_t mode = 0;
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = static_cast<mode_t>(va_arg(ap, unsigned int));
        va_end(ap);
    }
    if (intercept(Call::open, path) != Action::pass)
        return -1;
    return __real_open(path, flags, mode);
}

int __wrap_openat(int dirfd, const char* path, int flags, ...)
{
    mode_t mode = 0;
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = static_cast<mode_t>(va_arg(ap, unsigned int));
        va_end(ap);
    }
    if (intercept(Call::openat, path) != Action::pass)
        return -1;
    return __real_openat(dirfd, path, flags, mode);
}

ssize_t __wrap_read(int fd, void* buf, size_t count)
{
    if (intercept(Call::read, std::to_string(count)) != Action::pass)
        return -1;
    return __real_read(fd, buf, count);
}

ssize_t __wrap_write(int fd, const void* buf, size_t count)
{
    switch (intercept(Call::write, std::to_string(count) + " bytes")) {
    case Action::pass:
        return __real_write(fd, buf, count);
    case Action::short_write:
        return __real_write(fd, buf, count > 1 ? count / 2 : count);
    case Action::fail:
        break;
    }
    return -1;
}

int __wrap_fsync(int fd)
{
    if (intercept(Call::fsync, faults::fd_kind(fd)) != Action::pass)
        return -1;
    return __real_fsync(fd);
}

int __wrap_renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath)
{
    if (intercept(Call::renameat, std::string(oldpath) + " -> " + newpath) != Action::pass)
        return -1;
    return __real_renameat(olddirfd, oldpath, newdirfd, newpath);
}

int __wrap_flock(int fd, int operation)
{
    if (intercept(Call::flock, (operation & LOCK_EX) != 0 ? "exclusive" : "other") != Action::pass)
        return -1;
    return __real_flock(fd, operation);
}

int __wrap_unlinkat(int dirfd, const char* path, int flags)
{
    if (intercept(Call::unlinkat, path) != Action::pass)
        return -1;
    return __real_unlinkat(dirfd, path, flags);
}

int __wrap_fchmod(int fd, mode_t mode)
{
    if (intercept(Call::fchmod, "") != Action::pass)
        return -1;
    return __real_fchmod(fd, mode);
}

} // extern "C"
