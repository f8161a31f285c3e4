#include "user_state.hpp"

#include "codec.hpp"
#include "errors.hpp"
#include "hotp.hpp"
#include "sealed_secret.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <vector>

namespace twofactor {

const char* to_string(Method method)
{
    switch (method) {
    case Method::totp:
        return "totp";
    case Method::hotp:
        return "hotp";
    case Method::backup_code:
        return "backup_code";
    }
    return "backup_code";
}

const char* to_string(AuthenticatorType type) { return type == AuthenticatorType::hotp ? "hotp" : "totp"; }

std::optional<AuthenticatorType> parse_authenticator_type(std::string_view name)
{
    if (name == "totp")
        return AuthenticatorType::totp;
    if (name == "hotp")
        return AuthenticatorType::hotp;
    return std::nullopt;
}

bool valid_authenticator_name(std::string_view name)
{
    return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    });
}

Authenticator* UserState::find(std::string_view name)
{
    for (Authenticator& a : authenticators)
        if (a.name == name)
            return &a;
    return nullptr;
}

const Authenticator* UserState::find(std::string_view name) const
{
    for (const Authenticator& a : authenticators)
        if (a.name == name)
            return &a;
    return nullptr;
}

void UserState::put(Authenticator a)
{
    if (Authenticator* existing = find(a.name))
        *existing = std::move(a);
    else
        authenticators.push_back(std::move(a));
}

bool UserState::remove(std::string_view name)
{
    const auto it = std::find_if(authenticators.begin(), authenticators.end(),
                                 [&](const Authenticator& a) { return a.name == name; });
    if (it == authenticators.end())
        return false;
    authenticators.erase(it);
    return true;
}

namespace {

constexpr std::size_t kMaxLineBytes = 1024;
constexpr std::size_t kMaxFieldBytes = 256;
// A text field holds at most this many bytes: every byte may be written as
// %XX, and the written field must stay within kMaxFieldBytes. The writer
// truncates longer values; the parser refuses them, so that whatever parses
// is written back unchanged.
constexpr std::size_t kMaxTextBytes = kMaxFieldBytes / 3;
constexpr std::size_t kMaxSecretBytes = 128;
constexpr std::size_t kMinSecretBytes = 10;
constexpr std::string_view kMagic = "twofactor-state";
// A day either side: far more than any skew search (clock_skew.hpp) finds.
constexpr std::int64_t kMaxSkewRecord = 86400;

// Record order is fixed; each record appears at most once, except `auth`,
// `code` and `device`. `totp` and `totp-last-step` are version 1 only;
// `auth`, `skew` and `device` version 2 and 3 (3 = 2 with sealed secrets).
enum Rank {
    r_header,
    r_user,
    r_totp,
    r_totp_last_step,
    r_auth,
    r_failures,
    r_skew,
    r_last_login,
    r_codes,
    r_code,
    r_device,
    r_end
};

struct RecordKind {
    std::string_view name;
    Rank rank;
    int version; // 0: every version; 1: version 1 only; 2: version 2 and later
    bool in(int file_version) const
    {
        return version == 0 || version == file_version || (version == 2 && file_version > 2);
    }
};
constexpr RecordKind kRecords[] = {
    {"user", r_user, 0},
    {"totp", r_totp, 1},
    {"totp-last-step", r_totp_last_step, 1},
    {"auth", r_auth, 2},
    {"failures", r_failures, 0},
    {"skew", r_skew, 2}, // optional: the last clock skew seen
    {"last-login", r_last_login, 0},
    {"codes", r_codes, 0},
    {"code", r_code, 0},
    {"device", r_device, 2},
    {"end", r_end, 0},
};

// An unknown record's name, for the error message, only if it looks like
// one: a damaged file may start a line with a secret or a hash, and error
// messages go to syslog and stderr.
std::string shown_record_name(std::string_view key)
{
    const bool looks_like_name = !key.empty() && key.size() <= 20
        && std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; });
    return looks_like_name ? std::string(key) : std::string();
}

// Free-text fields (service, remote host, tty): "-" when empty, otherwise
// [A-Za-z0-9._:/@+[]-] literally and every other byte as %XX.
bool literal_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
        || c == ':' || c == '/' || c == '@' || c == '+' || c == '[' || c == ']' || c == '-';
}

