// The error the pieces twofactor-admin and twofactor(1) share (output, QR
// code) throw when they cannot do their job, and the admin
// tool's commands throw when an operation is refused. Each tool maps it to
// its exit status 1.
#pragma once

#include <stdexcept>

namespace twofactor::cli {

// The operation was attempted and refused or failed: wrong code, lockout,
// an existing secret without --force, output that could not be written.
class OperationFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace twofactor::cli
