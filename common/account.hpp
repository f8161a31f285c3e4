// The account a login name or a user id belongs to, by the passwd
// database's (NSS's) own spelling of its name. State is keyed by that
// spelling: a user database that ignores case or knows aliases (SSSD,
// winbind, LDAP) lets "ALICE" log in as alice, and that login must meet
// alice's second factor, not "no state". The one passwd lookup of the
// module and both tools.
#pragma once

#include <sys/types.h>

#include <string>

namespace twofactor {

struct Account {
    enum class Lookup { found, not_found, failed };
    Lookup lookup = Lookup::not_found;
    std::string name; // the account's own name (pw_name), when found
    uid_t uid = 0;    // its user id (pw_uid), when found
    gid_t gid = 0;    // its primary group (pw_gid), when found
    int error = 0;    // the lookup's error, when failed
};

// getpwnam_r / getpwuid_r with a growing buffer, which is wiped (an entry
// may carry a password hash: NIS, some LDAP set-ups). POSIX lets "no such
// user" come back as 0 with no entry or as ENOENT, ESRCH, EBADF or EPERM:
// all not_found. Any other error (EIO, ENOMEM, ...) is failed, never
// not_found: a directory server that cannot be reached says nothing about
// whether the account exists.
Account look_up_account(const std::string& name);
Account look_up_account(uid_t uid);

} // namespace twofactor
