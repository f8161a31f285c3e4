// The crash-stress children's log: fixed-size records appended to one file
// (S = attempt started, A = accepted, R = refused, E = error), and the
// parent's running estimate of how long a child takes to start and an
// attempt to finish, read from that log while the children run.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace stress {

using Steady = std::chrono::steady_clock; // CLOCK_MONOTONIC: one clock for all processes

inline long long micros_now()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(Steady::now().time_since_epoch()).count();
}

// Records are exactly 64 bytes, so none straddles a page of the file: one
// write within one page is never torn by SIGKILL (the kernel checks for a
// fatal signal between pages), and O_APPEND keeps children's records apart.
inline constexpr std::size_t kRecordBytes = 64;

inline void append_record(int fd, std::string line)
{
    line.resize(kRecordBytes - 1, ' ');
    line.push_back('\n');
    const ssize_t n = ::write(fd, line.data(), line.size());
    (void)n;
}

struct Record {
    char kind;
    unsigned child, attempt, user, code;
    long long t;
};

// Parses complete lines (users and codes bound the numbers accepted); counts
// malformed lines and child errors.
inline void parse_records(const std::string& text, unsigned users, unsigned codes, std::vector<Record>& out,
                          long& malformed, long& errors)
{
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        line.erase(line.find_last_not_of(' ') + 1);
        if (line.rfind("E ", 0) == 0) {
            std::fprintf(stderr, "child error: %s\n", line.c_str());
            ++errors;
            continue;
        }
        Record r{};
        char extra = 0;
        if (std::sscanf(line.c_str(), "%c %u %u %u %u %lld%c", &r.kind, &r.child, &r.attempt, &r.user, &r.code, &r.t,
                        &extra)
                != 6
            || (r.kind != 'S' && r.kind != 'A' && r.kind != 'R') || r.user >= users || r.code >= codes) {
            ++malformed;
            continue;
        }
        out.push_back(r);
    }
}

// Follows the report file while children run, to estimate how long a child
// takes to start and an attempt takes to finish (medians of recent samples).
class PaceEstimate {
public:
    PaceEstimate(double startup_ms, double attempt_ms) : startup_ms_(startup_ms), attempt_ms_(attempt_ms) {}

    void forked(unsigned child, long long at) { forked_at_[child] = at; }

    void update(int read_fd)
    {
        std::string chunk(1 << 16, '\0');
        for (;;) {
            const ssize_t n = ::pread(read_fd, chunk.data(), chunk.size(), offset_);
            if (n <= 0)
                break;
            pending_.append(chunk.data(), static_cast<std::size_t>(n));
            offset_ += n;
        }
        const auto last_nl = pending_.rfind('\n');
        if (last_nl == std::string::npos)
            return;
        std::vector<Record> records;
        long ignored = 0;
        parse_records(pending_.substr(0, last_nl + 1), ~0u, ~0u, records, ignored, ignored);
        pending_.erase(0, last_nl + 1);
        for (const Record& r : records) {
            if (r.kind == 'S') {
                started_[{r.child, r.attempt}] = r.t;
                const auto f = forked_at_.find(r.child);
                if (r.attempt == 0 && f != forked_at_.end())
                    push(startups_, static_cast<double>(r.t - f->second) / 1000);
            } else {
                const auto s = started_.find({r.child, r.attempt});
                if (s != started_.end())
                    push(attempts_, static_cast<double>(r.t - s->second) / 1000);
            }
        }
        if (startups_.size() >= 5)
            startup_ms_ = median(startups_);
        if (attempts_.size() >= 5)
            attempt_ms_ = median(attempts_);
    }

    double startup_ms() const { return std::clamp(startup_ms_, 0.0, 200.0); }
    double attempt_ms() const { return std::clamp(attempt_ms_, 0.2, 250.0); }

private:
    static void push(std::deque<double>& q, double v)
    {
        q.push_back(v);
        if (q.size() > 200)
            q.pop_front();
    }
    static double median(std::deque<double> q)
    {
        std::nth_element(q.begin(), q.begin() + static_cast<long>(q.size() / 2), q.end());
        return q[q.size() / 2];
    }

    double startup_ms_;
    double attempt_ms_;
    off_t offset_ = 0;
    std::string pending_;
    std::map<unsigned, long long> forked_at_;
    std::map<std::pair<unsigned, unsigned>, long long> started_;
    std::deque<double> startups_;
    std::deque<double> attempts_;
};

} // namespace stress
