// An existing token's secret typed or piped in (twofactor-admin enroll
// --secret-stdin): hardware OATH tokens come with their secret. Read from
// standard input only, never from the command line (argv is public), into
// a wiping buffer.
#pragma once

#include "secure_memory.hpp"

#include <optional>
#include <string_view>

namespace twofactor::cli {

enum class SecretFormat { hex, base32 };
std::optional<SecretFormat> parse_secret_format(std::string_view name);

// The secret bytes of `text` in `format`: blanks are ignored anywhere; hex in
// either case; base32 in either case, '=' padding at the end allowed. 10 to
// 128 bytes (what the state holds). Throws OperationFailed naming the problem,
// never the text.
SecureBytes decode_secret_text(std::string_view text, SecretFormat format);

// One line from standard input, decoded as above. Throws OperationFailed
// at end of input.
SecureBytes read_secret(SecretFormat format);

} // namespace twofactor::cli
