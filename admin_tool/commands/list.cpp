// list [USER...]: what each user has (TOTP, backup codes left, last use,
// lockout), as a table or as the stable JSON of docs/json.md. Never a code,
// a hash or a secret. One unreadable state file is reported and skipped, so
// one bad file does not hide everyone else's state. A record that holds
// only failed codes (an account without a second factor, counted by the
// module) is listed with its lockout, as not enrolled.
#include "commands.hpp"

#include "../json.hpp"

#include "device_list.hpp"
#include "output.hpp"

#include "errors.hpp"

#include <algorithm>
#include <array>

namespace twofactor::admin {
namespace {

struct Entry {
    std::string user;
    std::optional<UserState> state; // nullopt: no state (named users only)
    std::string error;              // set if the state could not be read

    bool enrolled() const { return state && state->enrolled(); }
};

// A free-text field from PAM, safe for the terminal; "-" when empty.
std::string shown(const std::string& field) { return field.empty() ? "-" : cli::printable(field); }

std::string last_use(const std::optional<LastLogin>& l)
{
    if (!l)
        return "-";
    std::string s = cli::format_time(l->at) + " " + shown(l->service);
    if (!l->rhost.empty())
        s += " from " + cli::printable(l->rhost);
    return s;
}

std::string locked_until(const UserState& s, std::int64_t now)
{
    return s.locked_until > now ? cli::format_time(s.locked_until) : "-";
}

std::string authenticators_column(const UserState& s)
{
    std::string names;
    for (const Authenticator& a : s.authenticators)
        names += (names.empty() ? "" : ",") + a.name;
    return names.empty() ? "-" : names;
}

std::string codes_column(const UserState& s)
{
    if (!s.codes)
        return "-";
    return std::to_string(s.codes->remaining()) + "/" + std::to_string(s.codes->slots.size());
}

void print_table(cli::OutputBuffer& out, const std::vector<Entry>& entries, std::int64_t now)
{
    using Row = std::array<std::string, 6>;
    std::vector<Row> rows;
    rows.reserve(entries.size() + 1);
    rows.push_back({"USER", "AUTHENTICATORS", "CODES", "ISSUED", "LOCKED UNTIL", "LAST USE"});
    for (const Entry& e : entries) {
        if (!e.state)
            continue;
        const UserState& s = *e.state;
        rows.push_back({e.user, authenticators_column(s), codes_column(s),
                        s.codes ? cli::format_time(s.codes->issued_at) : "-", locked_until(s, now),
                        last_use(s.last_login)});
    }
    if (rows.size() == 1)
        return;
    std::array<std::size_t, 6> width{};
    for (const Row& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    for (const Row& r : rows) {
        for (std::size_t i = 0; i + 1 < r.size(); ++i)
            out.padded(r[i], width[i] + 2);
        out << r.back() << '\n';
    }
}

void print_detail(cli::OutputBuffer& out, const std::string& user, const UserState& s, std::int64_t now)
{
    out << '\n' << user << '\n';
    if (!s.enrolled())
        out << "  Not enrolled:  no authenticator and no backup codes; only failed codes are counted\n";
    for (const Authenticator& a : s.authenticators) {
        out << "  Authenticator: " << a.name << ", " << to_string(a.type) << ", " << to_string(a.params.algorithm)
            << ", " << a.params.digits << " digits, ";
        if (a.type == AuthenticatorType::totp)
            out << a.params.period << " s";
        else
            out << "counter " << a.counter;
        out << "; enrolled " << cli::format_time(a.enrolled_at) << "; last used "
            << (a.last_used > 0 ? cli::format_time(a.last_used) : std::string("never")) << '\n';
    }
    if (s.authenticators.empty())
        out << "  Authenticator: none\n";
    if (s.codes)
        out << "  Backup codes:  " << s.codes->remaining() << " of " << s.codes->slots.size() << " left, "
            << s.codes->length << " characters, issued " << cli::format_time(s.codes->issued_at) << '\n';
    else
        out << "  Backup codes:  none\n";
    out << "  Failures:      " << s.failures;
    if (s.locked_until > now)
        out << ", locked until " << cli::format_time(s.locked_until);
    out << '\n';
    if (s.last_skew)
        out << "  Clock skew:    " << (s.last_skew->seconds > 0 ? "+" : "") << s.last_skew->seconds
            << " s (a refused code's step against this host's clock; < 0: the device is behind), seen "
            << cli::format_time(s.last_skew->at) << '\n';
    if (s.last_login) {
        const LastLogin& l = *s.last_login;
        out << "  Last login:    " << cli::format_time(l.at) << " with "
            << (l.method == Method::backup_code
                    ? std::string("a backup code")
                    : to_string(l.method) + std::string(" authenticator ") + l.authenticator)
            << ", service " << shown(l.service) << ", from " << shown(l.rhost) << ", tty " << shown(l.tty) << '\n';
    }
    const std::size_t devices = cli::current_devices(s.devices, now).size();
    out << "  Devices:       "
        << (devices == 0 ? std::string("none remembered") : std::to_string(devices) + " remembered") << '\n';
    cli::print_devices(out, s.devices, now, "  ");
    if (!s.codes)
        return;
    out << "  SLOT  STATE   USED AT           SERVICE / REMOTE HOST / TTY\n";
    for (std::size_t i = 0; i < s.codes->slots.size(); ++i) {
        const CodeSlot& slot = s.codes->slots[i];
        out << "  ";
        out.padded(std::to_string(i + 1), 6);
        if (!slot.used) {
            out << "unused\n";
            continue;
        }
        const CodeUse& u = *slot.used;
        out << "used    ";
        out.padded(cli::format_time(u.at), 18);
        out << shown(u.service) << " / " << shown(u.rhost) << " / " << shown(u.tty) << '\n';
    }
}

// The TOTP authenticator version 1 of the JSON showed as "totp": the one
// named default, else the first TOTP one.
const Authenticator* compat_totp(const UserState& s)
{
    const Authenticator* d = s.find(kDefaultAuthenticator);
    if (d && d->type == AuthenticatorType::totp)
        return d;
    for (const Authenticator& a : s.authenticators)
        if (a.type == AuthenticatorType::totp)
            return &a;
    return nullptr;
}

void json_authenticator(JsonWriter& w, const Authenticator& a)
{
    const bool totp = a.type == AuthenticatorType::totp;
    w.begin_object()
        .field("name", a.name)
        .field("type", to_string(a.type))
        .field("algorithm", to_string(a.params.algorithm))
        .field("digits", a.params.digits);
    if (totp)
        w.field("period", a.params.period);
    else
        w.field("counter", a.counter);
    w.field("enrolled_at", a.enrolled_at);
    if (totp) {
        w.key("last_step");
        if (a.last_step)
            w.value(*a.last_step);
        else
            w.null();
    }
    w.field("last_used", a.last_used);
    w.end_object();
}

void json_state(JsonWriter& w, const UserState& s, std::int64_t now)
{
    w.key("totp");
    if (const Authenticator* t = compat_totp(s)) {
        w.begin_object()
            .field("algorithm", to_string(t->params.algorithm))
            .field("digits", t->params.digits)
            .field("period", t->params.period)
            .field("enrolled_at", t->enrolled_at);
        w.key("last_step");
        if (t->last_step)
            w.value(*t->last_step);
        else
            w.null();
        w.end_object();
    } else {
        w.null();
    }
    w.key("authenticators").begin_array();
    for (const Authenticator& a : s.authenticators)
        json_authenticator(w, a);
    w.end_array();
    w.key("codes");
    if (s.codes) {
        w.begin_object()
            .field("issued_at", s.codes->issued_at)
            .field("length", s.codes->length)
            .field("total", static_cast<std::uint64_t>(s.codes->slots.size()))
            .field("remaining", static_cast<std::uint64_t>(s.codes->remaining()));
        w.key("slots").begin_array();
        for (std::size_t i = 0; i < s.codes->slots.size(); ++i) {
            const CodeSlot& slot = s.codes->slots[i];
            w.begin_object().field("slot", static_cast<std::uint64_t>(i + 1)).field("used", slot.used.has_value());
            if (slot.used)
                w.field("used_at", slot.used->at)
                    .field("service", slot.used->service)
                    .field("rhost", slot.used->rhost)
                    .field("tty", slot.used->tty);
            w.end_object();
        }
        w.end_array().end_object();
    } else {
        w.null();
    }
    w.field("failures", s.failures).field("locked", s.locked_until > now).field("locked_until", s.locked_until);
    w.key("last_skew");
    if (s.last_skew)
        w.begin_object().field("at", s.last_skew->at).field("seconds", s.last_skew->seconds).end_object();
    else
        w.null();
    w.key("last_login");
    if (s.last_login)
        w.begin_object()
            .field("at", s.last_login->at)
            .field("method", to_string(s.last_login->method))
            .field("service", s.last_login->service)
            .field("rhost", s.last_login->rhost)
            .field("tty", s.last_login->tty)
            .field("authenticator", s.last_login->authenticator)
            .end_object();
    else
        w.null();
    w.key("devices").begin_array();
    for (const Device& d : cli::current_devices(s.devices, now))
        w.begin_object()
            .field("id", short_id(d.id))
            .field("fingerprint", d.fingerprint)
            .field("address", d.address)
            .field("first_used", d.first_used)
            .field("last_used", d.last_used)
            .field("expires_at", d.expires_at)
            .end_object();
    w.end_array();
}

void print_json(cli::OutputBuffer& out, const std::vector<Entry>& entries, std::int64_t now, bool named)
{
    JsonWriter w(out);
    w.begin_object().field("version", 1u).key("users").begin_array();
    for (const Entry& e : entries) {
        if (!e.state)
            continue;
        w.begin_object().field("user", e.user).field("enrolled", e.enrolled());
        json_state(w, *e.state, now);
        w.end_object();
    }
    w.end_array().key("errors").begin_array();
    for (const Entry& e : entries)
        if (!e.error.empty())
            w.begin_object().field("user", e.user).field("error", e.error).end_object();
    w.end_array().key("not_enrolled").begin_array();
    for (const Entry& e : entries)
        if (named && !e.enrolled() && e.error.empty())
            w.value(e.user);
    w.end_array().end_object();
    out << '\n';
}

class ListCommand final : public Command {
public:
    const char* name() const override { return "list"; }
    const char* synopsis() const override { return "[USER...] [--json]"; }
    const char* summary() const override { return "show who is enrolled, codes left, last use, lockouts"; }
    const char* details() const override
    {
        return "Without USER: one line per user with state. With USER: those users, and each code\n"
               "slot (used or not; when, for which service, from which host). Times are local.\n"
               "A user with neither TOTP nor codes is an account that is not enrolled, whose\n"
               "failed codes the module counts. Exit status 1 if a state file could not be read,\n"
               "else 3 if a named user is not enrolled; the other users are still listed.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        hidden.add_options()("users", po::value<std::vector<std::string>>());
        positional.add("users", -1);
        shown.add_options()("json", po::bool_switch(), "print as JSON (docs/json.md)");
    }

    ExitCode run(const Context& ctx) const override
    {
        const bool named = ctx.options.count("users") > 0;
        // load_many checks every name before it looks any up.
        std::vector<std::string> users
            = named ? ctx.options["users"].as<std::vector<std::string>>() : ctx.store.users();

        std::vector<LoadedState> loaded = ctx.store.load_many(users);
        std::vector<Entry> entries;
        entries.reserve(users.size());
        ExitCode code = ExitCode::ok;
        for (std::size_t i = 0; i < users.size(); ++i) {
            Entry e{std::move(users[i]), std::move(loaded[i].state), std::move(loaded[i].error)};
            if (!e.error.empty())
                code = ExitCode::failed;
            else if (!e.enrolled() && named && code == ExitCode::ok)
                code = ExitCode::not_enrolled;
            entries.push_back(std::move(e));
        }

        const std::int64_t now = ctx.clock.now();
        cli::OutputBuffer out;
        if (flag(ctx.options, "json")) {
            print_json(out, entries, now, named);
        } else {
            print_table(out, entries, now);
            if (named)
                for (const Entry& e : entries)
                    if (e.state)
                        print_detail(out, e.user, *e.state, now);
        }
        out.flush();

        // Reported after the output, one line each, as the exit code says.
        for (const Entry& e : entries) {
            if (!e.error.empty())
                cli::notice("cannot read the state of " + e.user + ": " + e.error);
            else if (!e.enrolled() && named)
                cli::notice(not_enrolled(e.user, ctx.config, e.state).what());
        }
        if (entries.empty())
            cli::notice("no user has second-factor state in " + store_name(ctx.config));
        return code;
    }
};

} // namespace

std::unique_ptr<Command> make_list_command() { return std::make_unique<ListCommand>(); }

} // namespace twofactor::admin
