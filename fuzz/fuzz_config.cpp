// libFuzzer target: the configuration parser, both ways settings arrive.
// The first input byte picks the mode:
//   even: the rest is a config file, read through load_config(PATH, {});
//   odd:  the rest is split at NUL bytes; the first piece is the config file,
//         the others are module arguments (parse_argument), applied on top.
// A bad file or argument must be a ConfigError (anything else is a bug); a
// Config that loads must respect every documented range.
#include "config.hpp"
#include "errors.hpp"
#include "fuzz_support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace twofactor;

namespace {

// One private temp file for the whole run, rewritten for every input: the
// reader insists on a regular file owned by us and not group/other-writable.
struct ConfigFile {
    std::string path;
    int fd = -1;

    ConfigFile()
    {
        // tmpfs when there is one: on ext4, truncating and rewriting a file
        // thousands of times a second waits on the journal.
        char shm[] = "/dev/shm/twofactor-fuzz-config-XXXXXX";
        char tmp[] = "/tmp/twofactor-fuzz-config-XXXXXX";
        char* tmpl = shm;
        fd = ::mkstemp(tmpl);
        if (fd < 0) {
            tmpl = tmp;
            fd = ::mkstemp(tmpl);
        }
        FUZZ_CHECK(fd >= 0);
        path = tmpl;
        FUZZ_CHECK(::fchmod(fd, 0600) == 0);
    }
    ~ConfigFile()
    {
        ::close(fd);
        ::unlink(path.c_str());
    }
    void write(std::string_view content) const
    {
        FUZZ_CHECK(::ftruncate(fd, 0) == 0);
        std::size_t done = 0;
        while (done < content.size()) {
            const ssize_t n = ::pwrite(fd, content.data() + done, content.size() - done, static_cast<off_t>(done));
            FUZZ_CHECK(n > 0);
            done += static_cast<std::size_t>(n);
        }
    }
};

bool has_control(const std::string& s)
{
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f)
            return true;
    return false;
}

// Every range the documentation promises (man/twofactor.conf.5).
void check_config(const Config& c)
{
    FUZZ_CHECK(!c.state_dir.empty() && c.state_dir.front() == '/' && !has_control(c.state_dir));
    FUZZ_CHECK(!c.prompt.empty() && !has_control(c.prompt));
    FUZZ_CHECK(c.issuer.find(':') == std::string::npos && !has_control(c.issuer));
    FUZZ_CHECK(!(c.no_totp && c.no_backup_codes));
    FUZZ_CHECK(c.window <= 10);
    FUZZ_CHECK(c.max_failures >= 1 && c.max_failures <= 100);
    FUZZ_CHECK(c.lockout_seconds >= 1 && c.lockout_seconds <= 604800);
    FUZZ_CHECK(c.warn_remaining <= 100);
    FUZZ_CHECK(c.backup_code_count >= 1 && c.backup_code_count <= 100);
    FUZZ_CHECK(c.backup_code_length >= 8 && c.backup_code_length <= 16);
    FUZZ_CHECK(c.scrypt.log2_n >= 10 && c.scrypt.log2_n <= 20);
    FUZZ_CHECK(c.scrypt.r >= 1 && c.scrypt.r <= 32);
    FUZZ_CHECK(c.scrypt.p >= 1 && c.scrypt.p <= 16);
    FUZZ_CHECK(c.totp.digits >= 6 && c.totp.digits <= 8);
    FUZZ_CHECK(c.totp.period >= 15 && c.totp.period <= 300);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const ConfigFile file;
    if (size == 0)
        return 0;
    const bool with_arguments = (data[0] & 1) != 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

    std::string_view file_text = rest;
    std::vector<Setting> overrides;
    try {
        if (with_arguments) {
            const auto nul = rest.find('\0');
            file_text = rest.substr(0, nul);
            std::string_view args = nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
            while (!args.empty()) {
                const auto end = args.find('\0');
                const std::string_view arg = args.substr(0, end);
                args = end == std::string_view::npos ? std::string_view{} : args.substr(end + 1);
                Setting s = parse_argument(arg, "argument");
                FUZZ_CHECK(!s.key.empty());
                if (s.key == "config")
                    continue; // would open a file named by the input
                overrides.push_back(std::move(s));
            }
        }
        file.write(file_text);
        check_config(load_config(file.path, overrides));
    } catch (const ConfigError&) {
        return 0; // refused
    }
    return 0;
}
