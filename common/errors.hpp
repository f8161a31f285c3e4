// Typed errors of the core. Each names what went wrong in one line that is
// safe to log: file names, line numbers and keys, never file contents.
#pragma once

#include <stdexcept>
#include <string>

namespace twofactor {

// Bad configuration: unknown key, malformed value, unreadable named file.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A user name that must not become a path.
class InvalidUserName : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class StateErrc {
    empty,
    too_large,
    not_text,        // NUL or other control bytes
    missing_newline, // last line not terminated: truncated file
    bad_header,
    unsupported_version,
    malformed_line,
    unknown_key,
    duplicate_key,
    bad_value,
    bad_base32,
    field_too_long,
    too_many_codes,
    missing_field,
    user_mismatch,
    missing_end,
    data_after_end,
};

const char* to_string(StateErrc errc);

// A state file that does not parse.
class StateFormatError : public std::runtime_error {
public:
    StateFormatError(StateErrc errc, int line, const std::string& detail);
    StateErrc errc() const { return errc_; }
    int line() const { return line_; }

private:
    StateErrc errc_;
    int line_;
};

enum class StoreErrc {
    unsafe_directory, // not a directory, symlink, wrong owner or mode
    unsafe_file,      // not a regular file, symlink, wrong owner or mode, hard links
    too_large,
    corrupt, // does not parse (wraps StateFormatError's message)
    io,      // open, read, write, fsync, rename, lock failed
};

class StoreError : public std::runtime_error {
public:
    StoreError(StoreErrc errc, const std::string& message) : std::runtime_error(message), errc_(errc) {}
    StoreErrc errc() const { return errc_; }

private:
    StoreErrc errc_;
};

// OpenSSL or liboath failed (randomness, KDF): never treated as a match.
class CryptoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace twofactor
