#include "file_state_store.hpp"

#include "errors.hpp"
#include "path_checks.hpp"
#include "read_whole.hpp"
#include "sealed_secret.hpp"
#include "unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

namespace twofactor {

namespace {

constexpr auto kLockTimeout = std::chrono::seconds(10);

std::string errno_text(int err) { return std::strerror(err); }

[[noreturn]] void io_error(const std::string& what, int err)
{
    throw StoreError(StoreErrc::io, what + ": " + errno_text(err));
}

// The rename (or unlink) is done, so the change is in effect, but the
// directory could not be synced: a crash may still bring back the old state.
[[noreturn]] void not_durable(const std::string& directory, int err)
{
    throw StoreError(StoreErrc::io,
                     directory + ": the change was made, but syncing the directory failed (" + errno_text(err)
                         + "): after a crash the old state may come back");
}

[[noreturn]] void too_large(const std::string& path)
{
    throw StoreError(StoreErrc::too_large, path + ": larger than " + std::to_string(kMaxStateBytes) + " bytes");
}

// A directory stream closed on scope exit, whatever throws in between.
struct DirCloser {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

std::string lock_name(const std::string& user) { return "." + user + ".lock"; }
std::string temp_name(const std::string& user) { return "." + user + ".tmp"; }

// Opens the state directory and checks it: a real directory (not a
// symlink), owned by us, with no group or other permissions (0700,
// docs/store.md: a readable directory would tell every local user who is
// enrolled).
UniqueFd open_directory(const std::string& path)
{
    if (last_component_not_a_name(path)) // config strips a trailing slash
        throw StoreError(StoreErrc::unsafe_directory, path + ": must not end in /, /. or /..");
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        const int err = errno;
        if (err == ELOOP || err == ENOTDIR)
            throw StoreError(StoreErrc::unsafe_directory, path + ": not a directory (or a symlink)");
        io_error(path, err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        io_error(path, errno);
    if (st.st_uid != ::geteuid())
        throw StoreError(StoreErrc::unsafe_directory,
                         path + ": owned by uid " + std::to_string(st.st_uid) + ", expected "
                             + std::to_string(::geteuid()));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        throw StoreError(StoreErrc::unsafe_directory, path + ": accessible by group or others (needs mode 0700)");
    return fd;
}

void check_file(const struct stat& st, const std::string& path)
{
    if (!S_ISREG(st.st_mode))
        throw StoreError(StoreErrc::unsafe_file, path + ": not a regular file");
    if (st.st_uid != ::geteuid())
        throw StoreError(StoreErrc::unsafe_file,
                         path + ": owned by uid " + std::to_string(st.st_uid) + ", expected "
                             + std::to_string(::geteuid()));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        throw StoreError(StoreErrc::unsafe_file, path + ": readable or writable by group or others");
    // nlink 0 is fine: a reader that opened the file just before a writer
    // renamed the new state over it sees the old, now unlinked, inode.
    if (st.st_nlink > 1)
        throw StoreError(StoreErrc::unsafe_file, path + ": has more than one hard link");
}

// An open state file and the size fstat gave when it was checked.
struct CheckedFile {
    UniqueFd fd;
    std::size_t size = 0;
};

// Opens a state file relative to the directory, refusing symlinks, devices
// and FIFOs (O_NONBLOCK keeps a FIFO from blocking before fstat rejects it).
// No file: an empty fd.
CheckedFile open_checked(int dirfd, const std::string& name, const std::string& path)
{
    CheckedFile file;
    file.fd = UniqueFd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!file.fd) {
        const int err = errno;
        if (err == ENOENT)
            return file;
        if (err == ELOOP)
            throw StoreError(StoreErrc::unsafe_file, path + ": is a symlink");
        io_error(path, err);
    }
    struct stat st {};
    if (::fstat(file.fd.get(), &st) != 0)
        io_error(path, errno);
    check_file(st, path);
    if (st.st_size > static_cast<off_t>(kMaxStateBytes))
        too_large(path);
    file.size = static_cast<std::size_t>(st.st_size);
    return file;
}

std::optional<UserState> read_state(int dirfd, const std::string& directory, const std::string& user,
                                    const SecretKeys* keys)
{
    const std::string path = directory + "/" + user;
    const CheckedFile file = open_checked(dirfd, user, path);
    if (!file.fd)
        return std::nullopt;
    const WholeFile text = read_whole(file.fd.get(), file.size, kMaxStateBytes);
    if (text.error != 0)
        io_error(path, text.error);
    if (text.too_large)
        too_large(path);
    try {
        UserState st = parse_user_state(std::string_view(text.data.data(), text.data.size()));
        if (st.user != user)
            throw StateFormatError(StateErrc::user_mismatch, 0, {});
        open_secrets(st, keys);
        return st;
    } catch (const StateFormatError& e) {
        throw StoreError(StoreErrc::corrupt, path + ": " + e.what());
    }
}

void write_all(int fd, const SecureChars& data, const std::string& path)
{
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            io_error(path, errno);
        }
        if (n == 0) // no progress and no error: give up rather than spin
            io_error(path, EIO);
        done += static_cast<std::size_t>(n);
    }
}

// temp file + fsync + rename + directory fsync: after a crash the file is
// either the old state or the new one.
void replace_state(int dirfd, const std::string& directory, const std::string& user, UserState& state,
                   const SecretKeys* keys)
{
    seal_secrets(state, keys);
    const std::string tmp = temp_name(user);
    const std::string tmp_path = directory + "/" + tmp;
    const auto create = [&] {
        return UniqueFd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    };
    UniqueFd fd = create();
    if (!fd && errno == EEXIST) {
        // A temp file left by a crashed writer: we hold the lock, so it is stale.
        if (::unlinkat(dirfd, tmp.c_str(), 0) != 0 && errno != ENOENT)
            io_error(tmp_path, errno);
        fd = create();
    }
    if (!fd)
        io_error(tmp_path, errno);
    try {
        if (::fchmod(fd.get(), 0600) != 0)
            io_error(tmp_path, errno);
        const SecureChars text = serialize_user_state(state);
        // Never write what read_state would refuse: the old state stays.
        if (text.size() > kMaxStateBytes)
            too_large(tmp_path);
        write_all(fd.get(), text, tmp_path);
        if (::fsync(fd.get()) != 0)
            io_error(tmp_path, errno);
        fd.reset();
        if (::renameat(dirfd, tmp.c_str(), dirfd, user.c_str()) != 0)
            io_error(directory + "/" + user, errno);
    } catch (...) {
        ::unlinkat(dirfd, tmp.c_str(), 0);
        throw;
    }
    if (::fsync(dirfd) != 0)
        not_durable(directory, errno);
}

void remove_state(int dirfd, const std::string& directory, const std::string& user)
{
    if (::unlinkat(dirfd, user.c_str(), 0) != 0 && errno != ENOENT)
        io_error(directory + "/" + user, errno);
    if (::fsync(dirfd) != 0)
        not_durable(directory, errno);
}

// An exclusive flock on a per-user lock file (the state file itself is
// replaced by rename, so it cannot carry the lock). The kernel drops the lock
// when the holder dies; the file staying behind is harmless.
UniqueFd lock_user(int dirfd, const std::string& directory, const std::string& user)
{
    const std::string name = lock_name(user);
    const std::string path = directory + "/" + name;
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600));
    if (!fd) {
        if (errno == ELOOP)
            throw StoreError(StoreErrc::unsafe_file, path + ": is a symlink");
        io_error(path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        io_error(path, errno);
    check_file(st, path);
    const auto deadline = std::chrono::steady_clock::now() + kLockTimeout;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            io_error(path, errno);
        if (std::chrono::steady_clock::now() > deadline)
            throw StoreError(StoreErrc::io, path + ": timed out waiting for the lock");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return fd;
}

} // namespace

