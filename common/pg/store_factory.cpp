#include "store_factory.hpp"

#include "errors.hpp"
#include "file_state_store.hpp"
#include "pg_state_store.hpp"

namespace twofactor {

std::unique_ptr<StateStore> open_state_store(const Config& config)
{
    switch (config.store) {
    case Config::Store::file:
        return std::make_unique<FileStateStore>(config.state_dir);
    case Config::Store::postgresql:
        return std::make_unique<PgStateStore>(config);
    }
    throw ConfigError("unknown store");
}

} // namespace twofactor
