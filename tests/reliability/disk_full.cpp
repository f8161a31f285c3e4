// Disk full and read-only state directories (docs/reliability.md, section 5),
// at the core level. Root only (exit 77 otherwise): it works in a private
// mount namespace, so nothing it mounts is seen outside the process, and
// unmounts everything in destructors as well.
//  1. The state directory on a 256 KiB tmpfs, filled up to the last byte;
//  2. on a tmpfs with almost no inodes left (the temp file cannot be made);
//  3. on a read-only bind mount.
// In each: a right backup code, the current TOTP code and a wrong code all
// throw StoreError (the module denies with PAM_AUTHINFO_UNAVAIL): a code is
// never accepted without its use being recorded, and a right code cannot be
// told from a wrong one. The error message names the directory and the cause
// and holds no code. The state file is unchanged byte for byte, no temp file
// is left, the state still loads; once the space is back (or through the
// writable path) the same codes are accepted once, and refused after that.
#include "errors.hpp"
#include "file_state_store.hpp"
#include "reliability_support.hpp"
#include "verifier.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

using namespace twofactor;
using namespace reliability;

namespace {

constexpr std::int64_t kNow = 1800000000;
const LoginContext kContext{"sshd", "203.0.113.5", "ssh"};

// A mount that is undone whatever happens.
class Mount {
public:
    Mount(const std::string& source, const std::string& target, const char* type, unsigned long flags,
          const std::string& options)
        : target_(target)
    {
        ok_ = ::mount(source.c_str(), target.c_str(), type, flags, options.empty() ? nullptr : options.c_str()) == 0;
        if (!ok_)
            std::fprintf(stderr, "mount %s on %s: %s\n", source.c_str(), target.c_str(), std::strerror(errno));
    }
    ~Mount() { unmount(); }
    Mount(const Mount&) = delete;
    Mount& operator=(const Mount&) = delete;

