#include "json.hpp"

namespace twofactor::admin {

void JsonWriter::separate()
{
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.back())
        out_ << ',';
    first_.back() = false;
}

JsonWriter& JsonWriter::begin_object()
{
    separate();
    out_ << '{';
    first_.push_back(true);
    return *this;
}

JsonWriter& JsonWriter::end_object()
{
    first_.pop_back();
    out_ << '}';
    return *this;
}

JsonWriter& JsonWriter::begin_array()
{
    separate();
    out_ << '[';
    first_.push_back(true);
    return *this;
}

JsonWriter& JsonWriter::end_array()
{
    first_.pop_back();
    out_ << ']';
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name)
{
    separate();
    string(name);
    out_ << ':';
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view text)
{
    separate();
    string(text);
    return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n)
{
    separate();
    out_ << n;
    return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t n)
{
    separate();
    out_ << n;
    return *this;
}

JsonWriter& JsonWriter::value(bool b)
{
    separate();
    out_ << (b ? "true" : "false");
    return *this;
}

JsonWriter& JsonWriter::null()
{
    separate();
    out_ << "null";
    return *this;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence(std::string_view s, std::size_t i)
{
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n = 0;
    unsigned min_second = 0x80, max_second = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            min_second = 0xa0;
        if (c == 0xed)
            max_second = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            min_second = 0x90;
        if (c == 0xf4)
            max_second = 0x8f;
    } else {
        return 0;
    }
    if (i + n > s.size() || b(i + 1) < min_second || b(i + 1) > max_second)
        return 0;
    for (std::size_t k = 2; k < n; ++k)
        if ((b(i + k) & 0xc0) != 0x80)
            return 0;
    return n;
}

} // namespace

void JsonWriter::string(std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    out_ << '"';
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out_ << '\\' << c;
        } else if (c == '\n') {
            out_ << "\\n";
        } else if (c == '\t') {
            out_ << "\\t";
        } else if (u < 0x20 || u == 0x7f) {
            out_ << "\\u00" << hex[u >> 4] << hex[u & 0xf];
        } else if (u < 0x80) {
            out_ << c;
        } else if (const std::size_t n = utf8_sequence(text, i); n > 0) {
            out_ << text.substr(i, n);
            i += n - 1;
        } else {
            out_ << "\\ufffd";
        }
    }
    out_ << '"';
}

} // namespace twofactor::admin
