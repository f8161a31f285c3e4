// Shared by the reliability tests: checks counted into one closing summary
// line (the exit code is non-zero if any failed), a private state directory,
// and an enrolled user whose backup codes and TOTP secret the test knows.
#pragma once

#include "backup_codes.hpp"
#include "state_store.hpp"
#include "totp.hpp"
#include "user_state.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

namespace reliability {

struct Tally {
    long checks = 0;
    long failures = 0;
};
inline Tally& tally()
{
    static Tally t;
    return t;
}

inline bool check(bool ok, const char* file, int line, const char* fmt, ...) __attribute__((format(printf, 4, 5)));
inline bool check(bool ok, const char* file, int line, const char* fmt, ...)
{
    ++tally().checks;
    if (ok)
        return true;
    ++tally().failures;
    std::fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
    return false;
}
#define CHECK(cond, ...) ::reliability::check(static_cast<bool>(cond), __FILE__, __LINE__, __VA_ARGS__)

// The closing line: "NAME: PASS, N checks; FIGURES" or "NAME: FAIL, F of N checks failed; FIGURES".
inline int summary(const char* name, const std::string& figures)
{
    const Tally& t = tally();
    if (t.failures == 0)
        std::printf("%s: PASS, %ld checks; %s\n", name, t.checks, figures.c_str());
    else
        std::printf("%s: FAIL, %ld of %ld checks failed; %s\n", name, t.failures, t.checks, figures.c_str());
    std::fflush(stdout);
    return t.failures == 0 ? 0 : 1;
}

// A 0700 directory under `base`, removed with everything in it.
class TempDir {
public:
    explicit TempDir(const std::string& base = "/tmp", const std::string& prefix = "twofactor-rel-")
    {
        std::string tmpl = base + "/" + prefix + "XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) {
            std::perror("mkdtemp");
            std::exit(2);
        }
        path_ = tmpl;
        ::chmod(path_.c_str(), 0700);
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// The bytes of a file, or nullopt if it cannot be opened.
inline std::optional<std::string> read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline bool exists(const std::string& path)
{
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// Low cost (log2_n = 10): the tests run thousands of verifications.
inline const twofactor::ScryptParams kFastScrypt{10, 8, 1};

struct Enrolment {
    twofactor::SecureBytes secret;
    twofactor::IssuedCodes issued;

    std::string code(std::size_t i) const { return std::string(twofactor::view(issued.codes.at(i))); }
    std::string totp(std::int64_t now) const
    {
        return std::string(twofactor::view(twofactor::totp_generate(secret, twofactor::TotpParams{}, now)));
    }
    twofactor::UserState state(const std::string& user, std::int64_t now) const
    {
        twofactor::UserState st;
        st.user = user;
        st.authenticators = {twofactor::TotpState{secret, twofactor::TotpParams{}, now, std::nullopt}};
        st.codes = issued.set;
        return st;
    }
};

inline Enrolment make_enrolment(unsigned codes, std::int64_t now, const twofactor::ScryptParams& params = kFastScrypt)
{
    return Enrolment{twofactor::random_bytes(20), twofactor::generate_backup_codes(codes, 8, params, now)};
}

inline void write_state(twofactor::StateStore& store, const twofactor::UserState& state)
{
    store.update(state.user, [&](std::optional<twofactor::UserState>& s) {
        s = state;
        return true;
    });
}

} // namespace reliability