std::string encode_field(std::string_view value)
{
    if (value.size() > kMaxTextBytes)
        value = value.substr(0, kMaxTextBytes);
    if (value.empty())
        return "-";
    if (value == "-")
        return "%2D";
    return percent_encode(value, literal_ok);
}

class Parser {
public:
    explicit Parser(std::string_view text) : rest_(text) {}

    UserState parse()
    {
        if (rest_.empty())
            fail(StateErrc::empty);
        if (rest_.size() > kMaxStateBytes)
            fail(StateErrc::too_large);
        for (char c : rest_) {
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\n') || u == 0x7f)
                fail(StateErrc::not_text);
        }
        if (rest_.back() != '\n')
            fail(StateErrc::missing_newline);

        next_line();
        parse_header();
        UserState st;
        Rank last = r_header;
        bool saw_failures = false;
        bool saw_end = false;
        std::size_t expected_codes = 0;
        while (next_line()) {
            if (saw_end)
                fail(StateErrc::data_after_end);
            const std::string_view key = fields_.at(0);
            const RecordKind* kind = nullptr;
            for (const RecordKind& k : kRecords)
                if (k.name == key && k.in(version_))
                    kind = &k;
            if (!kind)
                fail(StateErrc::unknown_key, shown_record_name(key));
            if (kind->rank < last
                || (kind->rank == last && kind->rank != r_code && kind->rank != r_auth && kind->rank != r_device))
                fail(kind->rank == last ? StateErrc::duplicate_key : StateErrc::malformed_line,
                     std::string(kind->name) + " out of order");
            last = kind->rank;
            switch (kind->rank) {
            case r_user:
                want(2);
                st.user = std::string(fields_[1]);
                break;
            case r_totp:
                st.authenticators.push_back(parse_totp());
                break;
            case r_totp_last_step:
                want(2);
                if (st.authenticators.empty())
                    fail(StateErrc::missing_field, "totp-last-step without totp");
                st.authenticators.front().last_step = number<std::uint64_t>(1);
                break;
            case r_auth:
                if (st.authenticators.size() >= kMaxAuthenticators)
                    fail(StateErrc::bad_value, "more than " + std::to_string(kMaxAuthenticators) + " auth records");
                st.authenticators.push_back(parse_auth());
                if (st.find(st.authenticators.back().name) != &st.authenticators.back())
                    fail(StateErrc::duplicate_key, "auth name repeated");
                break;
            case r_failures:
                want(3);
                st.failures = number<unsigned>(1, 1000000);
                st.locked_until = number<std::int64_t>(2);
                saw_failures = true;
                break;
            case r_skew:
                want(3);
                // Canonical only ("-0", "-05" would be written back otherwise).
                if (fields_[2].size() > 1 && fields_[2][0] == '-' && fields_[2][1] == '0')
                    fail(StateErrc::bad_value, "skew field 2");
                st.last_skew
                    = SkewSeen{number<std::int64_t>(1), number<std::int64_t>(2, kMaxSkewRecord, -kMaxSkewRecord)};
                break;
            case r_last_login:
                st.last_login = parse_last_login();
                break;
            case r_codes:
                st.codes = parse_codes(expected_codes);
                break;
            case r_code:
                if (!st.codes)
                    fail(StateErrc::missing_field, "code without codes");
                if (st.codes->slots.size() >= expected_codes)
                    fail(StateErrc::too_many_codes);
                st.codes->slots.push_back(parse_code());
                break;
            case r_device:
                if (st.devices.size() >= kMaxDevices)
                    fail(StateErrc::bad_value, "too many devices");
                st.devices.push_back(parse_device());
                for (std::size_t i = 0; i + 1 < st.devices.size(); ++i)
                    if (st.devices[i].id == st.devices.back().id)
                        fail(StateErrc::duplicate_key, "device id repeated");
                break;
            case r_end:
                want(1);
                saw_end = true;
                break;
            case r_header:
                break;
            }
        }
        if (!saw_end)
            fail(StateErrc::missing_end);
        if (st.user.empty())
            fail(StateErrc::missing_field, "user");
        if (!saw_failures)
            fail(StateErrc::missing_field, "failures");
        if (st.codes && st.codes->slots.size() != expected_codes)
            fail(StateErrc::too_many_codes);
        return st;
    }

private:
    [[noreturn]] void fail(StateErrc errc, const std::string& detail = {}) const
    {
        throw StateFormatError(errc, line_no_, detail);
    }

