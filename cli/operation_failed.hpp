// The error the pieces twofactor-admin and twofactor(1) share (output, QR
// code, enrolment) throw when they cannot do their job, and the admin tool's
// commands throw when an operation is refused. Each tool maps it to its exit
// status 1, with whatever else its more specific handlers leave over.
#pragma once

#include <stdexcept>
#include <string>

namespace twofactor::cli {

// The operation was attempted and refused or failed: wrong code, lockout,
// an existing secret without --force, output that could not be written.
class OperationFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// For a tool's last catch (...), which exits with status 1: the line to
// print for the exception being handled. An OperationFailed's own message,
// "out of memory", or "internal error: ..." for anything else. Call only
// inside a catch block.
std::string current_failure_message();

} // namespace twofactor::cli
