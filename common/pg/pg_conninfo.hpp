// What pg_conninfo may say, and what libpq is told besides. libpq runs as
// root inside su, sudo and the setuid `twofactor`, with the caller's
// environment and $HOME: nothing that decides which server answers a login,
// or which local file libpq reads, may come from there or from a place a
// local user can write to. The rules, and why, are in docs/fleet.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace twofactor {

using PgParameters = std::vector<std::pair<std::string, std::string>>;

// Parses `conninfo` and refuses what is unsafe; throws ConfigError
// "ORIGIN: pg_conninfo: why" (`origin`: where it was set, FILE:LINE, as
// every other configuration error says). Returns its parameters (without
// connect_timeout: pg_timeout_seconds decides), and for every file libpq
// would otherwise look for in $HOME (sslrootcert, sslcert, sslkey, sslcrl,
// passfile) a path that cannot exist.
PgParameters vet_pg_conninfo(const std::string& conninfo, const std::string& origin);

// libpq reads these with getenv, outside the connection options, so
// pg_conninfo cannot override them; StoreError if one is set. Call before
// libpq is first used (it binds its message catalogs on its first message).
void refuse_libpq_own_environment();

// StoreError if a PG* variable is set that libpq would use for a parameter
// not among `keywords` (those given to PQconnectdbParams), or that this
// libpq does not list.
void refuse_environment(const std::vector<const char*>& keywords);

} // namespace twofactor
