// Opens the state store the configuration selects. The module and the tool
// both call this, so they always agree on where state lives.
#pragma once

#include "config.hpp"
#include "secret_keys.hpp"
#include "state_store.hpp"

#include <memory>

namespace twofactor {

// Throws ConfigError if the selected store cannot be used with this build or
// configuration (the secret key file included), StoreError if it cannot be
// reached.
std::unique_ptr<StateStore> open_state_store(const Config& config);
// With these keys (twofactor-admin key, which changes the key file).
std::unique_ptr<StateStore> open_state_store(const Config& config, std::shared_ptr<const SecretKeys> keys);

} // namespace twofactor
