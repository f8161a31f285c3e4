#include "clock.hpp"

#include <ctime>

namespace twofactor {

std::int64_t SystemClock::now() const { return static_cast<std::int64_t>(std::time(nullptr)); }

} // namespace twofactor
