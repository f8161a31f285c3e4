// libFuzzer target: the verifier's handling of typed codes. A fixed enrolled
// user (TOTP + 10 backup codes, scrypt log2_n=10) goes through a sequence of
// attempts taken from the input; after each one decide()'s verdict and the
// changed state must equal what an independent reference model of the
// documented rules expects (pam_twofactor(8): what is accepted, replays,
// LOCKOUT; docs/design.md, "Lockout"). In particular nothing is accepted
// that is not an unused issued code or a not-yet-used TOTP step inside the
// window, and a consumed code or step never comes back.
//
// Input: records separated by NUL bytes (a PAM answer cannot hold NUL), at
// most kMaxRecords. A record whose first byte is 0x01..0x05 is an operation,
// anything else is typed as is:
//   01 D TAIL     the TOTP code for step (now/30 + D%5 - 2), then TAIL
//   02 K M TAIL   issued code K%10 with the case of each letter flipped per
//                 bit of M, then TAIL
//   03 LO HI      let LO + 256*HI seconds pass
//   04 K          issued code K%10, derived for a set that has since been
//                 replaced (another salt): must never match
//   05 S|R|T      the login context (service, rhost, tty) for later attempts,
//                 split at '|': stored with a consumed code, must round-trip
// The state is also serialized and re-parsed after every attempt: what the
// verifier writes must always read back.
#include "backup_codes.hpp"
#include "codec.hpp"
#include "errors.hpp"
#include "fuzz_support.hpp"
#include "totp.hpp"
#include "user_state.hpp"
#include "verifier.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using namespace twofactor;

namespace {

constexpr std::int64_t kStart = 1800000000;
constexpr std::size_t kCodes = 10;
constexpr std::size_t kMaxRecords = 24;
constexpr std::size_t kMaxInput = 4096;
const ScryptParams kCost{10, 8, 1};

struct Fixture {
    SecureBytes secret = random_bytes(20);
    TotpParams params;
    IssuedCodes issued = generate_backup_codes(kCodes, 8, kCost, kStart);
    BackupCodeSet replaced; // the same codes' set before a reissue: another salt
    UserState state;
    VerifyPolicy policy;

    Fixture()
    {
        replaced = issued.set;
        replaced.salt[0] ^= 0x5a;
        state.user = "fuzz";
        state.authenticators = {TotpState{secret, params, kStart, std::nullopt}};
        state.codes = issued.set;
        policy.max_failures = 3;
        policy.lockout_seconds = 300;
        policy.window = 1;
    }
    std::string code(std::size_t k) const { return std::string(view(issued.codes[k % kCodes])); }
    std::string totp_at_step(std::uint64_t step) const
    {
        return std::string(view(totp_generate(secret, params, static_cast<std::int64_t>(step * params.period))));
    }
};

const Fixture& fixture()
{
    static const Fixture f;
    return f;
}

// scrypt is deterministic: remember what was derived to keep the fuzzer fast.
// The first derivation of each string still goes through the real code.
const SecureBytes& derive_cached(const BackupCodeSet& set, const SecureChars& normalized)
{
    static std::map<std::string, SecureBytes> cache;
    const std::string key = to_hex(set.salt.data(), set.salt.size()) + std::string(view(normalized));
    auto it = cache.find(key);
    if (it == cache.end()) {
        if (cache.size() > 20000)
            cache.clear();
        it = cache.emplace(key, derive_backup_code(set, normalized).key).first;
    }
    return it->second;
}

// The reference model: what those documents say should happen, written
// without the core's helpers (no trim_code, no normalize_backup_code, no match).
struct Model {
    std::array<bool, kCodes> used{};
    std::optional<std::uint64_t> last_step;
    unsigned failures = 0;
    std::int64_t locked_until = 0;
};

std::string_view model_trim(std::string_view s)
{
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && space(s.back()))
        s.remove_suffix(1);
    return s;
}

struct Expected {
    Verdict verdict = Verdict::wrong_code;
    std::optional<Method> method;
    std::optional<std::size_t> code;   // the backup code consumed
    std::optional<std::uint64_t> step; // the TOTP step consumed
    bool ambiguous = false;            // two window steps share this code
};

