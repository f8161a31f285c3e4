// import --from google-authenticator|pam_oath|otpauth FILE...: takes over
// enrolments made for another PAM module, so users keep their phones and
// printed scratch codes (docs/moving.md). Files are read safely and never
// written; each user's whole state is written at once, or nothing for that
// user. Hashing the scratch codes (one scrypt each) runs on every core.
#include "commands.hpp"

#include "../import/source_file.hpp"
#include "../import/to_state.hpp"
#include "../import/user_tokens.hpp"
#include "../json.hpp"

#include "output.hpp"
#include "parallel.hpp"
#include "progress.hpp"

#include "account.hpp"
#include "errors.hpp"

#include <algorithm>
#include <map>

namespace twofactor::admin {
namespace {

enum class Source { google_authenticator, pam_oath, otpauth };
enum class Status { pending, imported, skipped, failed };

// A google-authenticator file is a few hundred bytes; a users file or a
// list of URIs has a line per user.
constexpr std::size_t kGoogleAuthenticatorCap = std::size_t{64} * 1024;
constexpr std::size_t kListCap = std::size_t{32} * 1024 * 1024;

// One user with all their tokens from every source, or one source file
// that failed (no user, no tokens).
struct Entry {
    std::string user;
    std::vector<ImportedUser> tokens; // in the order of the sources
    std::vector<std::string> names;   // the tokens' authenticator names, once checked
    std::string origin;               // where: the tokens' origins, or the failed file's
    Status status = Status::pending;
    std::string reason;
    std::optional<UserState> state;
};

Source parse_source(const po::variables_map& options)
{
    if (!options.count("from"))
        throw UsageError("missing --from google-authenticator|pam_oath|otpauth");
    const std::string from = options["from"].as<std::string>();
    if (from == "google-authenticator")
        return Source::google_authenticator;
    if (from == "pam_oath")
        return Source::pam_oath;
    if (from == "otpauth")
        return Source::otpauth;
    throw UsageError("--from: expected google-authenticator, pam_oath or otpauth, got '" + cli::printable(from) + "'");
}

const char* source_name(Source source)
{
    switch (source) {
    case Source::google_authenticator:
        return "google-authenticator";
    case Source::pam_oath:
        return "pam_oath";
    case Source::otpauth:
        break;
    }
    return "otpauth";
}

Entry failed_file(const std::string& path, const SourceError& e)
{
    Entry entry;
    entry.origin = e.line() == 0 ? path : path + ":" + std::to_string(e.line());
    entry.status = Status::failed;
    entry.reason = e.what();
    return entry;
}

// Reads and parses one file: each token joins the entry of its user
// (`by_user`: user -> index in `out`), or one failed entry for the file.
void read_file(Source source, const std::string& path, const std::optional<std::string>& user, std::vector<Entry>& out,
               std::map<std::string, std::size_t>& by_user)
{
    try {
        const SourceFile file
            = read_source_file(path, source == Source::google_authenticator ? kGoogleAuthenticatorCap : kListCap);
        std::vector<ImportedUser> users;
        if (source == Source::google_authenticator) {
            users.push_back(parse_google_authenticator(view(file.text), path));
            if (user) {
                users.back().user = *user;
            } else {
                const Account owner = look_up_account(file.owner);
                if (owner.lookup != Account::Lookup::found)
                    throw SourceError(0,
                                      "its owner, uid " + std::to_string(file.owner)
                                          + ", is no account (name the user with --user)");
                users.back().user = owner.name;
            }
        } else if (source == Source::pam_oath) {
            users = parse_pam_oath(view(file.text), path);
        } else {
            users = parse_otpauth_lines(view(file.text), path);
        }
        for (ImportedUser& u : users) {
            const auto [it, added] = by_user.try_emplace(u.user, out.size());
            if (added) {
                out.emplace_back();
                out.back().user = u.user;
            }
            out[it->second].tokens.push_back(std::move(u));
        }
    } catch (const SourceError& e) {
        out.push_back(failed_file(path, e));
    }
}

void skip(Entry& e, std::string reason)
{
    e.status = Status::skipped;
    e.reason = std::move(reason);
}

// The checks that need no KDF: a valid name, an account by it, tokens
// that can be its authenticators together, no enrolment to keep.
void check_users(std::vector<Entry>& entries, const Context& ctx, Source source, bool force)
{
    for (Entry& e : entries) {
        if (e.status != Status::pending)
            continue;
        e.origin = origins(e.tokens);
        try {
            require_valid_user_name(e.user);
            require_account(e.user);
            std::string refused = refusal(e.tokens, ctx.config.max_authenticators);
            if (!refused.empty()) {
                skip(e, std::move(refused));
                continue;
            }
            e.names = authenticator_names(e.tokens, source_name(source));
            const std::optional<UserState> existing = ctx.store.load(e.user);
            if (existing && existing->enrolled() && !force)
                skip(e, "already enrolled: kept (--force replaces it)");
        } catch (const InvalidUserName& err) {
            skip(e, err.what());
        } catch (const NotEnrolled& err) {
            skip(e, err.what());
        } catch (const std::exception& err) {
            e.status = Status::failed;
            e.reason = err.what();
        }
    }
}

// The slow part, on every core: each entry's state, scratch codes hashed.
void convert(std::vector<Entry>& entries, const Context& ctx)
{
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (entries[i].status == Status::pending)
            pending.push_back(i);
    const std::int64_t now = ctx.clock.now();
    cli::ProgressBar bar("hashing scratch codes", pending.size());
    cli::parallel_for(
        pending.size(),
        [&](std::size_t k) {
            Entry& e = entries[pending[k]];
            try {
                e.state = to_user_state(e.tokens, e.names, e.user, ctx.config, now);
            } catch (const ImportRefused& err) {
                skip(e, err.what());
            } catch (const std::exception& err) {
                e.status = Status::failed;
                e.reason = err.what();
            }
        },
        [&](std::size_t done) { bar.update(done); });
}

// Writes each converted state through the store (file or PostgreSQL): the
// whole state in one update, so a user gets all of it or nothing.
void write_states(std::vector<Entry>& entries, const Context& ctx, bool force, bool dry_run)
{
    for (Entry& e : entries) {
        if (e.status != Status::pending)
            continue;
        if (dry_run) {
            e.status = Status::imported;
            continue;
        }
        try {
            ctx.store.update(e.user, [&](std::optional<UserState>& state) {
                if (state && state->enrolled() && !force) {
                    skip(e, "enrolled meanwhile: kept (--force replaces it)");
                    return false;
                }
                state = std::move(*e.state);
                e.status = Status::imported;
                return true;
            });
        } catch (const std::exception& err) {
            e.status = Status::failed;
            e.reason = err.what();
        }
        e.state.reset();
    }
}

const char* status_word(Status s, bool dry_run)
{
    switch (s) {
    case Status::imported:
        return dry_run ? "would import" : "imported";
    case Status::skipped:
        return "skipped";
    case Status::failed:
    case Status::pending:
        break;
    }
    return "failed";
}

// The settings of the old tool not carried over, each once.
std::vector<std::string> dropped(const Entry& e)
{
    std::vector<std::string> all;
    for (const ImportedUser& t : e.tokens)
        for (const std::string& d : t.dropped)
            if (std::find(all.begin(), all.end(), d) == all.end())
                all.push_back(d);
    return all;
}

std::size_t scratch_codes(const Entry& e)
{
    std::size_t n = 0;
    for (const ImportedUser& t : e.tokens)
        n += t.scratch_codes.size();
    return n;
}

bool is_hotp(const ImportedUser& t) { return t.kind == ImportedUser::Kind::hotp; }

void print_text(cli::OutputBuffer& out, const Entry& e, bool dry_run)
{
    if (!e.user.empty())
        out << cli::printable(e.user) << ": ";
    out << status_word(e.status, dry_run);
    if (e.status != Status::imported) {
        out << ": " << cli::printable(e.reason) << " [" << cli::printable(e.origin) << "]\n";
        return;
    }
    for (std::size_t i = 0; i < e.tokens.size(); ++i) {
        const ImportedUser& t = e.tokens[i];
        out << (i == 0 ? " " : ", ") << e.names[i] << " (" << (is_hotp(t) ? "HOTP" : "TOTP");
        if (!is_hotp(t))
            out << ", " << std::to_string(t.params.period) << " s";
        out << ") [" << cli::printable(t.origin) << "]";
    }
    if (const std::size_t codes = scratch_codes(e); codes > 0)
        out << "; " << std::to_string(codes) << " scratch codes as backup codes";
    const std::vector<std::string> not_kept = dropped(e);
    if (!not_kept.empty()) {
        out << "; not carried over:";
        for (const std::string& d : not_kept)
            out << " " << d << ";";
    }
    out << '\n';
}

void print_json(cli::OutputBuffer& out, const Entry& e, bool dry_run)
{
    JsonWriter w(out);
    w.begin_object().field("version", 1u).field("status", status_word(e.status, false));
    if (e.user.empty())
        w.key("user").null();
    else
        w.field("user", e.user);
    w.field("source", e.origin).field("dry_run", dry_run);
    if (e.status == Status::imported) {
        w.field("period", e.tokens.front().params.period)
            .field("backup_codes", static_cast<std::uint64_t>(scratch_codes(e)));
        w.key("not_carried_over").begin_array();
        for (const std::string& d : dropped(e))
            w.value(d);
        w.end_array();
        w.key("authenticators").begin_array();
        for (std::size_t i = 0; i < e.tokens.size(); ++i) {
            const ImportedUser& t = e.tokens[i];
            w.begin_object().field("name", e.names[i]).field("type", is_hotp(t) ? "hotp" : "totp");
            w.field("digits", t.params.digits);
            if (!is_hotp(t))
                w.field("period", t.params.period);
            w.field("source", t.origin).end_object();
        }
        w.end_array();
    } else {
        w.field("reason", e.reason);
    }
    w.end_object();
    out << '\n';
}

void advise(Source source, const std::vector<std::string>& files)
{
    if (source == Source::google_authenticator)
        cli::notice("once logins work with pam_twofactor, remove the 'auth ... pam_google_authenticator.so' lines "
                    "from /etc/pam.d, then the users' .google_authenticator files (docs/moving.md)");
    else if (source == Source::pam_oath)
        cli::notice("once logins work with pam_twofactor, remove the 'auth ... pam_oath.so' lines from /etc/pam.d, "
                    "then "
                    + (files.empty() ? std::string("the users file") : files.front())
                    + " (it holds the secrets in clear; docs/moving.md)");
    else
        cli::notice("the otpauth list holds the secrets in clear: delete it once imported (docs/moving.md)");
}

class ImportCommand final : public Command {
public:
    const char* name() const override { return "import"; }
    const char* synopsis() const override
    {
        return "--from google-authenticator|pam_oath|otpauth [FILE...] [--user USER] [--force]\n"
               "       [--dry-run] [--json]";
    }
    const char* summary() const override { return "take over enrolments of google-authenticator or pam_oath"; }
    const char* details() const override
    {
        return "google-authenticator: each FILE is a .google_authenticator file; the user is its\n"
               "owner unless --user (for every FILE). pam_oath: a users file (TYPE USER - HEXSECRET ...).\n"
               "otpauth: lines 'USER otpauth://...' (standard input without FILE or with '-').\n"
               "Scratch codes become the user's backup codes, a spent time step stays spent. A user\n"
               "already enrolled is kept unless --force. Several tokens of one user become several\n"
               "authenticators (at most max_authenticators; one set of scratch codes). Each user is\n"
               "imported whole or not at all; a malformed file imports nothing. Exit status 1 if any\n"
               "user was skipped or failed.\n"
               "See docs/moving.md for what to remove from the old PAM stack afterwards.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        auto add = shown.add_options();
        add("from", po::value<std::string>()->value_name("SOURCE"), "google-authenticator, pam_oath or otpauth");
        add("user", po::value<std::string>()->value_name("USER"), "google-authenticator: the files' user");
        add("force", po::bool_switch(), "replace the state of users already enrolled");
        add("dry-run", po::bool_switch(), "read and check everything, write nothing");
        add("json", po::bool_switch(), "one JSON object per user (docs/json.md)");
        hidden.add_options()("file", po::value<std::vector<std::string>>());
        positional.add("file", -1);
    }

