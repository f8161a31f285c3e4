// A one-line progress bar on standard error for long runs over many users
// (import, issue): only when standard error is a terminal and there are
// more than a few users, so scripts and logs never see it.
#pragma once

#include <cstddef>
#include <string>

namespace twofactor::cli {

class ProgressBar {
public:
    ProgressBar(std::string label, std::size_t total);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    void update(std::size_t done); // redraws when the shown width changes
    void finish();                 // clears the line

private:
    std::string label_;
    std::size_t total_;
    bool shown_;
    std::size_t last_filled_ = static_cast<std::size_t>(-1);
};

} // namespace twofactor::cli
