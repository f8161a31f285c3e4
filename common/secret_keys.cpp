#include "secret_keys.hpp"

#include "codec.hpp"
#include "crypto.hpp"
#include "errors.hpp"
#include "read_whole.hpp"
#include "trusted_path.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace twofactor {

namespace {

constexpr std::string_view kHeader = "twofactor-keys 1";
constexpr std::size_t kMaxKeyFileBytes = std::size_t{16} * 1024;
constexpr std::size_t kMaxKeys = 32;

[[noreturn]] void refuse(const std::string& path, const std::string& why) { throw ConfigError(path + ": " + why); }

std::optional<KeyRole> parse_role(std::string_view role)
{
    if (role == "current")
        return KeyRole::current;
    if (role == "next")
        return KeyRole::next;
    if (role == "old")
        return KeyRole::old;
    return std::nullopt;
}

std::vector<std::string_view> split_spaces(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const auto sp = line.find(' ', start);
        out.push_back(line.substr(start, sp == std::string_view::npos ? sp : sp - start));
        if (sp == std::string_view::npos)
            return out;
        start = sp + 1;
    }
}

std::string directory_of(const std::string& path)
{
    const auto slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

const char* to_string(KeyRole role)
{
    switch (role) {
    case KeyRole::current:
        return "current";
    case KeyRole::next:
        return "next";
    case KeyRole::old:
        return "old";
    }
    return "old";
}

const SecretKey* SecretKeys::find(std::string_view id) const
{
    for (const SecretKey& k : keys_)
        if (k.id == id)
            return &k;
    return nullptr;
}

const SecretKey& SecretKeys::current() const
{
    const SecretKey* found = nullptr;
    for (const SecretKey& k : keys_) {
        if (k.role != KeyRole::current)
            continue;
        if (found)
            refuse(path_, "more than one current key");
        found = &k;
    }
    if (!found)
        refuse(path_, "no current key");
    return *found;
}

bool valid_key_id(std::string_view id)
{
    return id.size() == kSecretKeyIdLength
        && std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

SecretKey generate_secret_key(KeyRole role, const SecretKeys& existing)
{
    SecretKey k;
    k.role = role;
    for (int attempt = 0; attempt < 100; ++attempt) {
        const SecureBytes id = random_bytes(kSecretKeyIdLength / 2);
        k.id = to_hex(id.data(), id.size());
        if (!existing.find(k.id))
            break;
    }
    if (existing.find(k.id))
        throw CryptoError("could not pick an unused key id");
    k.key = random_bytes(kSecretKeyBytes);
    return k;
}

SecretKeys parse_secret_keys(std::string_view text, const std::string& path)
{
    std::vector<SecretKey> keys;
    int line_no = 0;
    bool header = false;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos)
            refuse(path, "line " + std::to_string(line_no) + ": not terminated (truncated file?)");
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        const std::string where = "line " + std::to_string(line_no) + ": ";
        if (!header) {
            if (line != kHeader)
                refuse(path, where + "expected the header '" + std::string(kHeader) + "'");
            header = true;
            continue;
        }
        if (line.empty() || line.front() == '#')
            continue;
        const std::vector<std::string_view> f = split_spaces(line);
        if (f.size() != 4 || f[0] != "key")
            refuse(path, where + "expected 'key ID ROLE BASE64'");
        SecretKey k;
        if (!valid_key_id(f[1]))
            refuse(path, where + "key id must be 8 lower-case hex digits");
        k.id = std::string(f[1]);
        const std::optional<KeyRole> role = parse_role(f[2]);
        if (!role)
            refuse(path, where + "role must be current, next or old");
        k.role = *role;
        if (!base64url_decode(f[3], k.key) || k.key.size() != kSecretKeyBytes)
            refuse(path, where + "key " + k.id + " is not 32 bytes of base64url");
        for (const SecretKey& other : keys)
            if (other.id == k.id)
                refuse(path, where + "key id " + k.id + " repeated");
        if (keys.size() >= kMaxKeys)
            refuse(path, where + "more than " + std::to_string(kMaxKeys) + " keys");
        keys.push_back(std::move(k));
    }
    if (!header)
        refuse(path, "empty file");
    SecretKeys out(path, std::move(keys));
    out.current(); // exactly one
    return out;
}

