#include "ip_network.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace twofactor {

namespace {

constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// inet_pton needs a NUL-terminated string; the text may hold anything.
std::optional<IpAddress> parse_numeric(std::string_view text, bool& mapped)
{
    mapped = false;
    if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
        return std::nullopt;
    const std::string s(text);
    IpAddress a;
    if (s.find(':') == std::string::npos) {
        if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1)
            return std::nullopt;
        a.v4 = true;
        return a;
    }
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1)
        return std::nullopt;
    a.v4 = false;
    if (std::memcmp(a.bytes.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
        mapped = true;
        std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
        std::memset(a.bytes.data() + 4, 0, 12);
        a.v4 = true;
    }
    return a;
}

unsigned width(const IpAddress& a) { return a.v4 ? 32u : 128u; }

// Keeps the first `prefix` bits of `a`, clears the rest.
IpAddress masked(IpAddress a, unsigned prefix)
{
    for (unsigned i = 0; i < 16; ++i) {
        const unsigned first_bit = i * 8;
        if (first_bit >= prefix)
            a.bytes[i] = 0;
        else if (prefix - first_bit < 8)
            a.bytes[i] = static_cast<unsigned char>(a.bytes[i] & (0xff00u >> (prefix - first_bit)));
    }
    return a;
}

std::string address_text(const IpAddress& a)
{
    char buffer[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(a.v4 ? AF_INET : AF_INET6, a.bytes.data(), buffer, sizeof buffer) == nullptr)
        return "?";
    return buffer;
}

} // namespace

std::string IpNetwork::text() const { return address_text(address) + "/" + std::to_string(prefix); }

bool IpNetwork::contains(const IpAddress& a) const
{
    return a.v4 == address.v4 && masked(a, prefix).bytes == address.bytes;
}

std::optional<IpNetwork> parse_ip_network(std::string_view text, std::string& error)
{
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        error = "expected ADDRESS/PREFIX (e.g. 192.0.2.0/24), got '" + std::string(text) + "'";
        return std::nullopt;
    }
    const std::string_view address_part = text.substr(0, slash);
    const std::string_view prefix_part = text.substr(slash + 1);
    bool mapped = false;
    const std::optional<IpAddress> address = parse_numeric(address_part, mapped);
    if (!address) {
        error = "'" + std::string(address_part) + "' is not a numeric IPv4 or IPv6 address";
        return std::nullopt;
    }
    if (mapped) {
        error = "'" + std::string(text) + "' is an IPv4-mapped IPv6 network: write it as an IPv4 network";
        return std::nullopt;
    }
    // Digits only, no leading zero, at most three: from_chars would take a
    // sign or "024"; neither is what anyone means.
    unsigned prefix = 0;
    bool digits = !prefix_part.empty() && prefix_part.size() <= 3 && !(prefix_part.size() > 1 && prefix_part[0] == '0');
    for (const char c : prefix_part) {
        digits = digits && c >= '0' && c <= '9';
        if (digits)
            prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (!digits || prefix > width(*address)) {
        error = "'" + std::string(text) + "': the prefix length must be a number from 0 to "
            + std::to_string(width(*address));
        return std::nullopt;
    }
    IpNetwork network{masked(*address, prefix), prefix};
    if (network.address.bytes != address->bytes) {
        error = "'" + std::string(text) + "' has host bits set (did you mean " + network.text() + "?)";
        return std::nullopt;
    }
    return network;
}

std::optional<IpAddress> parse_ip_address(std::string_view text)
{
    bool mapped = false;
    return parse_numeric(text, mapped);
}

} // namespace twofactor
