// Where a login's time goes in the PostgreSQL store, without PAM: for N fresh
// store objects, (1) the first load() (connect with SCRAM, schema version
// check, state read), (2) a load() on the open connection, (3) an update()
// (BEGIN, insert-or-nothing, row lock, read, write the failure count, COMMIT
// with its WAL flush). bench/pg_bench.sh builds and runs it.
// Usage: pg_store_timing CONFIG USER N LABEL
#include "config.hpp"
#include "pg_state_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace twofactor;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void report(const std::string& label, const char* name, std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    double sum = 0;
    for (double s : samples)
        sum += s;
    const auto n = static_cast<double>(samples.size());
    const auto at = [&](double q) { return samples[static_cast<std::size_t>(q * (n - 1))]; };
    std::printf("| %-8s | %-38s | %5zu | %7.2f | %7.2f | %7.2f |\n", label.c_str(), name, samples.size(), sum / n,
                at(0.5), at(0.9));
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s CONFIG USER N LABEL\n", argv[0]);
        return 2;
    }
    const Config config = load_config(argv[1], {});
    const std::string user = argv[2];
    const int n = std::atoi(argv[3]);
    const std::string label = argv[4];
    std::vector<double> first, warm, update;
    for (int i = 0; i < n; ++i) {
        PgStateStore store(config);
        auto t = Clock::now();
        store.load(user);
        first.push_back(ms_since(t));
        t = Clock::now();
        store.load(user);
        warm.push_back(ms_since(t));
        t = Clock::now();
        store.update(user, [](std::optional<UserState>& state) {
            state->failures = (state->failures + 1) % 50;
            return true;
        });
        update.push_back(ms_since(t));
    }
    report(label, "load(): connect, schema check, read", first);
    report(label, "load() on the open connection", warm);
    report(label, "update(): lock, read, write, COMMIT", update);
    return 0;
}
