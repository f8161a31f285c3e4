#include "pg_schema.hpp"

#include <string>

namespace twofactor {

namespace {

// Serialises db-init / db-migrate runs against each other (any constant;
// "2fa" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(3302977)";

struct Migration {
    int version;
    // The oldest build (by the schema version it was made for) that still
    // reads and writes correctly once this migration is applied. A migration
    // that only adds (a table, a column with a default) keeps the previous
    // value, so hosts can be upgraded one by one after db-migrate; one that
    // changes what old builds rely on raises it to its own version, and
    // older hosts then fail closed until upgraded.
    int oldest_compatible;
    const char* description;
    const char* sql;
};

// Append only: a released migration is never edited, a change is a new entry.
// Times are Unix seconds (bigint), as in the state file, so a state moves
// between the stores unchanged. Text from PAM (service, rhost, tty) is stored
// percent-encoded (bytes other than printable ASCII, and '%', as %XX), so any
// byte string fits whatever the database encoding.
constexpr Migration kMigrations[] = {
    {1, 1, "users, TOTP secrets, code sets, codes, last logins, audit log", R"SQL(
CREATE TABLE twofactor.users (
    user_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE
                 CHECK (octet_length(name) <= 64 AND name ~ '^[A-Za-z0-9_][A-Za-z0-9_.@-]*[$]?$'),
    failures     integer NOT NULL DEFAULT 0 CHECK (failures BETWEEN 0 AND 1000000),
    locked_until bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE twofactor.users IS
    'One row per user with second-factor state; the row lock serialises every change to that user.';
COMMENT ON COLUMN twofactor.users.failures IS 'Consecutive failed codes (lockout counter).';
COMMENT ON COLUMN twofactor.users.locked_until IS 'Unix time the lockout ends; 0 when not locked.';

CREATE TABLE twofactor.totp_secrets (
    user_id       bigint PRIMARY KEY REFERENCES twofactor.users ON DELETE CASCADE,
    algorithm     text NOT NULL CHECK (algorithm IN ('sha1', 'sha256', 'sha512')),
    digits        smallint NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period        integer NOT NULL CHECK (period BETWEEN 1 AND 3600),
    secret_base32 text NOT NULL CHECK (secret_base32 ~ '^[A-Z2-7]{16,205}$'),
    enrolled_at   bigint NOT NULL,
    last_step     bigint CHECK (last_step >= 0)
);
COMMENT ON COLUMN twofactor.totp_secrets.secret_base32 IS
    'The TOTP key in clear (base32), as in a state file: whoever can read this column can make codes.';
COMMENT ON COLUMN twofactor.totp_secrets.last_step IS
    'Last accepted time step: codes for this step or earlier are refused (replay).';

CREATE TABLE twofactor.last_logins (
    user_id bigint PRIMARY KEY REFERENCES twofactor.users ON DELETE CASCADE,
    at      bigint NOT NULL,
    method  text NOT NULL CHECK (method IN ('totp', 'backup_code')),
    service text NOT NULL,
    rhost   text NOT NULL,
    tty     text NOT NULL
);

CREATE TABLE twofactor.code_sets (
    set_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL UNIQUE REFERENCES twofactor.users ON DELETE CASCADE,
    issued_at     bigint NOT NULL,
    code_length   smallint NOT NULL CHECK (code_length BETWEEN 8 AND 16),
    scrypt_log2_n smallint NOT NULL CHECK (scrypt_log2_n BETWEEN 10 AND 20),
    scrypt_r      integer NOT NULL CHECK (scrypt_r BETWEEN 1 AND 32),
    scrypt_p      integer NOT NULL CHECK (scrypt_p BETWEEN 1 AND 16),
    salt          bytea NOT NULL CHECK (octet_length(salt) = 16),
    code_count    smallint NOT NULL CHECK (code_count BETWEEN 1 AND 100)
);
COMMENT ON TABLE twofactor.code_sets IS 'The current backup-code set of a user (a new set replaces it).';

CREATE TABLE twofactor.codes (
    set_id  bigint NOT NULL REFERENCES twofactor.code_sets ON DELETE CASCADE,
    slot    smallint NOT NULL CHECK (slot BETWEEN 0 AND 99),
    hash    bytea NOT NULL CHECK (octet_length(hash) = 32),
    used_at bigint,
    service text,
    rhost   text,
    tty     text,
    PRIMARY KEY (set_id, slot),
    CHECK ((used_at IS NULL) = (service IS NULL) AND (used_at IS NULL) = (rhost IS NULL)
           AND (used_at IS NULL) = (tty IS NULL))
);
COMMENT ON COLUMN twofactor.codes.hash IS 'scrypt(code, code_sets.salt); the code itself is never stored.';
COMMENT ON COLUMN twofactor.codes.used_at IS
    'Unix time of use, NULL while unused. Set only by UPDATE ... WHERE used_at IS NULL.';

CREATE TABLE twofactor.audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_name   text NOT NULL,
    at          bigint NOT NULL,
    method      text NOT NULL CHECK (method IN ('totp', 'backup_code')),
    set_id      bigint,
    slot        smallint,
    totp_step   bigint,
    service     text NOT NULL,
    rhost       text NOT NULL,
    tty         text NOT NULL,
    client_host text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE twofactor.audit_log IS
    'Every accepted code (backup code spent, TOTP step accepted), with the host that accepted it. Append only.';
CREATE INDEX audit_log_user_at ON twofactor.audit_log (user_name, at);
)SQL"},
    // Additive: builds of version 1 leave the columns alone.
    {2, 1, "the last clock skew seen (users.skew_at, users.skew_seconds)", R"SQL(
ALTER TABLE twofactor.users
    ADD COLUMN skew_at bigint,
    ADD COLUMN skew_seconds integer CHECK (skew_seconds BETWEEN -86400 AND 86400),
    ADD CONSTRAINT users_skew_both CHECK ((skew_at IS NULL) = (skew_seconds IS NULL));
COMMENT ON COLUMN twofactor.users.skew_seconds IS
    'Offset of the step of the last refused TOTP code that belonged to a step minutes away; < 0: device behind.';
)SQL"},
    // Additive: builds of versions 1 and 2 never read or write devices.
    {3, 1, "recognised devices", R"SQL(
CREATE TABLE twofactor.devices (
    user_id     bigint NOT NULL REFERENCES twofactor.users ON DELETE CASCADE,
    device_id   bytea NOT NULL CHECK (octet_length(device_id) = 32),
    fingerprint text NOT NULL,
    address     text NOT NULL,
    first_used  bigint NOT NULL CHECK (first_used >= 0),
    last_used   bigint NOT NULL CHECK (last_used >= 0),
    expires_at  bigint NOT NULL CHECK (expires_at >= 0),
    PRIMARY KEY (user_id, device_id),
    CHECK (fingerprint <> '' OR address <> '')
);
COMMENT ON TABLE twofactor.devices IS
    'Recognised devices: a login from one skips the code until expires_at (docs/devices.md).';
COMMENT ON COLUMN twofactor.devices.device_id IS
    'SHA-256 over the user, the mode and the SSH key and/or address; never the key itself.';
)SQL"},
    // Several named authenticators per user, TOTP or HOTP. totp_secrets goes
    // (its rows become authenticators named 'default'), so a build that only
    // knows it must not run against this schema: oldest_compatible is this
    // version, and older builds fail closed until upgraded.
    {4, 4, "named TOTP and HOTP authenticators replace totp_secrets", R"SQL(
CREATE TABLE twofactor.authenticators (
    authenticator_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES twofactor.users ON DELETE CASCADE,
    name          text NOT NULL CHECK (name ~ '^[a-z0-9._-]{1,32}$'),
    type          text NOT NULL CHECK (type IN ('totp', 'hotp')),
    algorithm     text NOT NULL CHECK (algorithm IN ('sha1', 'sha256', 'sha512')),
    digits        smallint NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period        integer CHECK (period BETWEEN 1 AND 3600),
    counter       bigint CHECK (counter >= 0),
    secret_base32 text NOT NULL CHECK (secret_base32 ~ '^[A-Z2-7]{16,205}$'),
    enrolled_at   bigint NOT NULL,
    last_step     bigint CHECK (last_step >= 0),
    last_used     bigint CHECK (last_used > 0),
    UNIQUE (user_id, name),
    CHECK ((type = 'totp') = (period IS NOT NULL) AND (type = 'hotp') = (counter IS NOT NULL)
           AND (type = 'totp' OR last_step IS NULL))
);
COMMENT ON TABLE twofactor.authenticators IS
    'A user''s named authenticators, in the order of authenticator_id (the order codes are tried in).';
COMMENT ON COLUMN twofactor.authenticators.secret_base32 IS
    'The key in clear (base32), as in a state file: whoever can read this column can make codes.';
COMMENT ON COLUMN twofactor.authenticators.counter IS
    'HOTP: the next counter expected; codes for earlier counters are refused. Only ever increases.';
COMMENT ON COLUMN twofactor.authenticators.last_step IS
    'TOTP: last accepted time step: codes for this step or earlier are refused (replay).';
INSERT INTO twofactor.authenticators
    (user_id, name, type, algorithm, digits, period, secret_base32, enrolled_at, last_step)
    SELECT user_id, 'default', 'totp', algorithm, digits, period, secret_base32, enrolled_at, last_step
    FROM twofactor.totp_secrets ORDER BY user_id;
DROP TABLE twofactor.totp_secrets;
ALTER TABLE twofactor.last_logins ADD COLUMN authenticator text CHECK (authenticator ~ '^[a-z0-9._-]{1,32}$');
UPDATE twofactor.last_logins SET authenticator = 'default' WHERE method = 'totp';
ALTER TABLE twofactor.last_logins DROP CONSTRAINT last_logins_method_check,
    ADD CONSTRAINT last_logins_method_check CHECK (method IN ('totp', 'hotp', 'backup_code'));
ALTER TABLE twofactor.audit_log ADD COLUMN authenticator text;
ALTER TABLE twofactor.audit_log DROP CONSTRAINT audit_log_method_check,
    ADD CONSTRAINT audit_log_method_check CHECK (method IN ('totp', 'hotp', 'backup_code'));
COMMENT ON COLUMN twofactor.audit_log.totp_step IS 'TOTP: the time step accepted; HOTP: the counter accepted.';
)SQL"},
    // Secrets sealed at rest (docs/secrets.md): a row holds its secret
    // either sealed or, as written before, in clear. A build for 4 would
    // read a NULL secret_base32, so oldest_compatible is this version.
    {5, 5, "TOTP/HOTP secrets sealed with AES-256-GCM", R"SQL(
ALTER TABLE twofactor.authenticators
    ADD COLUMN secret_sealed text
        CHECK (secret_sealed ~ '^aes256gcm:[0-9a-f]{8}:[A-Za-z0-9_-]{51,208}$'),
    ALTER COLUMN secret_base32 DROP NOT NULL,
    ADD CONSTRAINT authenticators_one_secret CHECK ((secret_base32 IS NULL) <> (secret_sealed IS NULL));
COMMENT ON COLUMN twofactor.authenticators.secret_sealed IS
    'The key sealed with AES-256-GCM under the key file''s key KEYID (docs/secrets.md); opens only for this user and name.';
COMMENT ON COLUMN twofactor.authenticators.secret_base32 IS
    'The key in clear (base32), from before sealing: whoever can read this column can make codes. Sealed when next written.';
)SQL"},
};

constexpr int kLatest = kMigrations[sizeof kMigrations / sizeof kMigrations[0] - 1].version;

bool schema_missing(const PgError& e)
{
    return e.sqlstate() == "42P01" || e.sqlstate() == "3F000"; // undefined table / schema
}

struct SchemaVersion {
    int version = 0; // 0: the table exists but is empty
    int oldest_compatible = 0;
};

SchemaVersion read_version(PgConnection& connection, Deadline deadline)
{
    const PgResult r = connection.exec("SELECT version, oldest_compatible FROM twofactor.schema_version"
                                       " ORDER BY version DESC LIMIT 1",
                                       deadline);
    if (r.rows() != 1)
        return {};
    return {static_cast<int>(r.integer(0, 0, 1, 1000000)), static_cast<int>(r.integer(0, 1, 1, 1000000))};
}

std::optional<SchemaVersion> read_version_if_any(PgConnection& connection, Deadline deadline)
{
    try {
        return read_version(connection, deadline);
    } catch (const PgError& e) {
        if (schema_missing(e))
            return std::nullopt;
        throw;
    }
}

} // namespace

int pg_schema_latest_version() { return kLatest; }

std::optional<int> pg_schema_version(PgConnection& connection, Deadline deadline)
{
    const std::optional<SchemaVersion> v = read_version_if_any(connection, deadline);
    return v ? std::optional<int>(v->version) : std::nullopt;
}

void require_pg_schema_current(PgConnection& connection, Deadline deadline)
{
    const std::optional<SchemaVersion> v = read_version_if_any(connection, deadline);
    const std::string latest = std::to_string(kLatest);
    if (!v || v->version == 0)
        throw StoreError(StoreErrc::io,
                         "PostgreSQL: the twofactor schema does not exist; run 'twofactor-admin db-init'");
    if (v->version < kLatest)
        throw StoreError(StoreErrc::io,
                         "PostgreSQL: schema version " + std::to_string(v->version) + " is older than this build's "
                             + latest + "; run 'twofactor-admin db-migrate'");
    // A newer schema is fine if its migrations kept this build compatible.
    if (v->oldest_compatible > kLatest)
        throw StoreError(StoreErrc::io,
                         "PostgreSQL: schema version " + std::to_string(v->version) + " needs a build for version "
                             + std::to_string(v->oldest_compatible) + " or later, this one is for " + latest
                             + "; upgrade twofactor");
}

PgSchemaChange apply_pg_migrations(PgConnection& connection, bool create)
{
    // DDL can take a while on a large audit log: a longer budget than a login.
    const Deadline deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    connection.open();
    PgTransaction tx(connection, deadline);
    connection.exec("SET LOCAL statement_timeout = 0", deadline);
    connection.exec("SET LOCAL lock_timeout = 0", deadline);
    connection.exec(kMigrationLock, deadline);
    PgSchemaChange change;
    if (create) {
        // From the catalogs, which need no privilege on the schema.
        const PgResult found = connection.exec(
            "SELECT pg_get_userbyid(n.nspowner), pg_get_userbyid(n.nspowner) = current_user,"
            " EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'schema_version')"
            " FROM pg_namespace n WHERE n.nspname = 'twofactor'",
            deadline);
        if (found.rows() > 0 && found.text(0, 2) == "t") {
            change.from = read_version(connection, deadline).version;
            change.to = *change.from;
            return change; // already created: db-init changes nothing
        }
        // A schema someone else made beforehand stays theirs: its owner could
        // drop or replace our tables, or grant itself the rows. Only one of
        // our own (made by hand for db-init) is used.
        if (found.rows() > 0 && found.text(0, 1) != "t")
            throw StoreError(StoreErrc::io,
                             "PostgreSQL: a schema named twofactor already exists, owned by role "
                                 + one_line(found.text(0, 0))
                                 + "; db-init creates it itself (drop it, or make it this role's)");
        connection.exec("CREATE SCHEMA IF NOT EXISTS twofactor", deadline);
        connection.exec("CREATE TABLE twofactor.schema_version ("
                        " version integer PRIMARY KEY CHECK (version > 0),"
                        " oldest_compatible integer NOT NULL CHECK (oldest_compatible BETWEEN 1 AND version),"
                        " description text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())",
                        deadline);
    } else {
        try {
            change.from = read_version(connection, deadline).version;
        } catch (const PgError& e) {
            if (schema_missing(e))
                throw StoreError(StoreErrc::io,
                                 "PostgreSQL: the twofactor schema does not exist; run 'twofactor-admin db-init'");
            throw;
        }
    }
    const int current = change.from.value_or(0);
    if (current > kLatest)
        throw StoreError(StoreErrc::io,
                         "PostgreSQL: schema version " + std::to_string(current) + " is newer than this build's "
                             + std::to_string(kLatest));
    for (const Migration& m : kMigrations) {
        if (m.version <= current)
            continue;
        connection.exec(m.sql, deadline);
        PgParams row;
        row.add(std::int64_t{m.version}).add(std::int64_t{m.oldest_compatible}).add(m.description);
        connection.exec("INSERT INTO twofactor.schema_version (version, oldest_compatible, description)"
                        " VALUES ($1, $2, $3)",
                        row, deadline);
    }
    change.to = kLatest;
    tx.commit();
    return change;
}

} // namespace twofactor