SecureChars serialize_secret_keys(const SecretKeys& keys)
{
    SecureChars out = to_secure(std::string(kHeader) + "\n");
    for (const SecretKey& k : keys.keys()) {
        const std::string head = "key " + k.id + " " + to_string(k.role) + " ";
        out.insert(out.end(), head.begin(), head.end());
        const SecureChars b64 = base64url_encode(k.key.data(), k.key.size());
        out.insert(out.end(), b64.begin(), b64.end());
        out.push_back('\n');
    }
    return out;
}

std::shared_ptr<const SecretKeys> read_secret_key_file(const std::string& path, bool missing_ok)
{
    if (path.empty() || path.front() != '/')
        refuse(path, "secret_key_file must be an absolute path");
    if (const std::optional<std::string> why = untrusted_part(directory_of(path), PathTrust{}))
        refuse(path, "unsafe directory: " + *why);
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW));
    if (!fd) {
        const int err = errno;
        if (err == ENOENT && missing_ok)
            return nullptr;
        if (err == ELOOP)
            refuse(path, "unsafe: is a symlink");
        if (err == ENOENT)
            refuse(path, "secret key file does not exist (run 'twofactor-admin key init')");
        refuse(path, std::string("cannot read: ") + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        refuse(path, std::string("cannot read: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        refuse(path, "unsafe: not a regular file");
    if (st.st_uid != ::geteuid())
        refuse(path, "unsafe: owned by uid " + std::to_string(st.st_uid) + ", expected " + std::to_string(::geteuid()));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        refuse(path, "unsafe: readable or writable by group or others (needs mode 0600 or 0400)");
    if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes))
        refuse(path, "file too large");
    const WholeFile file = read_whole(fd.get(), static_cast<std::size_t>(st.st_size), kMaxKeyFileBytes);
    if (file.error != 0)
        refuse(path, std::string("read error: ") + std::strerror(file.error));
    if (file.too_large)
        refuse(path, "file too large");
    return std::make_shared<const SecretKeys>(parse_secret_keys(view(file.data), path));
}

std::shared_ptr<const SecretKeys> load_secret_keys(const Config& config)
{
    return read_secret_key_file(config.secret_key_file, config.secret_key_file_origin.empty());
}

void write_secret_key_file(const SecretKeys& keys, bool create)
{
    const std::string& path = keys.path();
    keys.current();
    const std::string directory = directory_of(path);
    const std::string tmp = path + ".tmp";
    struct stat st {};
    if (create && ::lstat(path.c_str(), &st) == 0)
        refuse(path, "already exists; not overwritten");
    const UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        refuse(directory, std::string("cannot open: ") + std::strerror(errno));
    ::unlink(tmp.c_str()); // a leftover of an interrupted run
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd)
        refuse(tmp, std::string("cannot create: ") + std::strerror(errno));
    try {
        if (::fchmod(fd.get(), 0600) != 0)
            refuse(tmp, std::string("chmod: ") + std::strerror(errno));
        const SecureChars text = serialize_secret_keys(keys);
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                refuse(tmp, std::string("write: ") + std::strerror(n < 0 ? errno : EIO));
            done += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0)
            refuse(tmp, std::string("fsync: ") + std::strerror(errno));
        fd.reset();
        if (create ? ::link(tmp.c_str(), path.c_str()) != 0 : ::rename(tmp.c_str(), path.c_str()) != 0)
            refuse(path, std::string(create ? "cannot create: " : "cannot replace: ") + std::strerror(errno));
        if (create)
            ::unlink(tmp.c_str());
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    if (::fsync(dir.get()) != 0)
        refuse(directory, std::string("fsync: ") + std::strerror(errno));
}

} // namespace twofactor
