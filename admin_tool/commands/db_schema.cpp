// db-init and db-migrate: create the PostgreSQL store's schema, and bring an
// existing one up to this build's version. Both work from pg_conninfo
// whatever `store` says, so the database can be prepared (and filled with
// `migrate`) before the hosts are switched to it.
#include "commands.hpp"

#include "output.hpp"

#include "pg_state_store.hpp"

namespace twofactor::admin {
namespace {

std::string version_text(int version) { return "version " + std::to_string(version); }

class DbInitCommand final : public Command {
public:
    const char* name() const override { return "db-init"; }
    const char* synopsis() const override { return ""; }
    const char* summary() const override { return "create the PostgreSQL store's schema"; }
    const char* details() const override
    {
        return "Connects with pg_conninfo and pg_password_file (whatever `store` says) and creates\n"
               "the schema \"twofactor\" with its tables, in one transaction. The role needs the\n"
               "CREATE privilege on the database. Changes nothing if the schema exists.\n";
    }

    void declare(po::options_description& /*shown*/, po::options_description& /*hidden*/,
                 po::positional_options_description& /*positional*/) const override
    {
    }

    ExitCode run(const Context& ctx) const override
    {
        PgStateStore store(ctx.config);
        const PgSchemaChange change = store.create_schema();
        const int latest = pg_schema_latest_version();
        if (!change.from) {
            cli::notice("created the twofactor schema at " + version_text(change.to));
        } else if (*change.from < latest) {
            throw OperationFailed("the twofactor schema exists at " + version_text(*change.from) + ", older than "
                                  + version_text(latest) + ": run 'twofactor-admin db-migrate'");
        } else {
            cli::notice("the twofactor schema already exists at " + version_text(*change.from) + "; nothing to do");
        }
        return ExitCode::ok;
    }
};

class DbMigrateCommand final : public Command {
public:
    const char* name() const override { return "db-migrate"; }
    const char* synopsis() const override { return ""; }
    const char* summary() const override { return "upgrade the PostgreSQL schema to this version"; }
    const char* details() const override
    {
        return "Applies the schema migrations the database has not had yet, in one transaction\n"
               "(all or none), serialised against other runs. Upgrade the database first, then\n"
               "the hosts: a host refuses a schema older or newer than its own version.\n";
    }

    void declare(po::options_description& /*shown*/, po::options_description& /*hidden*/,
                 po::positional_options_description& /*positional*/) const override
    {
    }

    ExitCode run(const Context& ctx) const override
    {
        PgStateStore store(ctx.config);
        const PgSchemaChange change = store.migrate_schema();
        const int from = change.from.value_or(0);
        if (from == change.to)
            cli::notice("the twofactor schema is at " + version_text(change.to) + "; nothing to do");
        else
            cli::notice("migrated the twofactor schema from " + version_text(from) + " to " + version_text(change.to));
        return ExitCode::ok;
    }
};

} // namespace

std::unique_ptr<Command> make_db_init_command() { return std::make_unique<DbInitCommand>(); }
std::unique_ptr<Command> make_db_migrate_command() { return std::make_unique<DbMigrateCommand>(); }

} // namespace twofactor::admin