    // Splits the next line into single-space-separated fields.
    bool next_line()
    {
        if (rest_.empty())
            return false;
        ++line_no_;
        const auto nl = rest_.find('\n');
        const std::string_view line = rest_.substr(0, nl);
        rest_.remove_prefix(nl + 1);
        if (line.size() > kMaxLineBytes)
            fail(StateErrc::field_too_long, "line");
        fields_.clear();
        std::size_t start = 0;
        for (;;) {
            const auto sp = line.find(' ', start);
            const std::string_view f = line.substr(start, sp == std::string_view::npos ? sp : sp - start);
            if (f.empty())
                fail(StateErrc::malformed_line, "empty field");
            if (f.size() > kMaxFieldBytes)
                fail(StateErrc::field_too_long);
            fields_.push_back(f);
            if (sp == std::string_view::npos)
                break;
            start = sp + 1;
        }
        return true;
    }

    void want(std::size_t n) const
    {
        if (fields_.size() != n)
            fail(StateErrc::malformed_line, std::string(fields_[0]) + " needs " + std::to_string(n - 1) + " fields");
    }

    void parse_header()
    {
        if (fields_.size() != 2 || fields_[0] != kMagic)
            fail(StateErrc::bad_header);
        if (fields_[1] == "1")
            version_ = 1;
        else if (fields_[1] == "2")
            version_ = 2;
        else if (fields_[1] == "3")
            version_ = 3;
        else
            fail(StateErrc::unsupported_version);
    }

    template <typename T>
    T number(std::size_t i, T max = std::numeric_limits<T>::max(), T min = 0) const
    {
        const std::string_view f = fields_[i];
        T v{};
        auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
        if (ec != std::errc() || ptr != f.data() + f.size() || v < min || v > max || (f.size() > 1 && f[0] == '0'))
            fail(StateErrc::bad_value, std::string(fields_[0]) + " field " + std::to_string(i));
        return v;
    }

    std::string text_field(std::size_t i) const
    {
        const std::string_view f = fields_[i];
        if (f == "-")
            return {};
        std::string out;
        for (std::size_t k = 0; k < f.size(); ++k) {
            const auto c = static_cast<unsigned char>(f[k]);
            if (c == '%') {
                unsigned char b = 0;
                if (k + 2 >= f.size())
                    fail(StateErrc::bad_value, "escape");
                if (!from_hex(f.substr(k + 1, 2), &b, 1))
                    fail(StateErrc::bad_value, "escape");
                out.push_back(static_cast<char>(b));
                k += 2;
            } else if (literal_ok(c)) {
                out.push_back(static_cast<char>(c));
            } else {
                fail(StateErrc::bad_value, "character in text field");
            }
        }
        if (out.size() > kMaxTextBytes)
            fail(StateErrc::field_too_long, "text field");
        return out;
    }

    TotpState parse_totp()
    {
        // totp ALGORITHM DIGITS PERIOD SECRET ENROLLED_AT
        want(6);
        TotpState t;
        const auto alg = parse_totp_algorithm(fields_[1]);
        if (!alg)
            fail(StateErrc::bad_value, "totp algorithm");
        t.params.algorithm = *alg;
        t.params.digits = number<unsigned>(2, 8, 6);
        t.params.period = number<unsigned>(3, 3600, 1);
        const std::string_view b32 = fields_[4];
        if (!base32_decode(b32, t.secret) || t.secret.size() < kMinSecretBytes || t.secret.size() > kMaxSecretBytes)
            fail(StateErrc::bad_base32);
        t.enrolled_at = number<std::int64_t>(5);
        return t;
    }

