#include "groups.hpp"

#include "secure_memory.hpp"

#include <grp.h>
#include <unistd.h>

#include <cerrno>

namespace twofactor {

Group look_up_group(const std::string& name)
{
    Group out;
    out.name = name;
    const long hint = ::sysconf(_SC_GETGR_R_SIZE_MAX);
    SecureChars buffer(hint > 0 && hint <= 65536 ? static_cast<std::size_t>(hint) : 16384);
    for (;;) {
        group entry{};
        group* found = nullptr;
        const int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < (std::size_t{1} << 24)) {
            buffer = SecureChars(buffer.size() * 2); // a group with many members
            continue;
        }
        if (found != nullptr) {
            out.lookup = Group::Lookup::found;
            out.gid = found->gr_gid;
        } else if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
            out.lookup = Group::Lookup::not_found;
        } else {
            out.lookup = Group::Lookup::failed;
            out.error = rc;
        }
        return out;
    }
}

std::optional<std::vector<gid_t>> account_groups(const std::string& account, gid_t primary)
{
    std::vector<gid_t> groups(64);
    for (;;) {
        int count = static_cast<int>(groups.size());
        if (::getgrouplist(account.c_str(), primary, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            return groups;
        }
        // -1 with `count` set to the number needed: grow and ask again.
        if (count <= static_cast<int>(groups.size()))
            count = static_cast<int>(groups.size()) * 2;
        if (count > 65536)
            return std::nullopt;
        groups.resize(static_cast<std::size_t>(count));
    }
}

} // namespace twofactor
