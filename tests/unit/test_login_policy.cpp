// The exemption rules (docs/exemptions.md): strict parsing of networks and
// remote addresses, the three config keys, and decide_login() given facts,
// in the documented order; gather_login_facts() against the real group
// database (root is in group root everywhere).
#include "config.hpp"
#include "errors.hpp"
#include "ip_network.hpp"
#include "login_policy.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

IpNetwork net(const std::string& text)
{
    std::string error;
    const std::optional<IpNetwork> n = parse_ip_network(text, error);
    if (!n)
        fail_msg("'%s' refused: %s", text.c_str(), error.c_str());
    return *n;
}

std::string refusal(const std::string& text)
{
    std::string error;
    if (parse_ip_network(text, error))
        fail_msg("'%s' accepted", text.c_str());
    return error;
}

bool in(const std::string& network, const std::string& rhost)
{
    const std::optional<IpAddress> a = parse_ip_address(rhost);
    return a && net(network).contains(*a);
}

void networks_parse_strictly(void** /*state*/)
{
    assert_text(net("10.0.0.0/8").text(), "10.0.0.0/8");
    assert_text(net("192.0.2.0/24").text(), "192.0.2.0/24");
    assert_text(net("2001:DB8::/32").text(), "2001:db8::/32");
    assert_text(net("0.0.0.0/0").text(), "0.0.0.0/0");
    assert_text(net("::/0").text(), "::/0");
    assert_text(net("192.0.2.7/32").text(), "192.0.2.7/32");
    assert_text(net("2001:db8::1/128").text(), "2001:db8::1/128");

    assert_text(refusal("10.0.0.0"), "expected ADDRESS/PREFIX (e.g. 192.0.2.0/24), got '10.0.0.0'");
    assert_text(refusal("10.0.0.1/8"), "'10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)");
    assert_text(refusal("2001:db8::1/32"), "'2001:db8::1/32' has host bits set (did you mean 2001:db8::/32?)");
    assert_text(refusal("10.0.0.0/33"), "'10.0.0.0/33': the prefix length must be a number from 0 to 32");
    assert_text(refusal("::/129"), "'::/129': the prefix length must be a number from 0 to 128");
    for (const char* bad : {"10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/-8", "10.0.0.0/08", "10.0.0.0/8 ", "10.0.0.0/8/8",
                            "10.0.0.0/0x8", "10.0.0.0/1000"})
        assert_non_null(std::strstr(refusal(bad).c_str(), "prefix length"));
    for (const char* bad : {"host.example/24", "10.0.0/8", "10.0.0.0.0/8", "010.0.0.0/8", "fe80::%eth0/64", "/8",
                            " 10.0.0.0/8", "1.2.3.256/32"})
        assert_non_null(std::strstr(refusal(bad).c_str(), "is not a numeric IPv4 or IPv6 address"));
    assert_non_null(std::strstr(refusal("::ffff:10.0.0.0/104").c_str(), "IPv4-mapped"));
    assert_true(refusal(std::string("10.0.0.0\0/8", 11)).find("not a numeric") != std::string::npos);
}

void addresses_match_only_when_numeric(void** /*state*/)
{
    assert_true(in("10.0.0.0/8", "10.255.1.2"));
    assert_false(in("10.0.0.0/8", "11.0.0.1"));
    assert_true(in("192.0.2.0/25", "192.0.2.127"));
    assert_false(in("192.0.2.0/25", "192.0.2.128"));
    assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in("2001:db8::/32", "2001:db9::1"));
    assert_true(in("0.0.0.0/0", "203.0.113.9"));
    assert_false(in("::/0", "203.0.113.9")); // IPv4 needs an IPv4 network
    assert_true(in("127.0.0.1/32", "127.0.0.1"));
    // An IPv4-mapped address is its IPv4 address: IPv4 networks only.
    assert_true(in("10.0.0.0/8", "::ffff:10.1.2.3"));
    assert_true(in("10.0.0.0/8", "::FFFF:10.1.2.3"));
    assert_false(in("::/0", "::ffff:10.1.2.3"));
    // Never: host names, scope ids, ports, blanks, junk, the empty string.
    for (const char* bad : {"", "localhost", "ten.example", "10.1.2.3.example", "fe80::1%eth0", "10.1.2.3:22",
                            "[2001:db8::1]", " 10.1.2.3", "10.1.2.3 ", "10.1.2", "010.1.2.3", "0x0a.1.2.3"})
        assert_false(parse_ip_address(bad).has_value());
    assert_false(parse_ip_address(std::string("10.1.2.3\0x", 10)).has_value());
}

