// pg_unavailable = local (docs/fleet.md): the store of one login when no
// PostgreSQL server answers. The first call goes to the database; if it
// throws PgUnreachable (no server of pg_conninfo answered at all), that call
// and every later one of this login go to a FileStateStore over
// local_state_dir, which holds only the accounts an admin enrolled there
// (twofactor-admin --state-dir). Once the database has answered anything,
// even an error, the login stays with it: a later failure is an error as
// without the fallback, so a code refused or counted in the database is
// never tried against the local store.
#pragma once

#include "config.hpp"
#include "file_state_store.hpp"
#include "state_store.hpp"

#include <functional>
#include <memory>
#include <string>

namespace twofactor {

class FallbackStateStore final : public StateStore {
public:
    // `on_fallback` gets the database's error when the local store is
    // first used, before it is read.
    using OnFallback = std::function<void(const std::string& database_error)>;
    FallbackStateStore(std::unique_ptr<StateStore> database, std::string local_dir, OnFallback on_fallback,
                       std::shared_ptr<const SecretKeys> keys = nullptr);

    std::optional<UserState> load(const std::string& user) override;
    // PgStateStore::load_many reports errors per user and throws none: it
    // never falls back (the module does not call it).
    std::vector<LoadedState> load_many(const std::vector<std::string>& users) override;
    bool update(const std::string& user, const Change& change) override;
    std::vector<std::string> users() override;
    void idle() noexcept override;

    bool local() const { return use_ == Use::local; }

private:
    template <typename Call>
    auto route(const Call& call);

    enum class Use { undecided, database, local };
    Use use_ = Use::undecided;
    std::unique_ptr<StateStore> database_;
    std::string local_dir_;
    std::unique_ptr<FileStateStore> local_;
    OnFallback on_fallback_;
    std::shared_ptr<const SecretKeys> keys_;
};

// The store of one login: open_state_store's, inside a FallbackStateStore
// when store = postgresql and pg_unavailable = local. The tools use
// open_state_store: they never fall back.
std::unique_ptr<StateStore> open_login_store(const Config& config, FallbackStateStore::OnFallback on_fallback);

} // namespace twofactor
