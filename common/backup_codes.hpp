// One-time backup codes: generation, normalisation of what the user typed,
// and matching against a set. A set has one random salt and the scrypt
// parameters it was made with; matching costs one KDF evaluation whatever the
// number of codes, then a constant-time compare against every unused hash.
#pragma once

#include "crypto.hpp"
#include "secure_memory.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor {

inline constexpr std::size_t kSaltLength = 16;
inline constexpr unsigned kMaxBackupCodes = 100;
inline constexpr unsigned kMinBackupCodeLength = 8;
inline constexpr unsigned kMaxBackupCodeLength = 16;
inline constexpr char kBackupCodeAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// Where and when a code was used (never the code itself).
struct CodeUse {
    std::int64_t at = 0;
    std::string service;
    std::string rhost;
    std::string tty;
    bool operator==(const CodeUse& o) const
    {
        return at == o.at && service == o.service && rhost == o.rhost && tty == o.tty;
    }
};

struct CodeSlot {
    std::array<unsigned char, kDerivedKeyLength> hash{};
    std::optional<CodeUse> used;
    bool operator==(const CodeSlot& o) const { return hash == o.hash && used == o.used; }
};

struct BackupCodeSet {
    std::int64_t issued_at = 0;
    unsigned length = 8; // characters per code
    ScryptParams params;
    std::array<unsigned char, kSaltLength> salt{};
    // Wiped when freed, as the file they were read from: with the salt, a
    // hash lets an attacker search the code space offline.
    std::vector<CodeSlot, WipingAllocator<CodeSlot>> slots;

    std::size_t remaining() const;
    bool operator==(const BackupCodeSet& o) const
    {
        return issued_at == o.issued_at && length == o.length && params == o.params && salt == o.salt
            && slots == o.slots;
    }
};

struct IssuedCodes {
    BackupCodeSet set;
    std::vector<SecureChars> codes; // shown once, then wiped
};

// A fresh set: `count` distinct codes of `length` characters from
// kBackupCodeAlphabet, each character uniform (rejection sampling).
IssuedCodes generate_backup_codes(unsigned count, unsigned length, const ScryptParams& params, std::int64_t now);

// A set holding `codes` (each already in normal form, `length` characters
// of the alphabet, distinct), under a fresh salt: codes made elsewhere, such
// as another tool's scratch codes being imported. One KDF per code.
BackupCodeSet hash_backup_codes(const std::vector<SecureChars>& codes, unsigned length, const ScryptParams& params,
                                std::int64_t now);

// The blanks a typed code may carry around it (not inside), ignored.
inline bool is_code_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims surrounding whitespace and upper-cases. nullopt if what remains is
// not `length` characters of the alphabet.
std::optional<SecureChars> normalize_backup_code(std::string_view typed, unsigned length);

// The KDF output for a normalised code under a set's salt and parameters.
// Safe to compute without any lock: the set is identified by its salt.
struct DerivedCode {
    std::array<unsigned char, kSaltLength> salt{};
    ScryptParams params;
    SecureBytes key;
};
DerivedCode derive_backup_code(const BackupCodeSet& set, const SecureChars& normalized);

// Index of the unused slot whose hash equals `derived`, comparing against
// every unused slot in constant time; nullopt if none, or if `derived` was
// made for another set (salt or parameters differ).
std::optional<std::size_t> match_backup_code(const BackupCodeSet& set, const DerivedCode& derived);

} // namespace twofactor
