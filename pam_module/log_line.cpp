#include "log_line.hpp"

#include "codec.hpp"

namespace twofactor::pam {

namespace {

constexpr std::size_t kMaxValueBytes = 128;
constexpr std::size_t kMaxDetailBytes = 512;

bool literal(unsigned char c) { return c > 0x20 && c < 0x7f && c != '=' && c != '%'; }

} // namespace

std::string log_value(std::string_view value, std::size_t limit)
{
    if (value.empty())
        return "-";
    if (value == "-")
        return "%2D";
    const bool cut = value.size() > limit;
    if (cut)
        value = value.substr(0, limit);
    std::string out = percent_encode(value, literal);
    if (cut)
        out += "...";
    return out;
}

LogLine& LogLine::add(std::string_view key, std::string_view value, std::size_t limit)
{
    text_ += ' ';
    text_ += key;
    text_ += '=';
    text_ += log_value(value, limit);
    return *this;
}

LogLine& LogLine::add(std::string_view key, std::string_view value) { return add(key, value, kMaxValueBytes); }

LogLine& LogLine::detail(std::string_view text) { return add("detail", text, kMaxDetailBytes); }

LogLine decision_line(std::string_view outcome, const LoginFields& fields, std::string_view method)
{
    LogLine line(outcome);
    line.add("user", fields.user).add("service", fields.service).add("rhost", fields.rhost).add("tty", fields.tty);
    line.add("method", method);
    return line;
}

} // namespace twofactor::pam
