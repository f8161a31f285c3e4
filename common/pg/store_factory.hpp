// Opens the state store the configuration selects. The module and the tool
// both call this, so they always agree on where state lives.
#pragma once

#include "config.hpp"
#include "state_store.hpp"

#include <memory>

namespace twofactor {

// Throws ConfigError if the selected store cannot be used with this build or
// configuration, StoreError if it cannot be reached.
std::unique_ptr<StateStore> open_state_store(const Config& config);

} // namespace twofactor
