// What one doctor check found: a level, what it saw and how to fix it. The
// checks (pam_stack, sshd_settings, host_checks) are pure functions from
// what they read to findings, so each is unit-tested on its own; the
// `doctor` command (commands/doctor.cpp) reads the host and prints them.
#pragma once

#include <string>
#include <vector>

namespace twofactor::doctor {

enum class Level { ok, warn, fail };
const char* to_string(Level level);

struct Finding {
    Level level = Level::ok;
    std::string check; // "pam/sshd", "sshd", "clock", "store", "coverage", ...
    std::string seen;  // what was found, one line
    std::string fix;   // what to do; empty for ok
};

using Findings = std::vector<Finding>;

} // namespace twofactor::doctor