FileStateStore::FileStateStore(std::string directory, std::shared_ptr<const SecretKeys> keys)
    : directory_(std::move(directory)),
      keys_(std::move(keys))
{
}

std::optional<UserState> FileStateStore::load(const std::string& user)
{
    require_valid_user_name(user);
    const UniqueFd dir = open_directory(directory_);
    return read_state(dir.get(), directory_, user, keys_.get());
}

std::vector<LoadedState> FileStateStore::load_many(const std::vector<std::string>& users)
{
    for (const std::string& user : users)
        require_valid_user_name(user);
    std::vector<LoadedState> out(users.size());
    UniqueFd dir;
    try {
        dir = open_directory(directory_);
    } catch (const StoreError& e) {
        for (LoadedState& loaded : out)
            loaded.error = e.what();
        return out;
    }
    for (std::size_t i = 0; i < users.size(); ++i) {
        try {
            out[i].state = read_state(dir.get(), directory_, users[i], keys_.get());
        } catch (const StoreError& e) {
            out[i].error = e.what();
        }
    }
    return out;
}

bool FileStateStore::update(const std::string& user, const Change& change)
{
    require_valid_user_name(user);
    const UniqueFd dir = open_directory(directory_);
    const UniqueFd lock = lock_user(dir.get(), directory_, user);
    std::optional<UserState> state = read_state(dir.get(), directory_, user, keys_.get());
    const bool existed = state.has_value();
    if (!change(state))
        return false;
    if (state) {
        state->user = user;
        replace_state(dir.get(), directory_, user, *state, keys_.get());
    } else if (existed) {
        remove_state(dir.get(), directory_, user);
    }
    return true;
}

std::vector<std::string> FileStateStore::users()
{
    UniqueFd dir = open_directory(directory_);
    const UniqueDir listing(::fdopendir(dir.get()));
    if (!listing)
        io_error(directory_, errno);
    (void)dir.release(); // the DIR owns the descriptor now; closedir closes it
    std::vector<std::string> out;
    for (;;) {
        errno = 0; // readdir's only way to tell an error from the end
        const dirent* e = ::readdir(listing.get());
        if (!e)
            break;
        const std::string name = e->d_name;
        if (name.front() != '.' && valid_user_name(name))
            out.push_back(name);
    }
    if (errno != 0)
        io_error(directory_, errno);
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace twofactor
