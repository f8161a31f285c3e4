// Whether a CA file vouches for what the public CAs issue. With
// sslmode=verify-ca libpq accepts any certificate its CA file vouches for,
// whatever name it carries: a CA the system trusts signs certificates for
// anyone who owns a domain, so such a file is only safe with verify-full.
#pragma once

#include <string>

namespace twofactor {

// The subject of the first certificate in the PEM file `path` that the
// system's trust store (OpenSSL's default CA file and directory) vouches for,
// itself or through an issuer; "" if none does. Throws std::runtime_error
// if the file cannot be read or holds no certificate.
std::string system_trusted_certificate(const std::string& path);

} // namespace twofactor
