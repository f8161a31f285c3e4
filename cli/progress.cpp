#include "progress.hpp"

#include <unistd.h>

namespace twofactor::cli {
namespace {
constexpr std::size_t kMinTotal = 8; // fewer users: one line each is enough
constexpr std::size_t kWidth = 30;

void write_all(const std::string& text)
{
    std::size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data() + off, text.size() - off);
        if (n <= 0)
            return; // a progress bar is not worth an error
        off += static_cast<std::size_t>(n);
    }
}
} // namespace

ProgressBar::ProgressBar(std::string label, std::size_t total)
    : label_(std::move(label)),
      total_(total),
      shown_(total > kMinTotal && ::isatty(STDERR_FILENO) == 1)
{
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::size_t done)
{
    if (!shown_ || total_ == 0)
        return;
    const std::size_t filled = done * kWidth / total_;
    if (filled == last_filled_ && done != total_)
        return;
    last_filled_ = filled;
    write_all("\r" + label_ + " [" + std::string(filled, '#') + std::string(kWidth - filled, ' ') + "] "
              + std::to_string(done) + "/" + std::to_string(total_));
}

void ProgressBar::finish()
{
    if (!shown_)
        return;
    shown_ = false;
    write_all("\r\033[K");
}

} // namespace twofactor::cli
