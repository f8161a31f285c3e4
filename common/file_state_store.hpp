// The embedded default store: one root-only file per user, opened with
// openat + O_NOFOLLOW and checked with fstat, changed under an exclusive
// per-user lock by temp file + fsync + rename + directory fsync
// (docs/store.md, docs/state-format.md).
#pragma once

#include "secret_keys.hpp"
#include "state_store.hpp"

#include <memory>
#include <string>

namespace twofactor {

class FileStateStore final : public StateStore {
public:
    // Files and directory must be owned by the effective uid (root for the
    // module and the tool as installed) and have no group or other
    // permission at all (directory 0700, files 0600). With `keys`, secrets
    // are sealed when written (sealed_secret.hpp); sealed ones are opened
    // when read, and without the key that sealed them fail closed.
    explicit FileStateStore(std::string directory, std::shared_ptr<const SecretKeys> keys = nullptr);

    std::optional<UserState> load(const std::string& user) override;
    // Opens and checks the directory once for all of them.
    std::vector<LoadedState> load_many(const std::vector<std::string>& users) override;
    bool update(const std::string& user, const Change& change) override;
    std::vector<std::string> users() override;

    const std::string& directory() const { return directory_; }

private:
    std::string directory_;
    std::shared_ptr<const SecretKeys> keys_;
};

} // namespace twofactor
