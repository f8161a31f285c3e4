// Reading a user's state from the PostgreSQL store's tables, and the text
// encoding of the free-text fields there. Whatever the database holds is
// checked as strictly as a state file: a row that would not make a valid
// state file is a StoreError(corrupt), never a guess.
#pragma once

#include "pg_connection.hpp"
#include "user_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor {

struct StoredState {
    UserState state;
    std::optional<std::int64_t> set_id; // the row of state.codes
};

// The user's state in one statement (one snapshot), or nullopt if the user
// has no row.
std::optional<StoredState> read_pg_state(PgConnection& connection, const std::string& user, Deadline deadline);

// Service, remote host and tty come from PAM and may be any bytes: stored as
// printable ASCII with '%', space and every other byte written %XX; at most
// 85 bytes are kept, as in a state file. decode_pg_text throws
// StoreError(corrupt) for anything else, a longer value included.
std::string encode_pg_text(std::string_view value);
std::string decode_pg_text(std::string_view text);

} // namespace twofactor
