#include "fixture.hpp"

#include "backup_codes.hpp"
#include "codec.hpp"
#include "crypto.hpp"
#include "user_state.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

extern char** environ;

namespace pamtest {

namespace {

const twofactor::ScryptParams kFastScrypt{10, 8, 1};

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "test fixture: %s: %s\n", what.c_str(), std::strerror(errno));
    std::abort();
}

std::string make_root()
{
    const char* tmpdir = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmpdir != nullptr && *tmpdir == '/' ? tmpdir : "/tmp") + "/twofactor-pamtest-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
        die("mkdtemp " + tmpl);
    return tmpl;
}

} // namespace

std::string env_or_die(const char* name)
{
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        std::fprintf(stderr, "test fixture: %s is not set (run through ctest)\n", name);
        std::abort();
    }
    return value;
}

void set_time(std::int64_t t)
{
    // libfaketime re-reads FAKETIME on every call (FAKETIME_NO_CACHE=1, set
    // by CMake with FAKETIME_FMT=%s): the clock stands still at `t`.
    if (::setenv("FAKETIME", std::to_string(t).c_str(), 1) != 0)
        die("setenv FAKETIME");
    if (::time(nullptr) != t) {
        std::fprintf(stderr, "test fixture: libfaketime is not active (time %lld, wanted %lld)\n",
                     static_cast<long long>(::time(nullptr)), static_cast<long long>(t));
        std::abort();
    }
}

int setup_state(void** state)
{
    if (std::getenv("FAKETIME") != nullptr) // the real-clock tests run without libfaketime
        set_time(kT0);
    *state = new StateDir();
    return 0;
}

int teardown_state(void** state)
{
    delete static_cast<StateDir*>(*state);
    return 0;
}

std::int64_t now() { return static_cast<std::int64_t>(::time(nullptr)); }

StateDir::StateDir() : root_(make_root()), state_dir_(root_ + "/state"), store_(state_dir_)
{
    if (::mkdir(state_dir_.c_str(), 0700) != 0)
        die("mkdir " + state_dir_);
    write_file(env_or_die("TWOFACTOR_TEST_CONF"), "# written by the pam tests\nstate_dir = " + state_dir_ + "\n", 0600);
}

StateDir::~StateDir()
{
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
}

twofactor::SecureBytes test_secret()
{
    twofactor::SecureBytes secret;
    if (!twofactor::base32_decode(kSecretBase32, secret))
        std::abort();
    return secret;
}

std::string totp_code(std::int64_t t, const twofactor::TotpParams& params)
{
    const twofactor::SecureChars code = twofactor::totp_generate(test_secret(), params, t);
    return std::string(code.begin(), code.end());
}

std::string wrong_totp_code(std::int64_t t)
{
    for (int n = 0;; ++n) {
        std::string candidate = std::to_string(100000 + n * 7919 % 900000);
        bool valid = false;
        for (int step = -2; step <= 2; ++step)
            valid = valid || candidate == totp_code(t + step * 30);
        if (!valid)
            return candidate;
    }
}

void StateDir::enroll_totp(const std::string& user, std::int64_t at, const twofactor::TotpParams& params)
{
    store_.update(user, [&](std::optional<twofactor::UserState>& state) {
        if (!state)
            state = twofactor::UserState{};
        state->authenticators = {twofactor::TotpState{test_secret(), params, at, std::nullopt}};
        return true;
    });
}

std::vector<std::string> StateDir::issue_codes(const std::string& user, std::int64_t at, unsigned count,
                                               unsigned length)
{
    twofactor::IssuedCodes issued = twofactor::generate_backup_codes(count, length, kFastScrypt, at);
    store_.update(user, [&](std::optional<twofactor::UserState>& state) {
        if (!state)
            state = twofactor::UserState{};
        state->codes = issued.set;
        return true;
    });
    std::vector<std::string> codes;
    for (const auto& code : issued.codes)
        codes.emplace_back(code.begin(), code.end());
    return codes;
}

twofactor::UserState StateDir::load(const std::string& user)
{
    std::optional<twofactor::UserState> state = store_.load(user);
    if (!state) {
        std::fprintf(stderr, "test fixture: no state for %s\n", user.c_str());
        std::abort();
    }
    return std::move(*state);
}

void StateDir::clear_lockout(const std::string& user)
{
    store_.update(user, [](std::optional<twofactor::UserState>& state) {
        if (!state)
            return false;
        state->failures = 0;
        state->locked_until = 0;
        return true;
    });
}

bool FileSnapshot::operator==(const FileSnapshot& o) const
{
    return exists == o.exists && bytes == o.bytes && is_symlink == o.is_symlink && st.st_mode == o.st.st_mode
        && st.st_uid == o.st.st_uid && st.st_gid == o.st.st_gid && st.st_ino == o.st.st_ino
        && st.st_size == o.st.st_size && st.st_nlink == o.st.st_nlink;
}

FileSnapshot snapshot(const std::string& path)
{
    FileSnapshot s;
    if (::lstat(path.c_str(), &s.st) != 0)
        return s;
    s.exists = true;
    s.is_symlink = S_ISLNK(s.st.st_mode);
    if (S_ISREG(s.st.st_mode))
        s.bytes = read_file(path);
    return s;
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes, mode_t mode)
{
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out)
            die("write " + path);
    }
    if (::chmod(path.c_str(), mode) != 0)
        die("chmod " + path);
}

std::string run_output(const std::vector<std::string>& argv)
{
    int fds[2];
    if (::pipe(fds) != 0)
        die("pipe");
    const pid_t pid = ::fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        ::unsetenv("LD_PRELOAD");
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buffer[256];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0)
        out.append(buffer, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "test fixture: %s failed\n", argv[0].c_str());
        std::abort();
    }
    return out;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv)
{
    // A child that exits early must show up as its exit code, not kill us.
    ::signal(SIGPIPE, SIG_IGN);
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        die("pipe");
    pid_ = ::fork();
    if (pid_ < 0)
        die("fork");
    if (pid_ == 0) {
        ::dup2(in[0], STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(out[1], STDERR_FILENO);
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
}

ChildProcess::~ChildProcess()
{
    if (pid_ > 0)
        finish();
}

void ChildProcess::write(const std::string& input)
{
    std::size_t done = 0;
    while (in_ >= 0 && done < input.size()) {
        const ssize_t n = ::write(in_, input.data() + done, input.size() - done);
        if (n <= 0)
            break; // the child may have exited already; finish() reports it
        done += static_cast<std::size_t>(n);
    }
}

void ChildProcess::send(const std::string& input)
{
    write(input);
    if (in_ >= 0)
        ::close(in_);
    in_ = -1;
}

std::optional<std::string> ChildProcess::read_line()
{
    for (;;) {
        const std::size_t nl = output_.find('\n', consumed_);
        if (nl != std::string::npos) {
            std::string line = output_.substr(consumed_, nl - consumed_);
            consumed_ = nl + 1;
            return line;
        }
        char buffer[512];
        const ssize_t n = ::read(out_, buffer, sizeof buffer);
        if (n <= 0)
            return std::nullopt;
        output_.append(buffer, static_cast<std::size_t>(n));
    }
}

int ChildProcess::finish()
{
    if (in_ >= 0) {
        ::close(in_);
        in_ = -1;
    }
    char buffer[512];
    ssize_t n;
    while ((n = ::read(out_, buffer, sizeof buffer)) > 0)
        output_.append(buffer, static_cast<std::size_t>(n));
    ::close(out_);
    out_ = -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace pamtest
