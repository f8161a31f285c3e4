// Where user state lives. StateStore is the interface the verifier and the
// tool use; FileStateStore is the embedded default: one root-only file per
// user, opened with openat + O_NOFOLLOW and checked with fstat, changed under
// an exclusive per-user lock by temp file + fsync + rename + directory fsync.
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

class FileStateStore final : public StateStore {
public:
    // Files and directory must be owned by the effective uid (root for the
    // module and the tool as installed) and have no group or other
    // permission at all (directory 0700, files 0600).
    explicit FileStateStore(std::string directory);

    std::optional<UserState> load(const std::string& user) override;
    // Opens and checks the directory once for all of them.
    std::vector<LoadedState> load_many(const std::vector<std::string>& users) override;
    bool update(const std::string& user, const Change& change) override;
    std::vector<std::string> users() override;

    const std::string& directory() const { return directory_; }

private:
    std::string directory_;
};

} // namespace twofactor
