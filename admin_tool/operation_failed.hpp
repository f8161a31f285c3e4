// The error the terminal pieces shared by twofactor-admin and twofactor(1)
// (output, QR code, system lookups, input) throw when they cannot do their
// job. Kept apart from cli.hpp so those pieces do not depend on the admin
// tool's command framework; each tool maps it to its exit status 1.
#pragma once

#include <stdexcept>

namespace twofactor::admin {

// The operation was attempted and refused or failed: wrong code, lockout,
// an existing secret without --force, output that could not be written.
class OperationFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace twofactor::admin
