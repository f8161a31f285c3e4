#include "devices.hpp"

#include "user_state.hpp"

#include "codec.hpp"
#include "errors.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace twofactor {

namespace {

constexpr std::string_view kDomain = "twofactor-device-v1";
constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// The smallest blob worth the name: a length, a type and some key.
constexpr std::size_t kMinBlobBytes = 16;

int base64_value(char c)
{
    const auto pos = kBase64.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Padded base64 as OpenSSH writes it: length a multiple of 4, '=' only at
// the end, unused bits zero (one text per blob).
std::optional<std::vector<unsigned char>> base64_decode(std::string_view text)
{
    if (text.empty() || text.size() % 4 != 0)
        return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && text.size() > pad && text[text.size() - 1 - pad] == '=')
        ++pad;
    std::vector<unsigned char> out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < text.size() - pad; ++i) {
        const int v = base64_value(text[i]);
        if (v < 0)
            return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>((acc >> bits) & 0xff));
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return std::nullopt;
    return out;
}

std::string base64_unpadded(const unsigned char* data, std::size_t n)
{
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        acc = (acc << 8) | data[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(kBase64[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0)
        out.push_back(kBase64[(acc << (6 - bits)) & 0x3f]);
    return out;
}

class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new())
    {
        if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
            fail();
    }
    ~Sha256() { EVP_MD_CTX_free(ctx_); }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    Sha256& add(const void* data, std::size_t n)
    {
        if (EVP_DigestUpdate(ctx_, data, n) != 1)
            fail();
        return *this;
    }
    // A 4-byte big-endian length, then the bytes.
    Sha256& field(const void* data, std::size_t n)
    {
        const unsigned char length[4] = {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                                         static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
        return add(length, sizeof length).add(data, n);
    }
    Sha256& field(std::string_view s) { return field(s.data(), s.size()); }

    DeviceId finish()
    {
        DeviceId out{};
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(ctx_, out.data(), &n) != 1 || n != out.size())
            fail();
        return out;
    }

private:
    [[noreturn]] static void fail() { throw CryptoError("SHA-256 failed"); }
    EVP_MD_CTX* ctx_;
};

// The blob begins with the key type as an SSH string: it must be TYPE.
bool blob_has_type(const std::vector<unsigned char>& blob, std::string_view type)
{
    if (blob.size() < kMinBlobBytes)
        return false;
    const std::size_t length = (std::size_t{blob[0]} << 24) | (std::size_t{blob[1]} << 16) | (std::size_t{blob[2]} << 8)
        | std::size_t{blob[3]};
    return length == type.size() && length < blob.size() - 4 && std::equal(type.begin(), type.end(), blob.begin() + 4);
}

bool type_ok(std::string_view type)
{
    return !type.empty() && type.size() <= 64 && std::all_of(type.begin(), type.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '@' || c == '.';
    });
}

} // namespace

const char* to_string(RememberBy by)
{
    switch (by) {
    case RememberBy::key:
        return "key";
    case RememberBy::key_address:
        return "key+address";
    case RememberBy::address:
        return "address";
    }
    return "key";
}

std::optional<RememberBy> parse_remember_by(std::string_view text)
{
    for (const RememberBy by : {RememberBy::key, RememberBy::key_address, RememberBy::address})
        if (text == to_string(by))
            return by;
    return std::nullopt;
}

bool uses_key(RememberBy by) { return by != RememberBy::address; }
bool uses_address(RememberBy by) { return by != RememberBy::key; }

std::string short_id(const DeviceId& id) { return to_hex(id.data(), id.size()).substr(0, kShortIdDigits); }

std::optional<std::vector<unsigned char>> parse_auth_info(std::string_view info, std::string& problem)
{
    if (info.empty()) {
        problem = "no_completed_method";
        return std::nullopt;
    }
    if (info.size() > kMaxAuthInfoBytes) {
        problem = "auth_info_too_long";
        return std::nullopt;
    }
    for (const char c : info)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || static_cast<unsigned char>(c) >= 0x7f) {
            problem = "auth_info_not_text";
            return std::nullopt;
        }
    std::optional<std::vector<unsigned char>> found;
    while (!info.empty()) {
        const auto nl = info.find('\n');
        const std::string_view line = info.substr(0, nl);
        info = nl == std::string_view::npos ? std::string_view{} : info.substr(nl + 1);
        if (line.empty()) {
            problem = "auth_info_empty_line";
            return std::nullopt;
        }
        const auto sp = line.find(' ');
        if (line.substr(0, sp) != "publickey")
            continue; // another method (keyboard-interactive, password, ...)
        if (found) {
            problem = "auth_info_two_keys";
            return std::nullopt;
        }
        const std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
        const auto sp2 = rest.find(' ');
        if (sp2 == std::string_view::npos || rest.find(' ', sp2 + 1) != std::string_view::npos) {
            problem = "auth_info_publickey_fields"; // certificates add fields: not remembered
            return std::nullopt;
        }
        const std::string_view type = rest.substr(0, sp2);
        auto blob = base64_decode(rest.substr(sp2 + 1));
        if (!type_ok(type) || !blob || !blob_has_type(*blob, type)) {
            problem = "auth_info_bad_key";
            return std::nullopt;
        }
        found = std::move(blob);
    }
    if (!found)
        problem = "no_publickey";
    return found;
}

