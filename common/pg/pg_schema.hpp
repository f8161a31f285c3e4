// The PostgreSQL store's schema and its migrations. Every table lives in the
// schema "twofactor"; twofactor.schema_version holds one row per migration
// applied. A new version is a new entry at the end of the list in
// pg_schema.cpp, applied by `twofactor-admin db-migrate` in one transaction.
// See docs/fleet.md.
#pragma once

#include "pg_connection.hpp"

#include <optional>

namespace twofactor {

// The version this build reads and writes.
int pg_schema_latest_version();

// The version the database is at, or nullopt if the schema was never
// created (no twofactor.schema_version table).
std::optional<int> pg_schema_version(PgConnection& connection, Deadline deadline);

// Throws StoreError(io) unless this build can use the database: its schema
// is at this build's version, or newer with migrations that declared this
// build still compatible. The message says what to run.
void require_pg_schema_current(PgConnection& connection, Deadline deadline);

struct PgSchemaChange {
    std::optional<int> from; // nullopt: created
    int to = 0;
};

// Creates the schema and applies every migration (`create`), or applies the
// pending ones to an existing schema. Serialised against other runs by an
// advisory lock; all in one transaction. Throws StoreError if the schema is
// missing (when not creating) or newer than this build.
PgSchemaChange apply_pg_migrations(PgConnection& connection, bool create);

} // namespace twofactor
