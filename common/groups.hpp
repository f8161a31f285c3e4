// Group membership from the group database (NSS), for exempt_groups and
// require_groups (docs/exemptions.md): a configured group by name, and the
// groups of an account. Like common/account.hpp, a lookup that fails is
// told apart from "no such group": a directory server that cannot be
// reached says nothing about who is in a group.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace twofactor {

struct Group {
    enum class Lookup { found, not_found, failed };
    std::string name; // as configured
    Lookup lookup = Lookup::not_found;
    gid_t gid = 0; // when found
    int error = 0; // the lookup's error, when failed
};

// getgrnam_r with a growing buffer; "no such group" as for account.hpp.
Group look_up_group(const std::string& name);

// The account's primary group and its supplementary groups, by getgrouplist
// (which asks every source of nsswitch.conf's initgroups or group line).
// nullopt if the list cannot be had (over 65536 groups).
std::optional<std::vector<gid_t>> account_groups(const std::string& account, gid_t primary);

} // namespace twofactor
