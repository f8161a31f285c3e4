// make_users: writes many enrolled users fast, for the benchmark only.
//
// State files are produced by the core's own serializer (so they are exactly
// what the module and the tool read) and written, with the lock file the
// store creates at enrolment, by a plain open/write/close: setting up
// 100,000 users through FileStateStore::update would cost two fsyncs each,
// minutes of setup for nothing measured.
// Optionally writes the same users for the peers: a pam_oath users file and
// google-authenticator secret files (TOTP and scratch codes).
//
//   make_users --dir DIR --prefix u --count N [--totp-hex HEX]
//              [--codes N --log2n L --script FILE]     real sets, codes listed in FILE
//              [--template-codes]                      one real set (cost 2^10) copied to all
//              [--oath FILE] [--ga DIR --ga-scratch N --ga-script FILE]
#include "backup_codes.hpp"
#include "codec.hpp"
#include "crypto.hpp"
#include "user_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

using namespace twofactor;

namespace {

struct Options {
    std::string dir, prefix = "u", totp_hex, script, oath, ga_dir, ga_script;
    unsigned count = 1, codes = 0, log2n = 14, ga_scratch = 0;
    bool template_codes = false;
};

void write_file(const std::string& path, const char* data, std::size_t size, mode_t mode)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        throw std::runtime_error(path + ": " + std::strerror(errno));
    const bool ok = ::write(fd, data, size) == static_cast<ssize_t>(size) && ::fchmod(fd, mode) == 0;
    ::close(fd);
    if (!ok)
        throw std::runtime_error(path + ": write failed");
}

void make_dir(const std::string& path, mode_t mode)
{
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        throw std::runtime_error(path + ": " + std::strerror(errno));
    ::chmod(path.c_str(), mode);
}

SecureBytes from_hex_string(const std::string& hex)
{
    SecureBytes out(hex.size() / 2);
    if (hex.size() % 2 != 0 || !from_hex(hex, out.data(), out.size()))
        throw std::runtime_error("bad --totp-hex");
    return out;
}

Options parse(int argc, char** argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto v = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::runtime_error(a + " needs a value");
            return argv[++i];
        };
        const auto u = [&]() { return static_cast<unsigned>(std::stoul(v())); };
        if (a == "--dir")
            o.dir = v();
        else if (a == "--prefix")
            o.prefix = v();
        else if (a == "--count")
            o.count = u();
        else if (a == "--totp-hex")
            o.totp_hex = v();
        else if (a == "--codes")
            o.codes = u();
        else if (a == "--log2n")
            o.log2n = u();
        else if (a == "--script")
            o.script = v();
        else if (a == "--template-codes")
            o.template_codes = true;
        else if (a == "--oath")
            o.oath = v();
        else if (a == "--ga")
            o.ga_dir = v();
        else if (a == "--ga-scratch")
            o.ga_scratch = u();
        else if (a == "--ga-script")
            o.ga_script = v();
        else
            throw std::runtime_error("unknown option " + a);
    }
    return o;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const Options o = parse(argc, argv);
        const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
        std::ofstream script, ga_script, oath;
        if (!o.script.empty())
            script.open(o.script, std::ios::app);
        if (!o.ga_script.empty())
            ga_script.open(o.ga_script, std::ios::app);
        if (!o.oath.empty())
            oath.open(o.oath, std::ios::app);
        if (!o.dir.empty())
            make_dir(o.dir, 0700);
        if (!o.ga_dir.empty())
            make_dir(o.ga_dir, 0700);

        UserState base;
        if (!o.totp_hex.empty())
            base.authenticators = {TotpState{from_hex_string(o.totp_hex), TotpParams{}, now, std::nullopt}};
        if (o.template_codes)
            base.codes = generate_backup_codes(10, 8, ScryptParams{10, 8, 1}, now).set;
        const SecureChars secret_b32
            = !base.authenticators.empty() ? base32_encode(base.find("default")->secret) : SecureChars{};
        std::mt19937_64 rng(std::random_device{}());

        for (unsigned i = 0; i < o.count; ++i) {
            char name[64];
            std::snprintf(name, sizeof name, "%s%06u", o.prefix.c_str(), i);
            if (!o.dir.empty()) {
                UserState st = base;
                st.user = name;
                if (o.codes > 0) {
                    IssuedCodes issued = generate_backup_codes(o.codes, 8, ScryptParams{o.log2n, 8, 1}, now);
                    st.codes = issued.set;
                    for (const SecureChars& code : issued.codes)
                        script << name << ' ' << view(code) << '\n';
                }
                const SecureChars text = serialize_user_state(st);
                write_file(o.dir + "/" + name, text.data(), text.size(), 0600);
                // Enrolment through the store leaves the user's (empty) lock
                // file behind; without it every first login of a user would
                // create one, which no deployed system does per login.
                write_file(o.dir + "/." + name + ".lock", "", 0, 0600);
            }
            if (oath.is_open())
                oath << "HOTP/T30 " << name << " - " << o.totp_hex << '\n';
            if (!o.ga_dir.empty()) {
                std::string text(view(secret_b32));
                text += "\n\" TOTP_AUTH\n\" DISALLOW_REUSE\n\" WINDOW_SIZE 3\n";
                for (unsigned k = 0; k < o.ga_scratch; ++k) {
                    const auto code = std::to_string(10000000 + rng() % 90000000);
                    text += code + "\n";
                    ga_script << name << ' ' << code << '\n';
                }
                const std::string dir = o.ga_dir + "/" + name;
                make_dir(dir, 0700);
                write_file(dir + "/.google_authenticator", text.data(), text.size(), 0400);
            }
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_users: %s\n", e.what());
        return 1;
    }
}
