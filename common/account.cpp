#include "account.hpp"

#include "secure_memory.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>

namespace twofactor {

Account look_up_account(const std::string& name)
{
    const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    // The entry may carry a password hash (NIS, some LDAP set-ups): wiped.
    SecureChars buffer(hint > 0 && hint <= 65536 ? static_cast<std::size_t>(hint) : 16384);
    for (;;) {
        passwd entry{};
        passwd* found = nullptr;
        const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < (std::size_t{1} << 20)) {
            buffer = SecureChars(buffer.size() * 2);
            continue;
        }
        if (found != nullptr && found->pw_name != nullptr)
            return Account{Account::Lookup::found, found->pw_name, 0};
        if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
            return Account{Account::Lookup::not_found, {}, 0};
        return Account{Account::Lookup::failed, {}, rc};
    }
}

} // namespace twofactor
