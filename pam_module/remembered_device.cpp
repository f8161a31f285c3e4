#include "remembered_device.hpp"

#include <security/pam_appl.h>

#include <algorithm>

namespace twofactor::pam {

std::optional<DeviceIdentity> login_device(pam_handle_t* pamh, const Config& config, const LoginFields& fields,
                                           PamLogger& logger)
{
    if (config.remember_days == 0)
        return std::nullopt;
    const auto& services = config.remember_services;
    if (std::find(services.begin(), services.end(), fields.service) == services.end())
        return std::nullopt;
    std::optional<std::string> auth_info;
    if (uses_key(config.remember_by))
        if (const char* value = pam_getenv(pamh, "SSH_AUTH_INFO_0"); value != nullptr)
            auth_info = std::string(value);
    std::string problem;
    std::optional<DeviceIdentity> device
        = identify_device(fields.user, config.remember_by, auth_info, fields.rhost, problem);
    if (!device) {
        // Something there but malformed deserves a notice; a login without
        // a key or an address is ordinary.
        const bool malformed = problem.compare(0, 10, "auth_info_") == 0;
        logger.log(malformed ? LogLevel::notice : LogLevel::debug,
                   LogLine("note")
                       .add("user", fields.user)
                       .add("reason", "no_device")
                       .add("remember_by", to_string(config.remember_by))
                       .add("problem", problem));
    }
    return device;
}

std::optional<std::string> use_remembered_device(StateStore& store, const std::string& user,
                                                 const DeviceIdentity& device, std::int64_t now, unsigned remember_days)
{
    bool skip = false;
    store.update(user, [&](std::optional<UserState>& state) {
        if (!state || !may_skip_prompt(*state, device.id, now, remember_days))
            return false;
        drop_expired_devices(state->devices, now);
        for (Device& d : state->devices)
            if (d.id == device.id)
                d.last_used = std::max(d.last_used, now);
        skip = true;
        return true;
    });
    if (!skip)
        return std::nullopt;
    return short_id(device.id);
}

} // namespace twofactor::pam