    bool ok() const { return ok_; }
    bool remount_read_only()
    {
        return ::mount(nullptr, target_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
    }
    void unmount()
    {
        if (ok_ && ::umount2(target_.c_str(), MNT_DETACH) != 0)
            std::fprintf(stderr, "umount %s: %s\n", target_.c_str(), std::strerror(errno));
        ok_ = false;
    }

private:
    std::string target_;
    bool ok_ = false;
};

struct Attempt {
    std::string outcome; // "StoreError", "accepted", "wrong code", ...
    std::string message;
};

Attempt attempt(Verifier& v, const std::string& user, const std::string& typed)
{
    try {
        return {to_string(v.verify(user, typed, kContext).verdict), ""};
    } catch (const StoreError& e) {
        return {"StoreError", e.what()};
    } catch (const std::exception& e) {
        return {"unexpected exception", e.what()};
    }
}

// Fills the file system holding `dir` with one file, to the last byte.
long long fill_space(const std::string& dir)
{
    const std::string path = dir + "/.filler";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    std::vector<char> block(4096, 'x');
    long long total = 0;
    for (std::size_t chunk : {std::size_t{4096}, std::size_t{1}}) {
        for (;;) {
            const ssize_t n = ::write(fd, block.data(), chunk);
            if (n <= 0)
                break;
            total += n;
        }
    }
    ::close(fd);
    return total;
}

// Uses up the inodes of the file system holding `dir`.
long fill_inodes(const std::string& dir)
{
    long made = 0;
    for (;; ++made) {
        const std::string path = dir + "/.inode" + std::to_string(made);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            break;
        ::close(fd);
    }
    return made;
}

// The three attempts that must all be denied on a store that cannot be
// written, and what must hold afterwards.
void expect_all_denied(const char* where, const std::string& dir, const Enrolment& e, const std::string& user,
                       const char* cause)
{
    FileStateStore store(dir);
    FixedClock clock(kNow);
    Verifier v(store, VerifyPolicy{}, clock);
    const std::string path = dir + "/" + user;
    const std::optional<std::string> before = read_file(path);
    CHECK(before.has_value(), "%s: no state file to start with", where);

    const struct {
        const char* what;
        std::string typed;
    } tries[] = {{"backup code", e.code(0)}, {"TOTP code", e.totp(kNow)}, {"wrong code", "AAAAAAAA"}};
    for (const auto& t : tries) {
        const Attempt a = attempt(v, user, t.typed);
        CHECK(a.outcome == "StoreError", "%s: %s: %s, expected StoreError", where, t.what, a.outcome.c_str());
        CHECK(a.message.find(dir) != std::string::npos && a.message.find(cause) != std::string::npos,
              "%s: %s: message '%s' does not name the directory and '%s'", where, t.what, a.message.c_str(), cause);
        CHECK(a.message.find(t.typed) == std::string::npos, "%s: %s: the message holds the code", where, t.what);
        CHECK(read_file(path) == before, "%s: %s: the state file changed", where, t.what);
        CHECK(!exists(dir + "/." + user + ".tmp"), "%s: %s: a temp file was left", where, t.what);
        std::printf("  %-22s %-12s -> %s: %s\n", where, t.what, a.outcome.c_str(), a.message.c_str());
    }
    bool loads = false;
    try {
        loads = store.load(user).has_value();
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s: load: %s\n", where, ex.what());
    }
    CHECK(loads, "%s: the state does not load any more", where);
}

// With the space back: each code works once.
void expect_codes_work_once(const char* where, const std::string& dir, const Enrolment& e, const std::string& user)
{
    FileStateStore store(dir);
    FixedClock clock(kNow);
    Verifier v(store, VerifyPolicy{}, clock);
    for (const std::string& code : {e.code(0), e.totp(kNow)}) {
        const Attempt first = attempt(v, user, code);
        const Attempt second = attempt(v, user, code);
        CHECK(first.outcome == "accepted", "%s: afterwards: %s (%s)", where, first.outcome.c_str(),
              first.message.c_str());
        CHECK(second.outcome == "wrong code", "%s: afterwards, a second time: %s", where, second.outcome.c_str());
    }
}

void disk_full(const std::string& base, const Enrolment& e)
{
    const std::string dir = base + "/full";
    ::mkdir(dir.c_str(), 0700);
    Mount tmpfs("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,mode=0700");
    if (!CHECK(tmpfs.ok(), "disk full: cannot mount a tmpfs"))
        return;
    FileStateStore store(dir);
    write_state(store, e.state("alice", kNow));
    const long long filled = fill_space(dir);
    CHECK(filled > 0, "disk full: could not fill the file system");
    std::printf("disk full: 256 KiB tmpfs, %lld bytes of filler\n", filled);
    expect_all_denied("disk full", dir, e, "alice", "No space left on device");
    CHECK(::unlink((dir + "/.filler").c_str()) == 0, "disk full: cannot remove the filler");
    expect_codes_work_once("disk full", dir, e, "alice");
}

void no_inodes(const std::string& base, const Enrolment& e)
{
    const std::string dir = base + "/inodes";
    ::mkdir(dir.c_str(), 0700);
    Mount tmpfs("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=16,mode=0700");
    if (!CHECK(tmpfs.ok(), "no inodes: cannot mount a tmpfs"))
        return;
    FileStateStore store(dir);
    write_state(store, e.state("alice", kNow));
    const long made = fill_inodes(dir);
    std::printf("no inodes: tmpfs with 16 inodes, %ld empty files made\n", made);
    expect_all_denied("no inodes", dir, e, "alice", "No space left on device");
    for (long i = 0; i < made; ++i)
        ::unlink((dir + "/.inode" + std::to_string(i)).c_str());
    expect_codes_work_once("no inodes", dir, e, "alice");
}

void read_only(const std::string& base, const Enrolment& e)
{
    const std::string rw = base + "/rw";
    const std::string ro = base + "/ro";
    ::mkdir(rw.c_str(), 0700);
    ::mkdir(ro.c_str(), 0700);
    {
        FileStateStore store(rw);
        write_state(store, e.state("alice", kNow));
        // bob has never been changed through the store: no lock file yet.
        std::string text(view(serialize_user_state(e.state("bob", kNow))));
        const int fd = ::open((rw + "/bob").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        CHECK(fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()),
              "read-only: cannot write bob's state");
        ::close(fd);
    }
    Mount bind(rw, ro, nullptr, MS_BIND, "");
    if (!CHECK(bind.ok() && bind.remount_read_only(), "read-only: cannot make a read-only bind mount"))
        return;
    expect_all_denied("read-only", ro, e, "alice", "Read-only file system");
    expect_all_denied("read-only, no lock", ro, e, "bob", "Read-only file system");
    bind.unmount();
    expect_codes_work_once("read-only", rw, e, "alice");
    expect_codes_work_once("read-only, no lock", rw, e, "bob");
}

} // namespace

int main()
{
    if (::geteuid() != 0) {
        std::printf("disk_full: SKIP (needs root to mount)\n");
        return 77;
    }
    // A private mount namespace: our mounts are invisible outside and die
    // with the process even if it crashes.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        std::printf("disk_full: SKIP (no private mount namespace: %s)\n", std::strerror(errno));
        return 77;
    }
    const Enrolment e = make_enrolment(10, kNow);
    {
        TempDir base;
        disk_full(base.path(), e);
        no_inodes(base.path(), e);
        read_only(base.path(), e);
    }
    return summary("disk_full",
                   "tmpfs full, tmpfs out of inodes, read-only bind mount: backup code, TOTP and "
                   "wrong code denied in each, state unchanged, codes usable once afterwards");
}
