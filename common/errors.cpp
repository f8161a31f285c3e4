#include "errors.hpp"

namespace twofactor {

const char* to_string(StateErrc errc)
{
    switch (errc) {
    case StateErrc::empty:
        return "empty file";
    case StateErrc::too_large:
        return "file too large";
    case StateErrc::not_text:
        return "NUL or control byte";
    case StateErrc::missing_newline:
        return "truncated (last line has no newline)";
    case StateErrc::bad_header:
        return "not a twofactor state file";
    case StateErrc::unsupported_version:
        return "unsupported format version";
    case StateErrc::malformed_line:
        return "malformed line";
    case StateErrc::unknown_key:
        return "unknown record";
    case StateErrc::duplicate_key:
        return "duplicate record";
    case StateErrc::bad_value:
        return "bad value";
    case StateErrc::bad_base32:
        return "bad base32 secret";
    case StateErrc::field_too_long:
        return "field too long";
    case StateErrc::too_many_codes:
        return "wrong number of backup codes";
    case StateErrc::missing_field:
        return "missing record";
    case StateErrc::user_mismatch:
        return "file is for another user";
    case StateErrc::missing_end:
        return "truncated (no end record)";
    case StateErrc::data_after_end:
        return "data after end record";
    }
    return "unknown error";
}

StateFormatError::StateFormatError(StateErrc errc, int line, const std::string& detail)
    : std::runtime_error(std::string(to_string(errc)) + (line > 0 ? " at line " + std::to_string(line) : "")
                         + (detail.empty() ? "" : " (" + detail + ")")),
      errc_(errc),
      line_(line)
{
}

} // namespace twofactor
