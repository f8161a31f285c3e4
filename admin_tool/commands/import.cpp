// import --from google-authenticator|pam_oath|otpauth FILE...: takes over
// enrolments made for another PAM module, so users keep their phones and
// printed scratch codes (docs/moving.md). Files are read safely and never
// written; each user's whole state is written at once, or nothing for that
// user. Hashing the scratch codes (one scrypt each) runs on every core.
#include "commands.hpp"

#include "../import/source_file.hpp"
#include "../import/to_state.hpp"
#include "../json.hpp"

#include "output.hpp"
#include "parallel.hpp"
#include "progress.hpp"

#include "account.hpp"
#include "errors.hpp"

#include <map>

namespace twofactor::admin {
namespace {

enum class Source { google_authenticator, pam_oath, otpauth };
enum class Status { pending, imported, skipped, failed };

// A google-authenticator file is a few hundred bytes; a users file or a
// list of URIs has a line per user.
constexpr std::size_t kGoogleAuthenticatorCap = std::size_t{64} * 1024;
constexpr std::size_t kListCap = std::size_t{32} * 1024 * 1024;

struct Entry {
    ImportedUser imported;
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

Entry failed_file(const std::string& path, const SourceError& e)
{
    Entry entry;
    entry.imported.origin = e.line() == 0 ? path : path + ":" + std::to_string(e.line());
    entry.status = Status::failed;
    entry.reason = e.what();
    return entry;
}

// Reads and parses one file into entries, or one failed entry for the file.
void read_file(Source source, const std::string& path, const std::optional<std::string>& user, std::vector<Entry>& out)
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
        for (ImportedUser& u : users)
            out.push_back(Entry{std::move(u), Status::pending, {}, {}});
    } catch (const SourceError& e) {
        out.push_back(failed_file(path, e));
    }
}

void skip(Entry& e, std::string reason)
{
    e.status = Status::skipped;
    e.reason = std::move(reason);
}

// The checks that need no KDF: a valid name, an account by it, one entry
// per user, no enrolment to keep.
void check_users(std::vector<Entry>& entries, const Context& ctx, bool force)
{
    std::map<std::string, std::vector<std::size_t>> by_user;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (entries[i].status == Status::pending)
            by_user[entries[i].imported.user].push_back(i);
    for (const auto& [user, indices] : by_user) {
        if (indices.size() < 2)
            continue;
        std::string where;
        for (std::size_t i : indices)
            where += (where.empty() ? "" : ", ") + entries[i].imported.origin;
        for (std::size_t i : indices)
            skip(entries[i],
                 "several tokens for this user (" + where
                     + "); several authenticators per user are not supported by this build");
    }
    for (Entry& e : entries) {
        if (e.status != Status::pending)
            continue;
        try {
            require_valid_user_name(e.imported.user);
            require_account(e.imported.user);
            const std::optional<UserState> existing = ctx.store.load(e.imported.user);
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
                e.state = to_user_state(e.imported, e.imported.user, ctx.config, now);
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
            ctx.store.update(e.imported.user, [&](std::optional<UserState>& state) {
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

void print_text(cli::OutputBuffer& out, const Entry& e, bool dry_run)
{
    const ImportedUser& u = e.imported;
    if (!u.user.empty())
        out << cli::printable(u.user) << ": ";
    out << status_word(e.status, dry_run);
    if (e.status == Status::imported) {
        out << " (TOTP, " << std::to_string(u.params.period) << " s";
        if (!u.scratch_codes.empty())
            out << ", " << std::to_string(u.scratch_codes.size()) << " scratch codes as backup codes";
        out << ")";
    } else {
        out << ": " << cli::printable(e.reason);
    }
    out << " [" << cli::printable(u.origin) << "]";
    if (e.status == Status::imported && !u.dropped.empty()) {
        out << "; not carried over:";
        for (const std::string& d : u.dropped)
            out << " " << d << ";";
    }
    out << '\n';
}

void print_json(cli::OutputBuffer& out, const Entry& e, bool dry_run)
{
    const ImportedUser& u = e.imported;
    JsonWriter w(out);
    w.begin_object().field("version", 1u).field("status", status_word(e.status, false));
    if (u.user.empty())
        w.key("user").null();
    else
        w.field("user", u.user);
    w.field("source", u.origin).field("dry_run", dry_run);
    if (e.status == Status::imported) {
        w.field("period", u.params.period).field("backup_codes", static_cast<std::uint64_t>(u.scratch_codes.size()));
        w.key("not_carried_over").begin_array();
        for (const std::string& d : u.dropped)
            w.value(d);
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
               "owner unless --user (one file only). pam_oath: a users file (TYPE USER - HEXSECRET ...).\n"
               "otpauth: lines 'USER otpauth://...' (standard input without FILE or with '-').\n"
               "Scratch codes become the user's backup codes, a spent time step stays spent. A user\n"
               "already enrolled is kept unless --force. Each user is imported whole or not at all;\n"
               "a malformed file imports nothing. Exit status 1 if any user was skipped or failed.\n"
               "See docs/moving.md for what to remove from the old PAM stack afterwards.\n";
    }

    void declare(po::options_description& shown, po::options_description& hidden,
                 po::positional_options_description& positional) const override
    {
        auto add = shown.add_options();
        add("from", po::value<std::string>()->value_name("SOURCE"), "google-authenticator, pam_oath or otpauth");
        add("user", po::value<std::string>()->value_name("USER"), "google-authenticator: the file's user");
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
            if (source != Source::google_authenticator || files.size() != 1)
                throw UsageError("--user goes with --from google-authenticator and one FILE");
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
        for (const std::string& path : files)
            read_file(source, path, user, entries);
        check_users(entries, ctx, force);
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
