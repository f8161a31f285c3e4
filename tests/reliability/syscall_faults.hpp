// Fault injection for the state store's system calls, by link-time wrapping
// (-Wl,--wrap=open,...: every reference from the core's static library and
// from this test goes to __wrap_NAME, which may fail it, else calls the real
// one). Inside a session, calls are numbered in order; a plan makes one of
// them fail. Outside a session every call goes straight through.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace faults {

enum class Call { open, openat, read, write, fsync, renameat, flock, unlinkat, fchmod };
const char* to_string(Call call);

struct Event {
    Call call;
    std::string detail; // file name, "directory" for an fsync of a directory, byte count
};

enum class Mode {
    fail,        // return -1 with the plan's errno
    short_write, // write: write half, return that; the next write fails with the plan's errno
};

struct Plan {
    std::size_t index = 0; // which call of the session (0-based) to fail
    int error = 0;
    Mode mode = Mode::fail;
};

// Starts numbering calls; with a plan, the plan's call fails.
void begin(const Plan* plan = nullptr);
// Stops, and returns every call seen in the session.
std::vector<Event> end();
// Did the plan's fault happen in the last session?
bool fired();

} // namespace faults
