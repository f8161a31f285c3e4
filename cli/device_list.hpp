// The recognised devices of a user (docs/devices.md) as `twofactor-admin
// list USER` and `twofactor status` show them: the unexpired ones only, one
// line each with the short id, the key's fingerprint and/or the address,
// first and last use and expiry. Never the id in full, never a key.
#pragma once

#include "output.hpp"

#include "devices.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace twofactor::cli {

// The devices still remembered at `now`, in the stored order.
std::vector<Device> current_devices(const std::vector<Device>& devices, std::int64_t now);

// A header and one line per current device, each line starting with
// `indent`; nothing if there is none.
void print_devices(OutputBuffer& out, const std::vector<Device>& devices, std::int64_t now, std::string_view indent);

} // namespace twofactor::cli
