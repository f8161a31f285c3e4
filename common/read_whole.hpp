// One read loop for the small files the core reads whole (the config file,
// state files, the PostgreSQL password file): sized from fstat, EINTR
// retried, and a file that is or grows larger than `cap` reported as too
// large, never silently cut short. Callers turn the outcome into their own
// error (ConfigError, StoreError).
#pragma once

#include "secure_memory.hpp"

#include <cstddef>

namespace twofactor {

struct WholeFile {
    int error = 0;          // errno of a failed read(), else 0
    bool too_large = false; // the file holds more than `cap` bytes
    SecureChars data;       // what was read (wiped when freed)
};

// `expected` is the size fstat reported: the buffer's first size, not a
// limit (the loop reads to end of file, up to `cap`).
WholeFile read_whole(int fd, std::size_t expected, std::size_t cap);

} // namespace twofactor
