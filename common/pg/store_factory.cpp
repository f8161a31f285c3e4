#include "store_factory.hpp"

#include "errors.hpp"
#include "file_state_store.hpp"
#include "pg_state_store.hpp"

namespace twofactor {

std::unique_ptr<StateStore> open_state_store(const Config& config)
{
    return open_state_store(config, load_secret_keys(config));
}

std::unique_ptr<StateStore> open_state_store(const Config& config, std::shared_ptr<const SecretKeys> keys)
{
    switch (config.store) {
    case Config::Store::file:
        return std::make_unique<FileStateStore>(config.state_dir, std::move(keys));
    case Config::Store::postgresql:
        return std::make_unique<PgStateStore>(config, std::move(keys));
    }
    throw ConfigError("unknown store");
}

} // namespace twofactor
