// Where user state lives. StateStore is the interface the verifier and the
// tools use; what every store guarantees is in docs/store.md. The stores:
// FileStateStore (file_state_store.hpp, the embedded default) and
// PgStateStore (pg/pg_state_store.hpp); open_state_store (pg/store_factory.hpp)
// picks the one the configuration names.
#pragma once

#include "user_state.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor {

// Accepts names usable as one path component and nothing else:
// [A-Za-z0-9_][A-Za-z0-9._@-]* with an optional trailing '$', at most 64 bytes.
bool valid_user_name(std::string_view name);
// Throws InvalidUserName with a message that does not echo control bytes.
void require_valid_user_name(std::string_view name);

// One user's state as load_many() read it.
struct LoadedState {
    std::optional<UserState> state; // nullopt: no state (or not readable)
    std::string error;              // why it could not be read; empty if read
};

class StateStore {
public:
    virtual ~StateStore() = default;

    // The user's state, or nullopt if the user has none. Throws StoreError.
    virtual std::optional<UserState> load(const std::string& user) = 0;

    // load() for each of `users`, in order. A StoreError for one user
    // becomes that user's `error`; the others are still read. Throws
    // InvalidUserName, before reading anything, if any name is invalid.
    virtual std::vector<LoadedState> load_many(const std::vector<std::string>& users);

    // Read-modify-write under an exclusive lock on this user. `change` gets
    // the current state (nullopt if none) and returns true to write it back;
    // setting it to nullopt removes the user's state. Returns what `change`
    // returned. Throws StoreError; if it throws, nothing was changed, except
    // when the new state was already in place and only making it durable
    // failed (the file store's directory fsync after the rename): the
    // error's message then says the change was made.
    using Change = std::function<bool(std::optional<UserState>&)>;
    virtual bool update(const std::string& user, const Change& change) = 0;

    // Names of all users with state, sorted.
    virtual std::vector<std::string> users() = 0;

    // The caller is about to wait (the module, for the user to type a code):
    // let go of what the next call can take again, such as a database
    // connection, so a fleet of prompts does not hold the server's slots.
    virtual void idle() noexcept {}
};

} // namespace twofactor
