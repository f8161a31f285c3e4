// The networks of exempt_networks (twofactor.conf(5), docs/exemptions.md)
// and the one test of a login's remote address (PAM_RHOST) against them.
// Both sides are parsed strictly: a network with a typo must be a
// configuration error, and only a numeric address is ever matched, so a
// host name (which whoever controls its DNS chooses) exempts nobody.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor {

// A numeric IPv4 or IPv6 address. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is the IPv4 address a.b.c.d: the same client, as a
// dual-stack socket reports it.
struct IpAddress {
    bool v4 = true;
    std::array<unsigned char, 16> bytes{}; // the first 4 for IPv4
};

struct IpNetwork {
    IpAddress address; // the network address: no host bits set
    unsigned prefix = 0;

    std::string text() const; // canonical "ADDRESS/PREFIX"
    bool contains(const IpAddress& a) const;
};

// "ADDRESS/PREFIX", IPv4 (prefix 0-32) or IPv6 (0-128). nullopt, with
// `error` set to the reason, for anything else: no prefix, a prefix with
// a sign, leading zero or out of range, a host name, a scope id (%eth0),
// host bits set in the address (192.0.2.1/24: usually a typo, so it is
// refused rather than rounded), or an IPv4-mapped IPv6 network (write the
// IPv4 network instead).
std::optional<IpNetwork> parse_ip_network(std::string_view text, std::string& error);

// PAM_RHOST as an address, or nullopt: empty, a host name, an address with
// a scope id or a port, anything inet_pton does not take whole.
std::optional<IpAddress> parse_ip_address(std::string_view text);

} // namespace twofactor
