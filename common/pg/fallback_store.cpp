#include "fallback_store.hpp"

#include "pg_connection.hpp"
#include "store_factory.hpp"

#include <utility>

namespace twofactor {

FallbackStateStore::FallbackStateStore(std::unique_ptr<StateStore> database, std::string local_dir,
                                       OnFallback on_fallback, std::shared_ptr<const SecretKeys> keys)
    : database_(std::move(database)),
      local_dir_(std::move(local_dir)),
      on_fallback_(std::move(on_fallback)),
      keys_(std::move(keys))
{
}

template <typename Call>
auto FallbackStateStore::route(const Call& call)
{
    switch (use_) {
    case Use::local:
        return call(*local_);
    case Use::database:
        return call(*database_);
    case Use::undecided:
        break;
    }
    try {
        auto result = call(*database_);
        use_ = Use::database;
        return result;
    } catch (const PgUnreachable& e) {
        use_ = Use::local;
        local_ = std::make_unique<FileStateStore>(local_dir_, keys_);
        if (on_fallback_)
            on_fallback_(e.what());
        return call(*local_);
    } catch (...) {
        use_ = Use::database; // it answered, if only with an error: no fallback after this
        throw;
    }
}

std::optional<UserState> FallbackStateStore::load(const std::string& user)
{
    return route([&](StateStore& store) { return store.load(user); });
}

std::vector<LoadedState> FallbackStateStore::load_many(const std::vector<std::string>& users)
{
    return route([&](StateStore& store) { return store.load_many(users); });
}

bool FallbackStateStore::update(const std::string& user, const Change& change)
{
    return route([&](StateStore& store) { return store.update(user, change); });
}

std::vector<std::string> FallbackStateStore::users()
{
    return route([](StateStore& store) { return store.users(); });
}

void FallbackStateStore::idle() noexcept
{
    database_->idle();
    if (local_)
        local_->idle();
}

std::unique_ptr<StateStore> open_login_store(const Config& config, FallbackStateStore::OnFallback on_fallback)
{
    std::shared_ptr<const SecretKeys> keys = load_secret_keys(config);
    std::unique_ptr<StateStore> store = open_state_store(config, keys);
    if (config.store != Config::Store::postgresql || config.pg_unavailable != Config::PgUnavailable::local)
        return store;
    return std::make_unique<FallbackStateStore>(std::move(store), config.local_state_dir, std::move(on_fallback),
                                                std::move(keys));
}

} // namespace twofactor