Expected model_expect(const Model& m, std::string_view typed, std::int64_t now, bool stale_set)
{
    const Fixture& f = fixture();
    Expected e;
    if (m.locked_until != 0 && now < m.locked_until) {
        e.verdict = Verdict::locked_out;
        return e;
    }
    const std::string_view t = model_trim(typed);

    bool all_digits = t.size() == f.params.digits;
    for (char c : t)
        all_digits = all_digits && c >= '0' && c <= '9';
    if (all_digits) {
        const std::uint64_t current = static_cast<std::uint64_t>(now) / f.params.period;
        std::vector<std::uint64_t> matches;
        for (std::uint64_t s = current - 1; s <= current + 1; ++s)
            if (f.totp_at_step(s) == t)
                matches.push_back(s);
        if (matches.size() > 1)
            e.ambiguous = true;
        if (matches.size() == 1 && (!m.last_step || matches[0] > *m.last_step)) {
            e.verdict = Verdict::accepted;
            e.method = Method::totp;
            e.step = matches[0];
            return e;
        }
        return e; // wrong or replayed
    }

    if (t.size() == 8 && !stale_set) {
        std::string upper(t);
        bool ok = true;
        for (char& c : upper) {
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
            ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
        }
        for (std::size_t k = 0; ok && k < kCodes; ++k)
            if (!m.used[k] && upper == f.code(k)) {
                e.verdict = Verdict::accepted;
                e.method = Method::backup_code;
                e.code = k;
                return e;
            }
    }
    return e;
}

void model_apply(Model& m, const Expected& e, std::int64_t now, const VerifyPolicy& policy)
{
    if (e.verdict == Verdict::locked_out)
        return;
    m.locked_until = 0;
    if (e.verdict == Verdict::accepted) {
        m.failures = 0;
        if (e.code)
            m.used[*e.code] = true;
        if (e.step)
            m.last_step = e.step;
        return;
    }
    m.failures += 1;
    if (m.failures >= policy.max_failures) {
        m.failures = 0;
        m.locked_until = now + policy.lockout_seconds;
    }
}

void check_against_model(const UserState& st, const VerifyResult& r, const Expected& e, const Model& m,
                         const LoginContext& context, std::int64_t now)
{
    FUZZ_CHECK(r.verdict == e.verdict);
    FUZZ_CHECK(r.method == e.method);
    FUZZ_CHECK(st.failures == m.failures);
    FUZZ_CHECK(st.locked_until == m.locked_until);
    FUZZ_CHECK(st.find("default") && st.find("default")->last_step == m.last_step);
    FUZZ_CHECK(st.codes && st.codes->slots.size() == kCodes);
    std::size_t unused = 0;
    for (std::size_t k = 0; k < kCodes; ++k) {
        FUZZ_CHECK(st.codes->slots[k].used.has_value() == m.used[k]);
        unused += m.used[k] ? 0 : 1;
    }
    if (e.verdict != Verdict::locked_out) {
        FUZZ_CHECK(r.codes_remaining == unused);
        FUZZ_CHECK(r.codes_total == kCodes);
    }
    if (e.verdict == Verdict::accepted) {
        FUZZ_CHECK(st.last_login && st.last_login->at == now && st.last_login->method == *e.method);
        FUZZ_CHECK(st.last_login->service == context.service && st.last_login->rhost == context.rhost
                   && st.last_login->tty == context.tty);
        if (e.code) {
            const CodeUse& use = *st.codes->slots[*e.code].used;
            FUZZ_CHECK(use.at == now && use.service == context.service && use.rhost == context.rhost
                       && use.tty == context.tty);
        }
    }
}

// The writer keeps at most 85 bytes of a service, remote host or tty (each
// byte may become %XX and a field is at most 256 bytes); PAM items can be
// longer. The audit record is truncated, the state must otherwise survive.
constexpr std::size_t kMaxTextBytes = 85;

std::string truncated(const std::string& s) { return s.substr(0, kMaxTextBytes); }

UserState as_written(UserState st)
{
    if (st.last_login) {
        st.last_login->service = truncated(st.last_login->service);
        st.last_login->rhost = truncated(st.last_login->rhost);
        st.last_login->tty = truncated(st.last_login->tty);
    }
    for (CodeSlot& slot : st.codes->slots)
        if (slot.used) {
            slot.used->service = truncated(slot.used->service);
            slot.used->rhost = truncated(slot.used->rhost);
            slot.used->tty = truncated(slot.used->tty);
        }
    return st;
}

