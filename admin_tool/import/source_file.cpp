#include "source_file.hpp"

#include "imported_user.hpp"

#include "path_checks.hpp"
#include "read_whole.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace twofactor::admin {
namespace {

SourceFile read_fd(int fd, std::size_t cap, const struct stat& st)
{
    const WholeFile whole = read_whole(fd, static_cast<std::size_t>(st.st_size), cap);
    if (whole.error != 0)
        throw SourceError(0, std::string("cannot read: ") + std::strerror(whole.error));
    if (whole.too_large)
        throw SourceError(0, "larger than " + std::to_string(cap / 1024) + " KiB: not such a file");
    if (std::memchr(whole.data.data(), '\0', whole.data.size()) != nullptr)
        throw SourceError(0, "holds a NUL byte: not a text file");
    return SourceFile{whole.data, st.st_uid};
}

} // namespace

SourceFile read_source_file(const std::string& path, std::size_t cap)
{
    if (path == "-") {
        struct stat st {};
        if (::fstat(STDIN_FILENO, &st) != 0)
            throw SourceError(0, std::string("cannot read standard input: ") + std::strerror(errno));
        st.st_uid = ::geteuid();
        st.st_size = S_ISREG(st.st_mode) ? st.st_size : 0;
        return read_fd(STDIN_FILENO, cap, st);
    }
    if (last_component_not_a_name(path))
        throw SourceError(0, "not a file name");
    struct stat link {};
    if (::lstat(path.c_str(), &link) != 0)
        throw SourceError(0, std::strerror(errno));
    const bool symlink = S_ISLNK(link.st_mode);
    // O_NONBLOCK: a FIFO put in the file's place must not hang the import.
    const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (symlink ? 0 : O_NOFOLLOW);
    UniqueFd fd(::open(path.c_str(), flags));
    if (!fd)
        throw SourceError(0, errno == ELOOP ? "a symbolic link appeared in its place" : std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw SourceError(0, std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw SourceError(0, "not a regular file");
    if (symlink) {
        struct stat again {};
        const bool same_link = ::lstat(path.c_str(), &again) == 0 && again.st_ino == link.st_ino
            && again.st_dev == link.st_dev && again.st_uid == link.st_uid;
        if (!same_link)
            throw SourceError(0, "the symbolic link changed while it was opened");
        if (link.st_uid != 0 && link.st_uid != st.st_uid)
            throw SourceError(0,
                              "a symbolic link owned by uid " + std::to_string(link.st_uid)
                                  + ", neither root nor the owner of the file it points to: not followed");
    }
    return read_fd(fd.get(), cap, st);
}

} // namespace twofactor::admin
