// Test fixture for driving the real module: a private state directory
// (mkdtemp, removed afterwards) named in the config file the generated PAM
// services read, users enrolled through the core API (the admin tool is not
// needed), file helpers, and the fake clock (libfaketime, set in-process).
#pragma once

#include "file_state_store.hpp"
#include "secure_memory.hpp"
#include "totp.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pamtest {

// 2030-01-01 00:00:00 UTC, on a 30 s step boundary.
inline constexpr std::int64_t kT0 = 1893456000;

// RFC 6238's SHA-1 key, so codes can be checked against oathtool by hand.
inline constexpr const char* kSecretBase32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

// Moves the clock of this whole process (module included); no sleeping.
void set_time(std::int64_t t);

class StateDir {
public:
    // Writes the config file named by $TWOFACTOR_TEST_CONF to point here.
    StateDir();
    ~StateDir();
    StateDir(const StateDir&) = delete;
    StateDir& operator=(const StateDir&) = delete;

    const std::string& root() const { return root_; }
    const std::string& state_dir() const { return state_dir_; }
    std::string path(const std::string& user) const { return state_dir_ + "/" + user; }
    twofactor::FileStateStore& store() { return store_; }

    // TOTP with the RFC key, enrolled at `at`.
    void enroll_totp(const std::string& user, std::int64_t at, const twofactor::TotpParams& params = {});
    // A fresh set (scrypt N=2^10 for speed); returns the codes in clear.
    std::vector<std::string> issue_codes(const std::string& user, std::int64_t at, unsigned count = 10,
                                         unsigned length = 8);
    twofactor::UserState load(const std::string& user);
    // What `twofactor-admin unlock` does, through the core.
    void clear_lockout(const std::string& user);

private:
    std::string root_;
    std::string state_dir_;
    twofactor::FileStateStore store_;
};

twofactor::SecureBytes test_secret();
std::string totp_code(std::int64_t t, const twofactor::TotpParams& params = {});
// A six-digit code that is not valid for the RFC key anywhere near `t`.
std::string wrong_totp_code(std::int64_t t);

// A file's bytes and metadata, to prove the module left it alone.
struct FileSnapshot {
    bool exists = false;
    std::string bytes;
    struct stat st {};
    bool is_symlink = false;
    bool operator==(const FileSnapshot& o) const;
};
FileSnapshot snapshot(const std::string& path);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes, mode_t mode);

// Runs a program without LD_PRELOAD (no pam_wrapper, no faketime) and
// returns its standard output; aborts the test if it cannot run.
std::string run_output(const std::vector<std::string>& argv);

std::string env_or_die(const char* name);

// A child process with its stdin and stdout/stderr on pipes; it keeps this
// process's environment (LD_PRELOAD included, so pam_wrapper applies).
class ChildProcess {
public:
    explicit ChildProcess(const std::vector<std::string>& argv);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Writes `input` and closes stdin.
    void send(const std::string& input);
    // For line-by-line dialogues: write without closing; read one line of
    // output (without the newline; nullopt at end of output).
    void write(const std::string& input);
    std::optional<std::string> read_line();
    // Waits; returns the exit code (128+signal if killed). Output in output().
    int finish();
    const std::string& output() const { return output_; }

private:
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    std::string output_;
    std::size_t consumed_ = 0; // of output_, by read_line()
};

// cmocka group fixtures: a fresh StateDir per test, clock at kT0.
int setup_state(void** state);
int teardown_state(void** state);
inline StateDir& dir_of(void** state) { return *static_cast<StateDir*>(*state); }

// Reads the time libfaketime gives this process (set by set_time()).
std::int64_t now();

} // namespace pamtest
