#include "login_policy.hpp"

#include <algorithm>

namespace twofactor {

namespace {

std::vector<Group> look_up_groups(const std::vector<std::string>& names)
{
    std::vector<Group> out;
    out.reserve(names.size());
    for (const std::string& name : names)
        out.push_back(look_up_group(name));
    return out;
}

bool member(const LoginFacts& facts, const Group& group)
{
    return group.lookup == Group::Lookup::found && facts.groups
        && std::find(facts.groups->begin(), facts.groups->end(), group.gid) != facts.groups->end();
}

void note_problems(LoginDecision& d, const char* key, const std::vector<Group>& groups)
{
    for (const Group& g : groups)
        if (g.lookup != Group::Lookup::found)
            d.problems.push_back(GroupProblem{key, g});
}

LoginDecision decided(LoginDecision d, LoginRule rule, std::string matched)
{
    d.rule = rule;
    d.asks = false;
    d.matched = std::move(matched);
    return d;
}

} // namespace

LoginFacts gather_login_facts(const Config& config, const Account& account, std::string service, std::string rhost)
{
    LoginFacts facts;
    facts.is_account = account.lookup == Account::Lookup::found;
    facts.service = std::move(service);
    facts.rhost = std::move(rhost);
    if (config.exempt_groups.empty() && config.require_groups.empty())
        return facts;
    facts.exempt_groups = look_up_groups(config.exempt_groups);
    facts.require_groups = look_up_groups(config.require_groups);
    if (facts.is_account)
        facts.groups = account_groups(account.name, account.gid);
    return facts;
}

const char* to_string(LoginRule rule)
{
    switch (rule) {
    case LoginRule::exempt_group:
        return "group";
    case LoginRule::not_required:
        return "require_groups";
    case LoginRule::exempt_network:
        return "network";
    case LoginRule::remembered_device:
        return "remembered_device";
    case LoginRule::not_enrolled:
        return "not_enrolled";
    case LoginRule::ask:
        break;
    }
    return "ask";
}

bool is_exempt(LoginRule rule)
{
    return rule == LoginRule::exempt_group || rule == LoginRule::not_required || rule == LoginRule::exempt_network;
}

LoginDecision decide_login(const Config& config, const LoginFacts& facts, const StateReader& read_state)
{
    LoginDecision d;
    note_problems(d, "exempt_groups", facts.exempt_groups);
    note_problems(d, "require_groups", facts.require_groups);

    if (facts.is_account) {
        for (const Group& g : facts.exempt_groups)
            if (member(facts, g))
                return decided(std::move(d), LoginRule::exempt_group, g.name);

        const bool all_found = std::all_of(facts.require_groups.begin(), facts.require_groups.end(),
                                           [](const Group& g) { return g.lookup == Group::Lookup::found; });
        if (!config.require_groups.empty() && all_found && facts.groups
            && std::none_of(facts.require_groups.begin(), facts.require_groups.end(),
                            [&](const Group& g) { return member(facts, g); }))
            return decided(std::move(d), LoginRule::not_required, {});

        if (const std::optional<IpAddress> address = parse_ip_address(facts.rhost))
            for (const IpNetwork& n : config.exempt_networks)
                if (n.contains(*address))
                    return decided(std::move(d), LoginRule::exempt_network, n.text());
    }

    const std::optional<UserState>& state = read_state();

    // The remembered-device rule comes after the exemptions (an exempt
    // login is logged as exempt) but is not decided here: the module
    // decides it again under the store's lock, which records the use
    // (pam_module/remembered_device.hpp), and explain asks the same
    // may_skip_prompt() (common/devices.hpp) of the state read here.

    if (!(state && state->enrolled())) {
        d.rule = LoginRule::not_enrolled;
        d.asks = !config.nullok;
        return d;
    }
    d.rule = LoginRule::ask;
    d.asks = true;
    return d;
}

} // namespace twofactor
