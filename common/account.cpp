#include "account.hpp"

#include "secure_memory.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>

namespace twofactor {
namespace {

// `get(entry, buffer, size, found)` is getpwnam_r or getpwuid_r bound to
// its key.
template <typename Get>
Account look_up(Get get)
{
    const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    SecureChars buffer(hint > 0 && hint <= 65536 ? static_cast<std::size_t>(hint) : 16384);
    for (;;) {
        passwd entry{};
        passwd* found = nullptr;
        const int rc = get(&entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < (std::size_t{1} << 20)) {
            buffer = SecureChars(buffer.size() * 2);
            continue;
        }
        if (found != nullptr && found->pw_name != nullptr)
            return Account{Account::Lookup::found, found->pw_name, found->pw_uid, found->pw_gid, 0};
        if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
            return Account{Account::Lookup::not_found, {}, 0, 0, 0};
        return Account{Account::Lookup::failed, {}, 0, 0, rc};
    }
}

} // namespace

Account look_up_account(const std::string& name)
{
    return look_up([&name](passwd* entry, char* buffer, std::size_t size, passwd** found) {
        return ::getpwnam_r(name.c_str(), entry, buffer, size, found);
    });
}

Account look_up_account(uid_t uid)
{
    return look_up([uid](passwd* entry, char* buffer, std::size_t size, passwd** found) {
        return ::getpwuid_r(uid, entry, buffer, size, found);
    });
}

} // namespace twofactor