    // auth NAME totp ALG DIGITS PERIOD SECRET ENROLLED_AT LAST_STEP|- LAST_USED|-
    // auth NAME hotp ALG DIGITS COUNTER SECRET ENROLLED_AT LAST_USED|-
    Authenticator parse_auth()
    {
        if (fields_.size() < 3)
            fail(StateErrc::malformed_line, "auth needs a name and a type");
        Authenticator a;
        if (!valid_authenticator_name(fields_[1]))
            fail(StateErrc::bad_value, "auth name");
        a.name = std::string(fields_[1]);
        const auto type = parse_authenticator_type(fields_[2]);
        if (!type)
            fail(StateErrc::bad_value, "auth type");
        a.type = *type;
        want(a.type == AuthenticatorType::totp ? 10 : 9);
        const auto alg = parse_totp_algorithm(fields_[3]);
        if (!alg)
            fail(StateErrc::bad_value, "auth algorithm");
        a.params.algorithm = *alg;
        a.params.digits = number<unsigned>(4, 8, 6);
        if (a.type == AuthenticatorType::totp)
            a.params.period = number<unsigned>(5, 3600, 1);
        else
            a.counter = number<std::uint64_t>(5, kMaxHotpCounter);
        if (version_ >= 3 && fields_[6].substr(0, kSealedPrefix.size()) == kSealedPrefix) {
            if (!valid_sealed_token(fields_[6]))
                fail(StateErrc::bad_value, "sealed secret");
            a.sealed = std::string(fields_[6]);
        } else if (!base32_decode(fields_[6], a.secret) || a.secret.size() < kMinSecretBytes
                   || a.secret.size() > kMaxSecretBytes) {
            fail(StateErrc::bad_base32);
        }
        a.enrolled_at = number<std::int64_t>(7);
        std::size_t next = 8;
        if (a.type == AuthenticatorType::totp) {
            if (fields_[next] != "-")
                a.last_step = number<std::uint64_t>(next);
            ++next;
        }
        if (fields_[next] != "-")
            a.last_used = number<std::int64_t>(next, std::numeric_limits<std::int64_t>::max(), 1);
        return a;
    }

    LastLogin parse_last_login()
    {
        // version 1: last-login AT METHOD SERVICE RHOST TTY
        // version 2: last-login AT METHOD AUTHENTICATOR|- SERVICE RHOST TTY
        const std::size_t shift = version_ == 1 ? 0 : 1;
        want(6 + shift);
        LastLogin l;
        l.at = number<std::int64_t>(1);
        if (fields_[2] == "totp")
            l.method = Method::totp;
        else if (fields_[2] == "backup_code")
            l.method = Method::backup_code;
        else if (fields_[2] == "hotp" && version_ >= 2)
            l.method = Method::hotp;
        else
            fail(StateErrc::bad_value, "last-login method");
        if (version_ == 1) {
            if (l.method == Method::totp)
                l.authenticator = kDefaultAuthenticator;
        } else if (fields_[3] != "-") {
            if (!valid_authenticator_name(fields_[3]))
                fail(StateErrc::bad_value, "last-login authenticator");
            l.authenticator = std::string(fields_[3]);
        }
        l.service = text_field(3 + shift);
        l.rhost = text_field(4 + shift);
        l.tty = text_field(5 + shift);
        return l;
    }

    BackupCodeSet parse_codes(std::size_t& expected)
    {
        // codes ISSUED_AT LENGTH LOG2_N R P SALT_HEX COUNT
        want(8);
        BackupCodeSet set;
        set.issued_at = number<std::int64_t>(1);
        set.length = number<unsigned>(2, kMaxBackupCodeLength, kMinBackupCodeLength);
        set.params.log2_n = number<unsigned>(3, 20, 10);
        set.params.r = number<std::uint32_t>(4, 32, 1);
        set.params.p = number<std::uint32_t>(5, 16, 1);
        if (!from_hex(fields_[6], set.salt.data(), set.salt.size()))
            fail(StateErrc::bad_value, "salt");
        expected = number<std::size_t>(7, kMaxBackupCodes, 1);
        set.slots.reserve(expected);
        return set;
    }

    CodeSlot parse_code()
    {
        // code HASH_HEX -            (unused)
        // code HASH_HEX AT SERVICE RHOST TTY
        CodeSlot slot;
        if (fields_.size() != 3 && fields_.size() != 6)
            fail(StateErrc::malformed_line, "code needs 2 or 5 fields");
        if (!from_hex(fields_[1], slot.hash.data(), slot.hash.size()))
            fail(StateErrc::bad_value, "code hash");
        if (fields_.size() == 3) {
            if (fields_[2] != "-")
                fail(StateErrc::bad_value, "code state");
            return slot;
        }
        CodeUse use;
        use.at = number<std::int64_t>(2);
        use.service = text_field(3);
        use.rhost = text_field(4);
        use.tty = text_field(5);
        slot.used = use;
        return slot;
    }

