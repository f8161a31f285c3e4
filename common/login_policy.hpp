// Which rule decides a login before any code is typed (docs/exemptions.md):
// exempt by group, not required (require_groups), exempt by network, a
// remembered device, not enrolled, or ask for a code. The module and
// `twofactor-admin explain` both call decide_login(), so what explain says
// is what a login does.
//
// Two halves: gather_login_facts() asks the user database (NSS) once;
// decide_login() is pure, given those facts, the configuration and a way
// to read the user's state, which it calls only when no exemption applies
// (an exempt login touches no store).
#pragma once

#include "account.hpp"
#include "config.hpp"
#include "groups.hpp"
#include "user_state.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace twofactor {

// What the rules look at, gathered once per login.
struct LoginFacts {
    bool is_account = false;                  // the user database knows it
    std::optional<std::vector<gid_t>> groups; // its groups; nullopt: unknown
    std::vector<Group> exempt_groups;         // config's exempt_groups, looked up
    std::vector<Group> require_groups;        // config's require_groups, looked up
    std::string service;                      // PAM_SERVICE
    std::string rhost;                        // PAM_RHOST, as given
    // The public key that authenticated this login (explain --key), for the
    // remembered-device rule; empty if none is known.
    std::string device_key;
};

// Looks the account's groups and the configured groups up, only if the
// configuration names any groups.
LoginFacts gather_login_facts(const Config& config, const Account& account, std::string service, std::string rhost);

enum class LoginRule {
    exempt_group,      // a member of an exempt_groups group
    not_required,      // require_groups is set and the user is in none of them
    exempt_network,    // PAM_RHOST is in an exempt_networks network
    remembered_device, // set by explain (may_skip_prompt); the module decides it under the lock
    not_enrolled,      // no TOTP secret and no backup codes
    ask,               // ask for a code
};

// A configured group that could not be used; logged, and shown by explain.
struct GroupProblem {
    const char* key; // "exempt_groups" or "require_groups"
    Group group;     // lookup is not_found or failed
};

struct LoginDecision {
    LoginRule rule = LoginRule::ask;
    bool asks = true;    // a code is asked for (not_enrolled: unless nullok)
    std::string matched; // the group or network that exempted the login
    std::vector<GroupProblem> problems;
};

// "group", "require_groups", "network", "remembered_device", "not_enrolled",
// "ask": the reason= of log lines and the rule of explain --json.
const char* to_string(LoginRule rule);
bool is_exempt(LoginRule rule);

// Reads the user's state (it may throw StoreError); called at most once.
using StateReader = std::function<const std::optional<UserState>&()>;

// The rules, in this order; the first that applies decides:
//  1. A name that is no account is never exempt (rules 2-4 are skipped).
//  2. exempt_groups: the account is in one of them.
//  3. require_groups (if set): the account is in none of them. Every one
//     of these groups must exist and be looked up: if one cannot be, the
//     rule exempts nobody (a typo must not exempt everyone).
//  4. exempt_networks: PAM_RHOST is a numeric address in one of them.
//  5. The remembered-device rule: not decided here (see login_policy.cpp).
//  6. Not enrolled (no state, or one with neither TOTP nor backup codes):
//     asks unless nullok.
//  7. Ask.
// Exemptions come before the state, so an exempt user who is not enrolled,
// locked out, or whose state cannot be read, passes all the same.
LoginDecision decide_login(const Config& config, const LoginFacts& facts, const StateReader& read_state);

} // namespace twofactor
