#include "output.hpp"

#include "operation_failed.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <string>

namespace twofactor::cli {

OutputBuffer& OutputBuffer::operator<<(std::string_view text)
{
    data_.insert(data_.end(), text.begin(), text.end());
    return *this;
}

OutputBuffer& OutputBuffer::operator<<(const SecureChars& text)
{
    data_.insert(data_.end(), text.begin(), text.end());
    return *this;
}

OutputBuffer& OutputBuffer::operator<<(char c)
{
    data_.push_back(c);
    return *this;
}

OutputBuffer& OutputBuffer::operator<<(std::uint64_t n) { return *this << std::string_view(std::to_string(n)); }
OutputBuffer& OutputBuffer::operator<<(std::int64_t n) { return *this << std::string_view(std::to_string(n)); }

OutputBuffer& OutputBuffer::padded(std::string_view text, std::size_t width)
{
    *this << text;
    for (std::size_t i = text.size(); i < width; ++i)
        data_.push_back(' ');
    return *this;
}

void OutputBuffer::flush()
{
    std::size_t done = 0;
    while (done < data_.size()) {
        const ssize_t n = ::write(STDOUT_FILENO, data_.data() + done, data_.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int err = errno;
            data_.clear();
            throw OperationFailed(std::string("cannot write to standard output: ") + std::strerror(err));
        }
        done += static_cast<std::size_t>(n);
    }
    // clear() keeps the capacity; swapping with an empty buffer frees (and
    // so wipes) the old contents now rather than at exit.
    SecureChars().swap(data_);
}

std::string printable(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    return out;
}

namespace {
const char* program_name = "twofactor-admin";
} // namespace

void set_program_name(const char* name) { program_name = name; }

void notice(std::string_view text)
{
    const std::string line = std::string(program_name) + ": " + printable(text) + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // nowhere left to report to
        done += static_cast<std::size_t>(n);
    }
}

namespace {

std::string format_with(std::int64_t t, bool long_form)
{
    if (t == 0)
        return "-";
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (::localtime_r(&tt, &tm) == nullptr)
        return std::to_string(t);
    char buffer[64];
    // Literal formats, so -Wformat can check them.
    const std::size_t n = long_form ? std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S %Z", &tm)
                                    : std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &tm);
    return n == 0 ? std::to_string(t) : std::string(buffer, n);
}

} // namespace

std::string format_time(std::int64_t t) { return format_with(t, false); }
std::string format_time_long(std::int64_t t) { return format_with(t, true); }

std::string host_name()
{
    char buffer[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0')
        return "twofactor";
    return buffer;
}

} // namespace twofactor::cli
