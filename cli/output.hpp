// Everything twofactor-admin and twofactor(1) print on standard output goes
// through an OutputBuffer: a wiping buffer written with write(2), so a
// printed secret or backup code is never copied into stdio's or iostream's
// buffers, which nobody wipes. Also the one-line notices on standard error
// and the text helpers every command's output shares.
#pragma once

#include "secure_memory.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace twofactor::cli {

class OutputBuffer {
public:
    OutputBuffer& operator<<(std::string_view text);
    OutputBuffer& operator<<(const SecureChars& text);
    OutputBuffer& operator<<(char c);
    OutputBuffer& operator<<(std::uint64_t n);
    OutputBuffer& operator<<(std::int64_t n);
    OutputBuffer& operator<<(unsigned n) { return *this << static_cast<std::uint64_t>(n); }
    OutputBuffer& operator<<(int n) { return *this << static_cast<std::int64_t>(n); }
    OutputBuffer& operator<<(const char* text) { return *this << std::string_view(text); }
    OutputBuffer& operator<<(const std::string& text) { return *this << std::string_view(text); }

    // Pads `text` with spaces to `width` columns (ASCII text only).
    OutputBuffer& padded(std::string_view text, std::size_t width);

    // Writes everything to standard output and empties (wipes) the buffer.
    // Throws OperationFailed if the write fails (closed pipe, full disk).
    void flush();

private:
    SecureChars data_;
};

// Writes one line to standard error ("PROGRAM: TEXT"), with control and
// non-ASCII bytes replaced, so no message can drive the terminal.
void notice(std::string_view text);

// The PROGRAM of notice(): "twofactor-admin" unless a tool sets its own name
// (a string literal) once at start.
void set_program_name(const char* name);

// Replaces control bytes and bytes >= 0x7f with '?': state files carry
// service, remote host and tty strings from PAM, which an attacker can
// choose (a remote host name) and must not reach the terminal raw.
std::string printable(std::string_view text);

// Local time, "2024-05-01 12:00", or "-" for 0.
std::string format_time(std::int64_t t);
// Local time with the zone, "2024-05-01 12:00:05 CEST", for printed codes.
std::string format_time_long(std::int64_t t);

// The host name ("twofactor" if there is none), printed on code sheets and
// status, and the default issuer of enrolments.
std::string host_name();

} // namespace twofactor::cli
