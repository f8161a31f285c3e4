#include "clock_skew.hpp"

#include <algorithm>

namespace twofactor {

std::optional<ClockSkew> find_clock_skew(const SecureBytes& secret, const TotpParams& params, std::int64_t now,
                                         unsigned window, std::string_view code)
{
    if (params.period == 0 || now < 0)
        return std::nullopt;
    const auto steps = static_cast<unsigned>(
        std::min<std::int64_t>(kSkewSearchSeconds / params.period, std::int64_t{kSkewMaxSteps}));
    if (steps <= window)
        return std::nullopt;
    // The same constant-time search as a login, over the wider window; the
    // steps of the login's own window are searched again (a few HMACs) so
    // the comparison stays liboath's.
    const std::optional<std::uint64_t> step = totp_verify(secret, params, now, steps, code);
    if (!step)
        return std::nullopt;
    const std::int64_t current = now / params.period;
    const std::int64_t offset = static_cast<std::int64_t>(*step) - current;
    if (offset >= -static_cast<std::int64_t>(window) && offset <= static_cast<std::int64_t>(window))
        return std::nullopt;
    return ClockSkew{*step, offset * params.period};
}

std::string clock_skew_message(std::int64_t seconds)
{
    const std::int64_t magnitude = seconds < 0 ? -seconds : seconds;
    const std::int64_t minutes = std::max<std::int64_t>(1, (magnitude + 30) / 60);
    const std::string amount = std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
    return seconds < 0 ? "The code is from " + amount + " ago: check your device's clock."
                       : "The code is " + amount + " ahead: check your device's clock.";
}

} // namespace twofactor