    ExitCode run(const Context& ctx) const override
    {
        const Source source = parse_source(ctx.options);
        std::vector<std::string> files;
        if (ctx.options.count("file"))
            files = ctx.options["file"].as<std::vector<std::string>>();
        std::optional<std::string> user;
        if (ctx.options.count("user")) {
            if (source != Source::google_authenticator)
                throw UsageError("--user goes with --from google-authenticator");
            user = ctx.options["user"].as<std::string>();
        }
        if (files.empty()) {
            if (source != Source::otpauth)
                throw UsageError("missing FILE");
            files.push_back("-");
        }
        const bool force = flag(ctx.options, "force");
        const bool dry_run = flag(ctx.options, "dry-run");
        const bool json = flag(ctx.options, "json");

        std::vector<Entry> entries;
        std::map<std::string, std::size_t> by_user;
        for (const std::string& path : files)
            read_file(source, path, user, entries, by_user);
        check_users(entries, ctx, source, force);
        convert(entries, ctx);
        write_states(entries, ctx, force, dry_run);

        std::size_t counts[4] = {};
        cli::OutputBuffer out;
        for (const Entry& e : entries) {
            ++counts[static_cast<int>(e.status)];
            if (json)
                print_json(out, e, dry_run);
            else
                print_text(out, e, dry_run);
        }
        out.flush();
        const std::size_t imported = counts[static_cast<int>(Status::imported)];
        const std::size_t skipped = counts[static_cast<int>(Status::skipped)];
        const std::size_t failed = counts[static_cast<int>(Status::failed)];
        cli::notice(std::string(dry_run ? "dry run: would import " : "imported ") + std::to_string(imported)
                    + " user(s); " + std::to_string(skipped) + " skipped; " + std::to_string(failed) + " failed");
        if (imported > 0 && !dry_run)
            advise(source, files);
        if (ctx.config.forward_pass && source == Source::google_authenticator && imported > 0)
            cli::notice("forward_pass is on: a scratch code is all digits, so typed after the password it is read "
                        "as a TOTP code and fails; give these users new codes with 'issue' (docs/moving.md)");
        return skipped + failed > 0 ? ExitCode::failed : ExitCode::ok;
    }
};

} // namespace

std::unique_ptr<Command> make_import_command() { return std::make_unique<ImportCommand>(); }

} // namespace twofactor::admin
