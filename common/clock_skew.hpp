// Why a TOTP code was refused: after a typed code matched no step of the
// window, the steps around it, up to kSkewSearchSeconds either side, are
// tried too. A match there is never accepted; it says the user's device
// clock is off by that much, which the module logs (reason=clock_skew) and
// tells the user, instead of a plain "wrong code".
#pragma once

#include "totp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor {

// How far either side of the current step a refused code is looked up.
inline constexpr std::int64_t kSkewSearchSeconds = 600;
// The bound on the cost: at most this many steps either side, so one wrong
// code costs at most 2 x kSkewMaxSteps + 1 more HMACs (41: at the default
// period of 30 s that is the whole 10 minutes).
inline constexpr unsigned kSkewMaxSteps = 20;

struct ClockSkew {
    std::uint64_t step = 0;   // the step the code belongs to
    std::int64_t seconds = 0; // (that step - the current step) x period: < 0 the device is behind
};

// The step outside `window` but within the search that `code` belongs to,
// or nullopt (also for a code that matches inside the window, which is the
// caller's business). Compared in constant time; throws CryptoError as
// totp_verify does.
std::optional<ClockSkew> find_clock_skew(const SecureBytes& secret, const TotpParams& params, std::int64_t now,
                                         unsigned window, std::string_view code);

// What the user is told (by the module, and by twofactor-admin verify):
// "The code is from N minutes ago: check your device's clock." (seconds < 0)
// or "The code is N minutes ahead: check your device's clock." N is
// rounded, at least 1.
std::string clock_skew_message(std::int64_t seconds);

} // namespace twofactor
