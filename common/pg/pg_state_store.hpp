// The fleet store: user state in PostgreSQL (libpq), shared by every host
// configured with store = postgresql, so a code spent on one host is spent on
// all. Exactly-once comes from the database: update() locks the user's row
// (SELECT ... FOR UPDATE), re-reads, and writes a newly used code with
// UPDATE ... WHERE used_at IS NULL in the same transaction. Every failure,
// including a timeout, is a StoreError: the module fails closed. The schema
// and the argument are in docs/fleet.md.
#pragma once

#include "config.hpp"
#include "pg_schema.hpp"
#include "secret_keys.hpp"
#include "state_store.hpp"

#include <memory>

namespace twofactor {

class PgConnection;

class PgStateStore final : public StateStore {
public:
    // Parses the connection settings (ConfigError if they are unusable);
    // connects on first use, so merely opening the store costs nothing.
    // With `keys`, secrets are sealed when written and opened when read
    // (sealed_secret.hpp); without, rows in clear are read, and writing a
    // new secret is refused (never one in clear in the database).
    explicit PgStateStore(const Config& config, std::shared_ptr<const SecretKeys> keys = nullptr);
    ~PgStateStore() override;

    std::optional<UserState> load(const std::string& user) override;
    // 500 users per statement; a batch that fails gives each of its users the error.
    std::vector<LoadedState> load_many(const std::vector<std::string>& users) override;
    bool update(const std::string& user, const Change& change) override;
    std::vector<std::string> users() override;
    void idle() noexcept override; // closes the connection

    // For twofactor-admin db-init / db-migrate: no schema check first.
    PgSchemaChange create_schema();
    PgSchemaChange migrate_schema();

private:
    // Connected, and the schema checked on the store's first connection.
    void ready(Deadline deadline);

    std::unique_ptr<PgConnection> connection_;
    bool schema_checked_ = false;
    std::string client_host_; // recorded in the audit log
    std::shared_ptr<const SecretKeys> keys_;
    std::string key_file_; // for messages
};

} // namespace twofactor
