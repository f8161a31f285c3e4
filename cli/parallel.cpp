#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace twofactor::cli {

unsigned worker_count() { return std::max(1U, std::thread::hardware_concurrency()); }

void parallel_for(std::size_t n, const std::function<void(std::size_t)>& work,
                  const std::function<void(std::size_t)>& done)
{
    std::atomic<std::size_t> next{0};
    std::mutex lock;
    std::size_t finished = 0;
    std::exception_ptr first_error;
    const auto worker = [&] {
        for (std::size_t i = next++; i < n; i = next++) {
            std::exception_ptr error;
            try {
                work(i);
            } catch (...) {
                error = std::current_exception();
            }
            const std::lock_guard<std::mutex> guard(lock);
            if (error && !first_error)
                first_error = error;
            ++finished;
            if (done)
                done(finished);
        }
    };
    const std::size_t threads = std::min<std::size_t>(worker_count(), n);
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t)
        pool.emplace_back(worker);
    worker(); // the calling thread is one of the workers
    for (std::thread& t : pool)
        t.join();
    if (first_error)
        std::rethrow_exception(first_error);
}

} // namespace twofactor::cli
