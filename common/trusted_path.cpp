#include "trusted_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace twofactor {

namespace {

constexpr int kMaxSymlinks = 40; // as the kernel's own limit

class Checker {
public:
    explicit Checker(const PathTrust& trust) : trust_(trust) {}

    bool trusted_owner(uid_t uid) const
    {
        return uid == 0 || uid == ::geteuid()
            || std::find(trust_.owners.begin(), trust_.owners.end(), uid) != trust_.owners.end();
    }

    bool writable_by_others(const struct stat& st) const
    {
        if ((st.st_mode & S_IWOTH) != 0)
            return true;
        return (st.st_mode & S_IWGRP) != 0
            && std::find(trust_.groups.begin(), trust_.groups.end(), st.st_gid) == trust_.groups.end();
    }

    // Why `entry` (already lstat-ed) cannot be trusted, or "". A directory
    // others may write to is judged by what is looked up in it.
    std::string owner_or_mode(const std::string& entry, const struct stat& st) const
    {
        if (!trusted_owner(st.st_uid))
            return entry + " is owned by uid " + std::to_string(st.st_uid);
        if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode) && writable_by_others(st))
            return entry + " is writable by group or others";
        return "";
    }

private:
    const PathTrust& trust_;
};

std::string join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

std::string parent_of(const std::string& dir)
{
    const auto slash = dir.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

// Pushes the components of `path` so that the first is on top.
void push_components(std::vector<std::string>& todo, const std::string& path)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const std::size_t end = slash == std::string::npos ? path.size() : slash;
        if (end > start)
            parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    todo.insert(todo.end(), parts.rbegin(), parts.rend());
}

} // namespace

std::optional<std::string> untrusted_part(const std::string& path, const PathTrust& trust)
{
    if (path.empty() || path.front() != '/')
        return path + " is not an absolute path";
    const Checker check(trust);
    std::string dir = "/"; // resolved so far: no symbolic link in it
    struct stat root_st {};
    if (::lstat("/", &root_st) != 0)
        return std::string("/: ") + std::strerror(errno);
    if (std::string why = check.owner_or_mode("/", root_st); !why.empty())
        return why;
    struct stat dir_st = root_st;

    std::vector<std::string> todo;
    push_components(todo, path);
    int links = 0;
    while (!todo.empty()) {
        const std::string name = todo.back();
        todo.pop_back();
        if (name == ".")
            continue;
        if (name == "..") {
            dir = parent_of(dir); // already checked on the way down
            if (::lstat(dir.c_str(), &dir_st) != 0)
                return dir + ": " + std::strerror(errno);
            continue;
        }
        const std::string entry = join(dir, name);
        const bool open_dir = check.writable_by_others(dir_st);
        struct stat st {};
        if (::lstat(entry.c_str(), &st) != 0) {
            const int err = errno;
            if (err != ENOENT && err != ENOTDIR)
                return entry + ": " + std::strerror(err);
            // Missing: fine unless someone else could create it.
            if (!open_dir)
                return std::nullopt;
            std::string why = dir;
            why.append(" is writable by others, who could create ").append(entry);
            return why;
        }
        if (std::string why = check.owner_or_mode(entry, st); !why.empty())
            return why;
        // Sticky: others may add names, but not rename or remove ours.
        if (open_dir && (dir_st.st_mode & S_ISVTX) == 0)
            return dir + " is writable by group or others";
        if (S_ISLNK(st.st_mode)) {
            if (++links > kMaxSymlinks)
                return path + ": too many symbolic links";
            std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4095) + 1, '\0');
            const ssize_t n = ::readlink(entry.c_str(), target.data(), target.size());
            if (n <= 0 || static_cast<std::size_t>(n) >= target.size())
                return entry + ": cannot read the symbolic link";
            target.resize(static_cast<std::size_t>(n));
            if (target.front() == '/') {
                dir = "/";
                dir_st = root_st;
            }
            push_components(todo, target);
            continue;
        }
        if (!S_ISDIR(st.st_mode))
            return std::nullopt; // anything after a file cannot exist (ENOTDIR)
        dir = entry;
        dir_st = st;
    }
    // The path names a directory: what is in it must be ours alone.
    if (check.writable_by_others(dir_st))
        return dir + " is writable by group or others";
    return std::nullopt;
}

} // namespace twofactor