std::string config_error(const std::vector<std::string>& arguments)
{
    try {
        load_config_from_arguments(arguments);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

void config_keys(void** /*state*/)
{
    const Config c = load_config_from_arguments(
        {"exempt_groups=wheel, admins ,ops", "require_groups=pilot", "exempt_networks=10.0.0.0/8,2001:db8::/32"});
    assert_int_equal(c.exempt_groups.size(), 3);
    assert_text(c.exempt_groups[1], "admins");
    assert_int_equal(c.require_groups.size(), 1);
    assert_int_equal(c.exempt_networks.size(), 2);
    assert_text(c.exempt_networks[1].text(), "2001:db8::/32");
    // A later empty value clears (a module argument undoing the file).
    assert_true(load_config_from_arguments({"exempt_groups=wheel", "exempt_groups="}).exempt_groups.empty());
    assert_true(load_config_from_arguments({"exempt_networks= "}).exempt_networks.empty());

    assert_text(config_error({"exempt_networks=10.0.0.0/8,10.0.0.1/8"}),
                "argument: exempt_networks: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)");
    assert_text(config_error({"exempt_networks=10.0.0.0/8,,192.0.2.0/24"}),
                "argument: exempt_networks: empty item in the list '10.0.0.0/8,,192.0.2.0/24'");
    assert_text(config_error({"exempt_groups=wheel,"}), "argument: exempt_groups: empty item in the list 'wheel,'");
    assert_text(config_error({"require_groups"}), "argument: require_groups: needs a value (require_groups=...)");
    assert_text(config_error({"exempt_groups=wh\x01"
                              "eel"}),
                "argument: exempt_groups: control characters are not allowed");
    assert_text(config_error({"exempt_networks=myhost.example/32"}),
                "argument: exempt_networks: 'myhost.example' is not a numeric IPv4 or IPv6 address");
}

Group group(const std::string& name, gid_t gid, Group::Lookup lookup = Group::Lookup::found)
{
    Group g;
    g.name = name;
    g.gid = gid;
    g.lookup = lookup;
    return g;
}

// A login of an enrolled account in groups 100 and 200 from 192.0.2.7.
struct Case {
    Config config;
    LoginFacts facts;
    std::optional<UserState> state;
    int reads = 0;

    Case()
    {
        facts.is_account = true;
        facts.groups = std::vector<gid_t>{100, 200};
        facts.service = "sshd";
        facts.rhost = "192.0.2.7";
        state = UserState{};
        state->put(TotpState{});
    }
    LoginDecision decide()
    {
        return decide_login(config, facts, [this]() -> const std::optional<UserState>& {
            ++reads;
            return state;
        });
    }
};

void exempt_by_group(void** /*state*/)
{
    Case c;
    c.config.exempt_groups = {"other", "admins"};
    c.facts.exempt_groups = {group("other", 300), group("admins", 200)};
    const LoginDecision d = c.decide();
    assert_int_equal(d.rule, LoginRule::exempt_group);
    assert_false(d.asks);
    assert_text(d.matched, "admins");
    assert_int_equal(c.reads, 0); // no state read for an exempt login
    assert_text(to_string(d.rule), "group");

    c.facts.exempt_groups = {group("other", 300)};
    assert_int_equal(c.decide().rule, LoginRule::ask);
    assert_int_equal(c.reads, 1);
    // Not an account: never exempt, whatever the facts say.
    c.facts.exempt_groups = {group("admins", 200)};
    c.facts.is_account = false;
    assert_int_equal(c.decide().rule, LoginRule::ask);
    // Groups unknown: not a member.
    c.facts.is_account = true;
    c.facts.groups.reset();
    assert_int_equal(c.decide().rule, LoginRule::ask);
}

void unknown_exempt_group_exempts_nobody(void** /*state*/)
{
    Case c;
    c.config.exempt_groups = {"typo", "admins"};
    c.facts.exempt_groups = {group("typo", 0, Group::Lookup::not_found), group("admins", 999)};
    LoginDecision d = c.decide();
    assert_int_equal(d.rule, LoginRule::ask);
    assert_int_equal(d.problems.size(), 1);
    assert_text(d.problems[0].key, "exempt_groups");
    assert_text(d.problems[0].group.name, "typo");
    // gid 0 of a group that was not found never matches the user's gid 0.
    c.facts.groups = std::vector<gid_t>{0};
    assert_int_equal(c.decide().rule, LoginRule::ask);
}

void require_groups_rule(void** /*state*/)
{
    Case c;
    c.config.require_groups = {"pilot"};
    c.facts.require_groups = {group("pilot", 300)};
    LoginDecision d = c.decide();
    assert_int_equal(d.rule, LoginRule::not_required);
    assert_false(d.asks);
    assert_text(to_string(d.rule), "require_groups");
    assert_true(is_exempt(d.rule));
    assert_int_equal(c.reads, 0);

    c.facts.require_groups = {group("pilot", 300), group("ops", 100)};
    c.config.require_groups = {"pilot", "ops"};
    assert_int_equal(c.decide().rule, LoginRule::ask); // a member of ops

    // One required group that cannot be looked up: nobody is let off.
    c.facts.require_groups = {group("pilot", 300), group("typo", 0, Group::Lookup::not_found)};
    d = c.decide();
    assert_int_equal(d.rule, LoginRule::ask);
    assert_int_equal(d.problems.size(), 1);
    assert_text(d.problems[0].key, "require_groups");
    c.facts.require_groups = {group("pilot", 300, Group::Lookup::failed)};
    c.config.require_groups = {"pilot"};
    assert_int_equal(c.decide().rule, LoginRule::ask);
    // The account's groups unknown: not proven outside.
    c.facts.require_groups = {group("pilot", 300)};
    c.facts.groups.reset();
    assert_int_equal(c.decide().rule, LoginRule::ask);
}

void exempt_by_network(void** /*state*/)
{
    Case c;
    c.config.exempt_networks = {net("10.0.0.0/8"), net("192.0.2.0/24")};
    LoginDecision d = c.decide();
    assert_int_equal(d.rule, LoginRule::exempt_network);
    assert_text(d.matched, "192.0.2.0/24");
    assert_text(to_string(d.rule), "network");
    for (const char* rhost : {"", "198.51.100.1", "192.0.2.7.example", "gateway", "fe80::1%eth0"}) {
        c.facts.rhost = rhost;
        assert_int_equal(c.decide().rule, LoginRule::ask);
    }
    c.facts.rhost = "::ffff:10.9.8.7";
    assert_int_equal(c.decide().rule, LoginRule::exempt_network);
    c.facts.is_account = false;
    assert_int_equal(c.decide().rule, LoginRule::ask);
}

void rules_in_order(void** /*state*/)
{
    Case c;
    c.config.exempt_groups = {"admins"};
    c.facts.exempt_groups = {group("admins", 200)};
    c.config.require_groups = {"pilot"};
    c.facts.require_groups = {group("pilot", 300)};
    c.config.exempt_networks = {net("192.0.2.0/24")};
    assert_int_equal(c.decide().rule, LoginRule::exempt_group);
    c.facts.exempt_groups = {group("admins", 999)};
    assert_int_equal(c.decide().rule, LoginRule::not_required);
    c.facts.groups = std::vector<gid_t>{300};
    assert_int_equal(c.decide().rule, LoginRule::exempt_network);
    c.facts.rhost = "198.51.100.1";
    assert_int_equal(c.decide().rule, LoginRule::ask);
}

void exempt_before_enrolment(void** /*state*/)
{
    Case c;
    c.state.reset();
    LoginDecision d = c.decide();
    assert_int_equal(d.rule, LoginRule::not_enrolled);
    assert_true(d.asks);
    c.config.nullok = true;
    d = c.decide();
    assert_int_equal(d.rule, LoginRule::not_enrolled);
    assert_false(d.asks);
    assert_false(is_exempt(d.rule));
    // A state with failures only is not enrolled either.
    c.config.nullok = false;
    c.state = UserState{};
    c.state->failures = 3;
    assert_int_equal(c.decide().rule, LoginRule::not_enrolled);
    // Exempt: the state is not even read.
    c.config.exempt_networks = {net("192.0.2.0/24")};
    c.reads = 0;
    assert_int_equal(c.decide().rule, LoginRule::exempt_network);
    assert_int_equal(c.reads, 0);
}

// A state that cannot be read is the caller's error to handle (the module
// denies): never an exemption, never "not enrolled".
const std::optional<UserState>& unreadable_state() { throw StoreError(StoreErrc::unsafe_file, "unsafe"); }

void state_errors_propagate(void** /*state*/)
{
    Config config;
    LoginFacts facts;
    facts.is_account = true;
    bool thrown = false;
    try {
        decide_login(config, facts, unreadable_state);
    } catch (const StoreError&) {
        thrown = true;
    }
    assert_true(thrown);
}

void facts_from_the_group_database(void** /*state*/)
{
    Config config;
    const Account root = look_up_account(std::string("root"));
    assert_int_equal(root.lookup, Account::Lookup::found);
    // No group configured: no lookups at all.
    LoginFacts facts = gather_login_facts(config, root, "sshd", "192.0.2.1");
    assert_false(facts.groups.has_value());
    assert_text(facts.rhost, "192.0.2.1");

    config.exempt_groups = {"root", "no-such-group-tf"};
    facts = gather_login_facts(config, root, "sshd", "");
    assert_true(facts.groups.has_value());
    assert_int_equal(facts.exempt_groups.size(), 2);
    assert_int_equal(facts.exempt_groups[0].lookup, Group::Lookup::found);
    assert_int_equal(facts.exempt_groups[0].gid, 0);
    assert_int_equal(facts.exempt_groups[1].lookup, Group::Lookup::not_found);
    const LoginDecision d = decide_login(config, facts, []() -> const std::optional<UserState>& {
        static const std::optional<UserState> none;
        return none;
    });
    assert_int_equal(d.rule, LoginRule::exempt_group);
    assert_text(d.matched, "root");
    assert_int_equal(d.problems.size(), 1);

    // A name that is no account: its groups are never asked for.
    const Account nobody = look_up_account(std::string("no-such-user-tf"));
    facts = gather_login_facts(config, nobody, "sshd", "");
    assert_false(facts.groups.has_value());
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(networks_parse_strictly),
        cmocka_unit_test(addresses_match_only_when_numeric),
        cmocka_unit_test(config_keys),
        cmocka_unit_test(exempt_by_group),
        cmocka_unit_test(unknown_exempt_group_exempts_nobody),
        cmocka_unit_test(require_groups_rule),
        cmocka_unit_test(exempt_by_network),
        cmocka_unit_test(rules_in_order),
        cmocka_unit_test(exempt_before_enrolment),
        cmocka_unit_test(state_errors_propagate),
        cmocka_unit_test(facts_from_the_group_database),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
