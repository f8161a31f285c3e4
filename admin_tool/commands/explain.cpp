// explain USER: what a login of USER would do before any code is typed, and
// which rule decides it (docs/exemptions.md), through the module's own
// decide_login() (common/login_policy.hpp), so the two cannot disagree.
// It changes nothing: the state is read with load(), never update().
#include "commands.hpp"

#include "../json.hpp"

#include "output.hpp"

#include "devices.hpp"
#include "login_policy.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace twofactor::admin {
namespace {

constexpr std::size_t kMaxKeyFileBytes = 16384;

// The public key a login authenticated with, as OpenSSH writes it (one
// line: TYPE BASE64 [COMMENT]), for the remembered-device rule.
std::string read_key_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw OperationFailed("--key: cannot read " + path + ": " + std::strerror(errno));
    std::string text;
    text.resize(kMaxKeyFileBytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxKeyFileBytes)
        throw OperationFailed("--key: " + path + " is too large for a public key");
    text = text.substr(0, text.find('\n'));
    if (!text.empty() && text.back() == '\r')
        text.pop_back();
    if (text.empty())
        throw OperationFailed("--key: " + path + " holds no public key");
    return text;
}

// What the remembered-device rule says of this login, as the module would
// decide it (pam_module/remembered_device.*): only with remember_days, for
// a service of remember_services, with what remember_by needs.
struct DeviceFinding {
    bool configured = false; // remember_days > 0
    bool service_listed = false;
    std::string device;  // short id of the login's device; empty if none
    std::string problem; // why there is no device
    bool remembered = false;
    std::int64_t until = 0; // when the remembered device stops skipping the code
};

DeviceFinding find_remembered(const Config& config, const std::string& user, const std::string& service,
                              const std::string& rhost, const std::string& key_line,
                              const std::optional<UserState>& state, std::int64_t now)
{
    DeviceFinding f;
    f.configured = config.remember_days > 0;
    const auto& services = config.remember_services;
    f.service_listed = std::find(services.begin(), services.end(), service) != services.end();
    if (!f.configured || !f.service_listed)
        return f;
    // sshd reports the key as "publickey TYPE BASE64" in SSH_AUTH_INFO_0.
    std::optional<std::string> auth_info;
    if (!key_line.empty()) {
        const auto type_end = key_line.find(' ');
        const auto blob_end = key_line.find(' ', type_end == std::string::npos ? type_end : type_end + 1);
        auth_info = "publickey " + key_line.substr(0, blob_end);
    }
    const std::optional<DeviceIdentity> device = identify_device(user, config.remember_by, auth_info, rhost, f.problem);
    if (!device)
        return f;
    f.device = short_id(device->id);
    if (state && may_skip_prompt(*state, device->id, now, config.remember_days)) {
        f.remembered = true;
        const Device* found = find_device(state->devices, device->id, now);
        f.until = std::min(found->expires_at, found->first_used + std::int64_t{config.remember_days} * 86400);
    }
    return f;
}

std::string device_text(const DeviceFinding& f)
{
    if (!f.configured)
        return "the remembered-device rule is not configured (remember_days = 0)";
    if (!f.service_listed)
        return "not for this service (remember_services)";
    if (f.device.empty())
        return "no device for this login (" + f.problem + ")";
    if (f.remembered)
        return f.device + ", remembered until " + cli::format_time(f.until);
    return f.device + ", not remembered";
}

std::string quoted_list(const std::vector<std::string>& items)
{
    std::string out;
    for (const std::string& item : items)
        out += (out.empty() ? "'" : ", '") + cli::printable(item) + "'";
    return out;
}

// "exempt" (PAM_SUCCESS without a prompt), "ignored" (PAM_IGNORE, nullok),
// "asked" (the prompt; denied whatever is typed when not enrolled) or
// "remembered" (the remembered-device rule).
const char* outcome(const LoginDecision& d)
{
    if (is_exempt(d.rule))
        return "exempt";
    if (d.rule == LoginRule::remembered_device)
        return "remembered";
    return d.asks ? "asked" : "ignored";
}

std::string rule_text(const LoginDecision& d, const Config& config, const std::string& rhost)
{
    switch (d.rule) {
    case LoginRule::exempt_group:
        return "exempt by group: a member of '" + cli::printable(d.matched) + "' (exempt_groups)";
    case LoginRule::not_required:
        return "exempt: in none of require_groups (" + quoted_list(config.require_groups) + ")";
    case LoginRule::exempt_network:
        return "exempt by network: " + cli::printable(rhost) + " is in " + d.matched + " (exempt_networks)";
    case LoginRule::remembered_device:
        return "a remembered device: not asked (PAM_SUCCESS)";
    case LoginRule::not_enrolled:
        return d.asks ? "not enrolled: asked for a code, then denied whatever is typed (nullok is not set)"
                      : "not enrolled, and nullok is set: not asked (PAM_IGNORE: the other modules decide)";
    case LoginRule::ask:
        break;
    }
    return "asks for a code (TOTP or backup code)";
}

std::string problem_word(const GroupProblem& p)
{
    return p.group.lookup == Group::Lookup::failed ? "group_lookup_failed" : "unknown_group";
}

std::string problem_text(const GroupProblem& p)
{
    const std::string what = p.group.lookup == Group::Lookup::failed
        ? "cannot be looked up (" + std::string(std::strerror(p.group.error)) + ")"
        : "does not exist";
    const std::string effect = std::strcmp(p.key, "require_groups") == 0
        ? "require_groups exempts nobody until it is fixed"
        : "it exempts nobody";
    return std::string(p.key) + ": group '" + cli::printable(p.group.name) + "' " + what + "; " + effect;
}

