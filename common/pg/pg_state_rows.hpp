// Reading a user's state from the PostgreSQL store's tables, and the text
// encoding of the free-text fields there. Whatever the database holds is
// checked as strictly as a state file: a row that would not make a valid
// state file is a StoreError(corrupt), never a guess.
#pragma once

#include "pg_connection.hpp"
#include "state_store.hpp"
#include "user_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor {

struct StoredState {
    UserState state;
    std::optional<std::int64_t> set_id; // the row of state.codes
};

// The user's state in one statement (one snapshot), or nullopt if the user
// has no row.
std::optional<StoredState> read_pg_state(PgConnection& connection, const std::string& user, Deadline deadline);

// The same in two halves, for a statement sent in a batch: the query, and
// its result read.
void add_pg_state_query(PgBatch& batch, const std::string& user);
std::optional<StoredState> pg_state_of(const PgResult& result, const std::string& user);

// The states of many users in one statement (one snapshot), in the order
// asked; a user without a row has neither state nor error, one whose rows
// are invalid has the error. Throws StoreError if the statement fails.
std::vector<LoadedState> read_pg_states(PgConnection& connection, const std::vector<std::string>& users,
                                        Deadline deadline);

// Service, remote host and tty come from PAM and may be any bytes: stored as
// printable ASCII with '%', space and every other byte written %XX; at most
// 85 bytes are kept, as in a state file. decode_pg_text throws
// StoreError(corrupt) for anything else, a longer value included.
std::string encode_pg_text(std::string_view value);
std::string decode_pg_text(std::string_view text);

} // namespace twofactor
