#include "imported_user.hpp"

#include <charconv>

namespace twofactor::admin {

bool decode_base32_loose(std::string_view text, SecureBytes& out)
{
    out.clear();
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    if (text.empty())
        return false;
    // Import runs once, by the administrator, on files the old tool kept
    // in clear: the table-free, branch-free decoding of common/codec is
    // for the login path and its strict alphabet, not for this.
    unsigned buffer = 0;
    unsigned bits = 0;
    for (char c : text) {
        unsigned v = 0;
        if (c >= 'A' && c <= 'Z')
            v = static_cast<unsigned>(c - 'A');
        else if (c >= 'a' && c <= 'z')
            v = static_cast<unsigned>(c - 'a');
        else if (c >= '2' && c <= '7')
            v = static_cast<unsigned>(c - '2' + 26);
        else
            return false;
        buffer = (buffer << 5) | v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>((buffer >> bits) & 0xffU));
        }
        buffer &= (1U << bits) - 1U;
    }
    return true;
}

std::vector<std::string_view> split_fields(std::string_view line)
{
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start)
            fields.push_back(line.substr(start, i - start));
    }
    return fields;
}

std::optional<std::uint64_t> parse_decimal(std::string_view token)
{
    if (token.empty() || token.front() < '0' || token.front() > '9')
        return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || end != token.data() + token.size())
        return std::nullopt;
    return value;
}

} // namespace twofactor::admin