// What the verifier writes must read back: a state the parser refused would
// lock the user out of the second factor (fail closed) for good.
void check_round_trip(const UserState& st)
{
    const SecureChars text = serialize_user_state(st);
    UserState again;
    try {
        again = parse_user_state(view(text));
    } catch (const StateFormatError& e) {
        std::fprintf(stderr, "state written after an attempt does not parse: %s\n", e.what());
        std::abort();
    }
    FUZZ_CHECK(fuzz::same_state(as_written(st), again));
}

std::string with_case(std::string code, unsigned char mask)
{
    for (std::size_t i = 0; i < code.size(); ++i)
        if (code[i] >= 'A' && code[i] <= 'Z' && ((mask >> (i % 8)) & 1) != 0)
            code[i] = static_cast<char>(code[i] - 'A' + 'a');
    return code;
}

std::vector<std::string_view> split_records(std::string_view input)
{
    std::vector<std::string_view> out;
    while (out.size() < kMaxRecords) {
        const auto nul = input.find('\0');
        out.push_back(input.substr(0, nul));
        if (nul == std::string_view::npos)
            break;
        input.remove_prefix(nul + 1);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > kMaxInput)
        return 0;
    const Fixture& f = fixture();
    UserState st = f.state;
    Model m;
    std::int64_t now = kStart;
    LoginContext context{"sshd", "203.0.113.5", "ssh"};

    for (const std::string_view rec : split_records({reinterpret_cast<const char*>(data), size})) {
        const auto byte
            = [&](std::size_t i) -> unsigned { return i < rec.size() ? static_cast<unsigned char>(rec[i]) : 0; };
        const auto tail = [&](std::size_t from) { return from < rec.size() ? rec.substr(from) : std::string_view{}; };
        std::string typed;
        bool stale = false;
        switch (rec.empty() ? 0 : byte(0)) {
        case 0x01: {
            const std::uint64_t step = static_cast<std::uint64_t>(now) / f.params.period + byte(1) % 5 - 2;
            typed = f.totp_at_step(step) + std::string(tail(2));
            break;
        }
        case 0x02:
            typed = with_case(f.code(byte(1)), static_cast<unsigned char>(byte(2))) + std::string(tail(3));
            break;
        case 0x03:
            now += byte(1) + 256 * byte(2);
            continue;
        case 0x04:
            typed = f.code(byte(1));
            stale = true;
            break;
        case 0x05: {
            std::string_view fields = tail(1);
            std::array<std::string, 3> parts;
            for (std::string& p : parts) {
                const auto bar = fields.find('|');
                p = std::string(fields.substr(0, bar));
                fields = bar == std::string_view::npos ? std::string_view{} : fields.substr(bar + 1);
            }
            context = LoginContext{parts[0], parts[1], parts[2]};
            continue;
        }
        default:
            typed = std::string(rec);
            break;
        }

        // What Verifier::verify does before the lock: derive the typed code
        // with the set's salt, if it is shaped like a backup code.
        std::optional<DerivedCode> derived;
        if (st.codes && st.codes->remaining() > 0) {
            if (const auto normalized = normalize_backup_code(typed, st.codes->length)) {
                const BackupCodeSet& set = stale ? f.replaced : *st.codes;
                derived = DerivedCode{set.salt, set.params, derive_cached(set, *normalized)};
            }
        }

        const Expected e = model_expect(m, typed, now, stale);
        const VerifyResult r = decide(st, typed, derived, now, f.policy, context);
        if (e.ambiguous)
            return 0; // two steps in the window share this code: either answer is right
        model_apply(m, e, now, f.policy);
        // A wrong code of a step minutes ahead is spent (common/clock_skew.hpp):
        // the step is the current one plus the reported offset in steps.
        if (r.verdict == Verdict::wrong_code && r.skew_seconds && *r.skew_seconds > 0) {
            const std::uint64_t spent = static_cast<std::uint64_t>(now) / f.params.period
                + static_cast<std::uint64_t>(*r.skew_seconds) / f.params.period;
            m.last_step = std::max(m.last_step.value_or(0), spent);
        }
        check_against_model(st, r, e, m, context, now);
        check_round_trip(st);
    }
    return 0;
}
