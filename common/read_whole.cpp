#include "read_whole.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace twofactor {

WholeFile read_whole(int fd, std::size_t expected, std::size_t cap)
{
    WholeFile out;
    // One byte more than expected, so a file that grew is noticed.
    out.data.resize(std::min(expected, cap) + 1);
    std::size_t used = 0;
    for (;;) {
        const ssize_t n = ::read(fd, out.data.data() + used, out.data.size() - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            out.error = errno;
            break;
        }
        if (n == 0)
            break;
        used += static_cast<std::size_t>(n);
        if (used == out.data.size()) {
            if (used > cap) {
                out.too_large = true;
                break;
            }
            out.data.resize(std::min(used * 2, cap + 1));
        }
    }
    out.data.resize(used);
    return out;
}

} // namespace twofactor
