// Recognised devices in the module (docs/devices.md): which device this
// login comes from, and the check, under the store's lock, that lets a
// remembered one skip the prompt. Anything missing, malformed or in doubt
// means "no device": the user is asked for a code as usual.
#pragma once

#include "config.hpp"
#include "devices.hpp"
#include "log_line.hpp"
#include "pam_logger.hpp"
#include "state_store.hpp"

#include <security/pam_modules.h>

#include <cstdint>
#include <optional>
#include <string>

namespace twofactor::pam {

// The device of this login when remembering applies: remember_days > 0, the
// service is one of remember_services, and what remember_by needs is there
// and well-formed. SSH_AUTH_INFO_0 is read from the PAM environment only
// (pam_getenv), never from the process environment, which the user
// controls under su or sudo. Logs why a listed service has no device.
std::optional<DeviceIdentity> login_device(pam_handle_t* pamh, const Config& config, const LoginFields& fields,
                                           PamLogger& logger);

// may_skip_prompt on the state read under the store's lock; if so, records
// the device's last use (dropping expired devices) in the same change and
// returns its short id. nullopt: ask for a code. Throws StoreError.
std::optional<std::string> use_remembered_device(StateStore& store, const std::string& user,
                                                 const DeviceIdentity& device, std::int64_t now,
                                                 unsigned remember_days);

} // namespace twofactor::pam