std::string rhost_text(const std::string& rhost)
{
    if (rhost.empty())
        return "- (none: exempt_networks never match)";
    if (!parse_ip_address(rhost))
        return cli::printable(rhost) + " (not a numeric address: exempt_networks never match)";
    return rhost;
}

class ExplainCommand final : public Command {
public:
    const char* name() const override { return "explain"; }
    const char* synopsis() const override { return "USER [--service S] [--rhost ADDR] [--key PUBKEY_FILE] [--json]"; }
    const char* summary() const override { return "say what a login of USER would do, and which rule decides"; }
    const char* details() const override
    {
        return "Applies the module's rules, in the module's order, to a login of USER for\n"
               "service S from remote host ADDR (PAM_RHOST): exempt by group, not required\n"
               "(require_groups), exempt by network, remembered device, not enrolled, or asks\n"
               "for a code. Reads the configuration file, not the module arguments of\n"
               "/etc/pam.d. Changes nothing. Exit status 0, or 3 if USER is no account.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        declare_user(hidden, positional);
        shown.add_options()("service", po::value<std::string>()->value_name("S"), "the PAM service (PAM_SERVICE)")(
            "rhost", po::value<std::string>()->value_name("ADDR"), "the remote host (PAM_RHOST)")(
            "key", po::value<std::string>()->value_name("PUBKEY_FILE"),
            "the public key the login authenticated with (remembered devices)")("json", po::bool_switch(),
                                                                                "print as JSON (docs/json.md)");
    }

    ExitCode run(const Context& ctx) const override
    {
        const std::string given = required_user(ctx.options);
        const std::string service = ctx.options.count("service") ? ctx.options["service"].as<std::string>() : "";
        const std::string rhost = ctx.options.count("rhost") ? ctx.options["rhost"].as<std::string>() : "";
        const std::string key_file = ctx.options.count("key") ? ctx.options["key"].as<std::string>() : "";

        // As the module does: the account by its own name; a failed lookup
        // says nothing, so no explanation.
        const Account account = look_up_account(given);
        if (account.lookup == Account::Lookup::failed)
            throw OperationFailed("cannot look up user '" + given + "': " + std::strerror(account.error));
        const bool is_account = account.lookup == Account::Lookup::found;
        const std::string user = is_account ? account.name : given;

        LoginFacts facts = gather_login_facts(ctx.config, account, service, rhost);
        if (!key_file.empty())
            facts.device_key = read_key_file(key_file);

        std::optional<UserState> state;
        bool state_read = false;
        LoginDecision d = decide_login(ctx.config, facts, [&]() -> const std::optional<UserState>& {
            state = ctx.store.load(user);
            state_read = true;
            return state;
        });
        const std::int64_t now = ctx.clock.now();
        const std::int64_t locked_until = state && state->locked_until > now ? state->locked_until : 0;
        DeviceFinding device;
        if (state_read && d.rule == LoginRule::ask) {
            device = find_remembered(ctx.config, user, service, rhost, facts.device_key, state, now);
            if (device.remembered) {
                d.rule = LoginRule::remembered_device;
                d.asks = false;
            }
        } else {
            device.configured = ctx.config.remember_days > 0;
        }

        cli::OutputBuffer out;
        if (flag(ctx.options, "json")) {
            JsonWriter w(out);
            w.begin_object()
                .field("version", 1u)
                .field("user", user)
                .field("account", is_account)
                .field("service", service)
                .field("rhost", rhost)
                .field("outcome", outcome(d))
                .field("rule", to_string(d.rule))
                .field("asks", d.asks);
            w.key("matched");
            if (d.matched.empty())
                w.null();
            else
                w.value(d.matched);
            w.key("enrolled");
            if (state_read)
                w.value(state && state->enrolled());
            else
                w.null();
            w.field("locked_until", locked_until);
            w.key("remembered_device")
                .begin_object()
                .field("configured", device.configured)
                .field("service_listed", device.service_listed);
            w.key("device");
            if (device.device.empty())
                w.null();
            else
                w.value(device.device);
            w.field("remembered", device.remembered).field("until", device.until).end_object();
            w.key("problems").begin_array();
            for (const GroupProblem& p : d.problems)
                w.begin_object()
                    .field("key", p.key)
                    .field("group", p.group.name)
                    .field("problem", problem_word(p))
                    .end_object();
            w.end_array().end_object();
            out << '\n';
        } else {
            out << "User:      " << cli::printable(user);
            if (user != given)
                out << " (given as " << cli::printable(given) << ")";
            if (!is_account)
                out << " (no such account: never exempt)";
            out << "\nService:   " << (service.empty() ? "-" : cli::printable(service))
                << "\nRemote:    " << rhost_text(rhost)
                << "\nDecision:  " << (d.asks ? "asked for a code" : "not asked for a code")
                << "\nRule:      " << rule_text(d, ctx.config, rhost) << '\n';
            if (locked_until != 0 && d.asks)
                out << "Lockout:   locked until " << cli::format_time(locked_until)
                    << ": every code is refused until then\n";
            out << "Device:    " << device_text(device) << '\n';
            for (const GroupProblem& p : d.problems)
                out << "Warning:   " << problem_text(p) << '\n';
        }
        out.flush();
        if (!is_account)
            throw NotEnrolled("unknown user '" + given + "' (not in the passwd database)");
        return ExitCode::ok;
    }
};

} // namespace

std::unique_ptr<Command> make_explain_command() { return std::make_unique<ExplainCommand>(); }

} // namespace twofactor::admin
