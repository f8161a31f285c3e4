// Time is passed in: the core never reads the system clock itself, so tests
// can put any instant under the verifier without sleeping.
#pragma once

#include <cstdint>

namespace twofactor {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::int64_t now() const = 0; // seconds since the Unix epoch
};

class SystemClock final : public Clock {
public:
    std::int64_t now() const override;
};

class FixedClock final : public Clock {
public:
    explicit FixedClock(std::int64_t t) : t_(t) {}
    std::int64_t now() const override { return t_; }
    void set(std::int64_t t) { t_ = t; }
    void advance(std::int64_t seconds) { t_ += seconds; }

private:
    std::int64_t t_;
};

} // namespace twofactor
