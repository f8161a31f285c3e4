// Hex and base32 (RFC 4648) text for bytes: TOTP secrets, salts and hashes.
// The TOTP secret is decoded on every login, so nothing here branches on, or
// looks up a table with, the bytes or characters it converts: only the
// length of the input, which is public, decides the control flow. Malformed
// input is found after the whole input was read, never at the first bad
// character.
#pragma once

#include "secure_memory.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace twofactor {

// Lower-case hex, two digits per byte.
std::string to_hex(const unsigned char* data, std::size_t n);
// Exactly out_len bytes from 2 * out_len hex digits, upper or lower case.
// Returns false on any other length or on a character that is not a hex
// digit; `out` then holds zeros.
bool from_hex(std::string_view hex, unsigned char* out, std::size_t out_len);

// RFC 4648 base32, upper case, no padding (what authenticator apps take).
SecureChars base32_encode(const SecureBytes& data);
// The inverse of base32_encode, and only its output: upper case A-Z and
// 2-7, no padding, no blanks, no lower case, and unused bits of the last
// character zero (so one secret has one text). Returns false if malformed;
// `out` then holds zeros.
bool base32_decode(std::string_view text, SecureBytes& out);

// RFC 4648 base64url ('-' and '_'), no padding: sealed secrets and the
// secret key file. Decoding takes only base64url_encode's output (no
// padding, unused bits of the last character zero); false if malformed,
// `out` then holds zeros.
SecureChars base64url_encode(const unsigned char* data, std::size_t n);
bool base64url_decode(std::string_view text, SecureBytes& out);

// Percent-encoding of a text field (state files, database rows, log lines):
// a byte for which `literal` is true stands for itself, any other becomes
// %XX (upper-case hex).
std::string percent_encode(std::string_view text, bool (*literal)(unsigned char));

} // namespace twofactor