    Device parse_device()
    {
        // device ID_HEX FINGERPRINT ADDRESS FIRST_USED LAST_USED EXPIRES_AT
        want(7);
        Device d;
        if (!from_hex(fields_[1], d.id.data(), d.id.size()))
            fail(StateErrc::bad_value, "device id");
        d.fingerprint = text_field(2);
        d.address = text_field(3);
        if (d.fingerprint.empty() && d.address.empty())
            fail(StateErrc::missing_field, "device without fingerprint or address");
        d.first_used = number<std::int64_t>(4);
        d.last_used = number<std::int64_t>(5);
        d.expires_at = number<std::int64_t>(6);
        return d;
    }

    std::string_view rest_;
    int version_ = 0;
    std::vector<std::string_view> fields_;
    int line_no_ = 0;
};

void append(SecureChars& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

} // namespace

UserState parse_user_state(std::string_view text) { return Parser(text).parse(); }

SecureChars serialize_user_state(const UserState& st)
{
    SecureChars out;
    out.reserve(1024);
    const bool sealed = std::any_of(st.authenticators.begin(), st.authenticators.end(),
                                    [](const Authenticator& a) { return !a.sealed.empty(); });
    append(out,
           "twofactor-state " + std::to_string(sealed ? kSealedStateFormatVersion : kStateFormatVersion) + "\nuser ");
    append(out, st.user);
    append(out, "\n");
    for (const Authenticator& a : st.authenticators) {
        const bool totp = a.type == AuthenticatorType::totp;
        append(out,
               "auth " + a.name + " " + to_string(a.type) + " " + to_string(a.params.algorithm) + " "
                   + std::to_string(a.params.digits) + " "
                   + std::to_string(totp ? std::uint64_t{a.params.period} : a.counter) + " ");
        if (a.sealed.empty()) {
            const SecureChars b32 = base32_encode(a.secret);
            append(out, view(b32));
        } else {
            append(out, a.sealed);
        }
        append(out, " " + std::to_string(a.enrolled_at));
        if (totp)
            append(out, a.last_step ? " " + std::to_string(*a.last_step) : std::string(" -"));
        append(out, (a.last_used > 0 ? " " + std::to_string(a.last_used) : std::string(" -")) + "\n");
    }
    append(out, "failures " + std::to_string(st.failures) + " " + std::to_string(st.locked_until) + "\n");
    if (st.last_skew)
        append(out,
               "skew " + std::to_string(st.last_skew->at) + " "
                   + std::to_string(std::clamp(st.last_skew->seconds, -kMaxSkewRecord, kMaxSkewRecord)) + "\n");
    if (st.last_login) {
        const LastLogin& l = *st.last_login;
        append(out,
               "last-login " + std::to_string(l.at) + " " + to_string(l.method) + " "
                   + (l.authenticator.empty() ? std::string("-") : l.authenticator) + " " + encode_field(l.service)
                   + " " + encode_field(l.rhost) + " " + encode_field(l.tty) + "\n");
    }
    if (st.codes) {
        const BackupCodeSet& c = *st.codes;
        append(out,
               "codes " + std::to_string(c.issued_at) + " " + std::to_string(c.length) + " "
                   + std::to_string(c.params.log2_n) + " " + std::to_string(c.params.r) + " "
                   + std::to_string(c.params.p) + " " + to_hex(c.salt.data(), c.salt.size()) + " "
                   + std::to_string(c.slots.size()) + "\n");
        for (const CodeSlot& s : c.slots) {
            append(out, "code " + to_hex(s.hash.data(), s.hash.size()));
            if (s.used)
                append(out,
                       " " + std::to_string(s.used->at) + " " + encode_field(s.used->service) + " "
                           + encode_field(s.used->rhost) + " " + encode_field(s.used->tty) + "\n");
            else
                append(out, " -\n");
        }
    }
    for (const Device& d : st.devices)
        append(out,
               "device " + to_hex(d.id.data(), d.id.size()) + " " + encode_field(d.fingerprint) + " "
                   + encode_field(d.address) + " " + std::to_string(d.first_used) + " " + std::to_string(d.last_used)
                   + " " + std::to_string(d.expires_at) + "\n");
    append(out, "end\n");
    return out;
}

} // namespace twofactor
