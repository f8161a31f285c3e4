// The account a login name belongs to, by the passwd database's (NSS's) own
// spelling of it. State is keyed by that spelling: a user database that
// ignores case or knows aliases (SSSD, winbind, LDAP) lets "ALICE" log in
// as alice, and that login must meet alice's second factor, not "no state".
#pragma once

#include <string>

namespace twofactor {

struct Account {
    enum class Lookup { found, not_found, failed };
    Lookup lookup = Lookup::not_found;
    std::string name; // the account's own name (pw_name), when found
    int error = 0;    // the lookup's error, when failed
};

// getpwnam_r with a growing buffer. POSIX lets "no such user" come back as
// 0 with no entry or as ENOENT, ESRCH, EBADF or EPERM: all not_found. Any
// other error (EIO, ENOMEM, ...) is failed, never not_found.
Account look_up_account(const std::string& name);

} // namespace twofactor
