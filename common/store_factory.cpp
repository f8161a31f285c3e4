#include "store_factory.hpp"

#include "errors.hpp"

namespace twofactor {

std::unique_ptr<StateStore> open_state_store(const Config& config)
{
    switch (config.store) {
    case Config::Store::file:
        return std::make_unique<FileStateStore>(config.state_dir);
    case Config::Store::postgresql:
        throw ConfigError("store = postgresql: not available in this build");
    }
    throw ConfigError("unknown store");
}

} // namespace twofactor