std::string key_fingerprint(const std::vector<unsigned char>& blob)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(blob.data(), blob.size(), digest, &n, EVP_sha256(), nullptr) != 1 || n != 32)
        throw CryptoError("SHA-256 failed");
    return "SHA256:" + base64_unpadded(digest, n);
}

DeviceId device_id(std::string_view user, RememberBy by, const std::vector<unsigned char>& blob,
                   std::string_view address)
{
    Sha256 h;
    h.field(kDomain).field(user).field(to_string(by));
    if (uses_key(by))
        h.field(blob.data(), blob.size());
    if (uses_address(by))
        h.field(address);
    return h.finish();
}

std::optional<DeviceIdentity> identify_device(std::string_view user, RememberBy by,
                                              const std::optional<std::string>& auth_info, std::string_view rhost,
                                              std::string& problem)
{
    std::vector<unsigned char> blob;
    if (uses_key(by)) {
        if (!auth_info) {
            problem = "no_auth_info";
            return std::nullopt;
        }
        auto parsed = parse_auth_info(*auth_info, problem);
        if (!parsed)
            return std::nullopt;
        blob = std::move(*parsed);
    }
    if (uses_address(by) && rhost.empty()) {
        problem = "no_rhost";
        return std::nullopt;
    }
    DeviceIdentity d;
    d.id = device_id(user, by, blob, rhost);
    if (uses_key(by))
        d.fingerprint = key_fingerprint(blob);
    if (uses_address(by))
        d.address = std::string(rhost);
    return d;
}

const Device* find_device(const std::vector<Device>& devices, const DeviceId& id, std::int64_t now)
{
    for (const Device& d : devices)
        if (now < d.expires_at && d.id == id) // ids are public hashes: no need for constant time
            return &d;
    return nullptr;
}

bool drop_expired_devices(std::vector<Device>& devices, std::int64_t now)
{
    const auto before = devices.size();
    devices.erase(std::remove_if(devices.begin(), devices.end(), [&](const Device& d) { return now >= d.expires_at; }),
                  devices.end());
    return devices.size() != before;
}

void remember_device(std::vector<Device>& devices, const DeviceIdentity& device, std::int64_t now, unsigned days,
                     std::size_t max_devices)
{
    drop_expired_devices(devices, now);
    devices.erase(std::remove_if(devices.begin(), devices.end(), [&](const Device& d) { return d.id == device.id; }),
                  devices.end());
    Device d;
    d.id = device.id;
    d.fingerprint = device.fingerprint;
    d.address = device.address;
    d.first_used = now;
    d.last_used = now;
    d.expires_at = now + std::int64_t{days} * 86400;
    devices.push_back(std::move(d));
    const std::size_t limit = std::max<std::size_t>(1, std::min(max_devices, kMaxDevices));
    while (devices.size() > limit) {
        // The one that expires first (the earliest in the list on a tie).
        const auto oldest = std::min_element(devices.begin(), devices.end(), [](const Device& a, const Device& b) {
            return a.expires_at < b.expires_at;
        });
        devices.erase(oldest);
    }
}

bool valid_device_prefix(std::string_view prefix)
{
    return prefix.size() >= kMinDevicePrefixDigits && prefix.size() <= kDeviceIdBytes * 2
        && std::all_of(prefix.begin(), prefix.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

std::vector<std::size_t> match_device_prefix(const std::vector<Device>& devices, std::string_view prefix)
{
    std::vector<std::size_t> out;
    if (!valid_device_prefix(prefix))
        return out;
    std::string lower;
    for (const char c : prefix)
        lower.push_back((c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c);
    for (std::size_t i = 0; i < devices.size(); ++i)
        if (to_hex(devices[i].id.data(), devices[i].id.size()).compare(0, lower.size(), lower) == 0)
            out.push_back(i);
    return out;
}

bool may_skip_prompt(const UserState& state, const DeviceId& device, std::int64_t now, unsigned remember_days)
{
    const bool locked = state.locked_until != 0 && now < state.locked_until;
    const Device* found = find_device(state.devices, device, now);
    return state.enrolled() && !locked && found != nullptr
        && now < found->first_used + std::int64_t{remember_days} * 86400;
}

} // namespace twofactor
