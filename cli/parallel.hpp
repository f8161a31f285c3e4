// Bulk hashing spread over every core: issue for many users and import run
// one scrypt evaluation per backup code, 16 MiB and ~50 ms each at the
// default cost, so a thousand users take minutes on one core.
#pragma once

#include <cstddef>
#include <functional>

namespace twofactor::cli {

// The number of worker threads: the hardware's (at least 1).
unsigned worker_count();

// Runs work(i) for every i in [0, n) on up to worker_count() threads, each
// taking the next index when it is done with one; after each, done(count
// finished so far) runs under a lock (for a progress bar). Returns when all
// are done; if a call throws, the first exception is rethrown then (the
// others still run: each index is one user, independent of the rest).
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& work,
                  const std::function<void(std::size_t)>& done = {});

} // namespace twofactor::cli
