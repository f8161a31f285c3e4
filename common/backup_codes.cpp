#include "backup_codes.hpp"

#include "errors.hpp"

#include <algorithm>
#include <cctype>

namespace twofactor {

std::size_t BackupCodeSet::remaining() const
{
    return static_cast<std::size_t>(
        std::count_if(slots.begin(), slots.end(), [](const CodeSlot& s) { return !s.used.has_value(); }));
}

namespace {

SecureChars random_code(unsigned length)
{
    constexpr unsigned alphabet_size = sizeof(kBackupCodeAlphabet) - 1;
    SecureChars code;
    code.reserve(length);
    for (unsigned i = 0; i < length; ++i)
        code.push_back(kBackupCodeAlphabet[random_below(alphabet_size)]);
    return code;
}

} // namespace

IssuedCodes generate_backup_codes(unsigned count, unsigned length, const ScryptParams& params, std::int64_t now)
{
    if (count < 1 || count > kMaxBackupCodes || length < kMinBackupCodeLength || length > kMaxBackupCodeLength)
        throw CryptoError("backup code count or length out of range");
    IssuedCodes out;
    while (out.codes.size() < count) {
        SecureChars code = random_code(length);
        // Distinct codes: a duplicate would be one code counted twice.
        if (std::find(out.codes.begin(), out.codes.end(), code) != out.codes.end())
            continue;
        out.codes.push_back(std::move(code));
    }
    out.set = hash_backup_codes(out.codes, length, params, now);
    return out;
}

BackupCodeSet hash_backup_codes(const std::vector<SecureChars>& codes, unsigned length, const ScryptParams& params,
                                std::int64_t now)
{
    if (codes.empty() || codes.size() > kMaxBackupCodes || length < kMinBackupCodeLength
        || length > kMaxBackupCodeLength)
        throw CryptoError("backup code count or length out of range");
    BackupCodeSet set;
    set.issued_at = now;
    set.length = length;
    set.params = params;
    const SecureBytes salt = random_bytes(kSaltLength);
    std::copy(salt.begin(), salt.end(), set.salt.begin());
    for (const SecureChars& code : codes) {
        const auto normalized = normalize_backup_code(view(code), length);
        if (!normalized || *normalized != code)
            throw CryptoError("a backup code is not in normal form");
        const DerivedCode derived = derive_backup_code(set, code);
        CodeSlot slot;
        std::copy(derived.key.begin(), derived.key.end(), slot.hash.begin());
        set.slots.push_back(slot);
    }
    return set;
}

std::optional<SecureChars> normalize_backup_code(std::string_view typed, unsigned length)
{
    while (!typed.empty() && is_code_blank(typed.front()))
        typed.remove_prefix(1);
    while (!typed.empty() && is_code_blank(typed.back()))
        typed.remove_suffix(1);
    if (typed.size() != length)
        return std::nullopt;
    SecureChars out;
    out.reserve(length);
    for (char c : typed) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return std::nullopt;
        out.push_back(c);
    }
    return out;
}

DerivedCode derive_backup_code(const BackupCodeSet& set, const SecureChars& normalized)
{
    DerivedCode d;
    d.salt = set.salt;
    d.params = set.params;
    d.key = scrypt_derive(view(normalized), set.salt.data(), set.salt.size(), set.params);
    return d;
}

std::optional<std::size_t> match_backup_code(const BackupCodeSet& set, const DerivedCode& derived)
{
    if (derived.key.size() != kDerivedKeyLength || !(derived.params == set.params)
        || !ct_equal(derived.salt.data(), set.salt.data(), kSaltLength))
        return std::nullopt;
    // Visit every slot, used or not, so the time does not depend on which
    // slot matched or how many remain.
    std::size_t found = set.slots.size();
    for (std::size_t i = 0; i < set.slots.size(); ++i) {
        const bool equal = ct_equal(set.slots[i].hash.data(), derived.key.data(), kDerivedKeyLength);
        const bool unused = !set.slots[i].used.has_value();
        if (equal && unused)
            found = i;
    }
    if (found == set.slots.size())
        return std::nullopt;
    return found;
}

} // namespace twofactor
