#include "verifier.hpp"

#include "clock_skew.hpp"
#include "hotp.hpp"

#include <algorithm>

namespace twofactor {

const char* to_string(Verdict verdict)
{
    switch (verdict) {
    case Verdict::accepted:
        return "accepted";
    case Verdict::wrong_code:
        return "wrong code";
    case Verdict::locked_out:
        return "locked out";
    case Verdict::not_enrolled:
        return "not enrolled";
    }
    return "unknown";
}

VerifyPolicy VerifyPolicy::from(const Config& config)
{
    VerifyPolicy p;
    p.window = config.window;
    p.hotp_window = config.hotp_window;
    p.max_failures = config.max_failures;
    p.lockout_seconds = config.lockout_seconds;
    p.totp = !config.no_totp;
    p.backup_codes = !config.no_backup_codes;
    p.decoy_kdf = config.scrypt;
    p.decoy_code_length = config.backup_code_length;
    p.remember_days = config.remember_days;
    p.max_devices = config.max_devices;
    return p;
}

std::string_view trim_code(std::string_view typed)
{
    while (!typed.empty() && is_code_blank(typed.front()))
        typed.remove_prefix(1);
    while (!typed.empty() && is_code_blank(typed.back()))
        typed.remove_suffix(1);
    return typed;
}

namespace {

// One throwaway KDF evaluation at the configured cost, under a random salt.
void run_decoy_kdf(const VerifyPolicy& policy, std::string_view typed)
{
    if (!policy.decoy_kdf)
        return;
    if (const auto normalized = normalize_backup_code(typed, policy.decoy_code_length)) {
        const SecureBytes salt = random_bytes(kSaltLength);
        (void)scrypt_derive(view(*normalized), salt.data(), salt.size(), *policy.decoy_kdf);
    }
}

bool is_locked(const UserState& state, std::int64_t now) { return state.locked_until != 0 && now < state.locked_until; }

void fill_counts(VerifyResult& r, const UserState& state)
{
    if (state.codes) {
        r.codes_remaining = state.codes->remaining();
        r.codes_total = state.codes->slots.size();
    }
}

// Tries the code against every authenticator, in the state's order. Each one
// is computed whatever the others gave (no early exit), so the time taken
// depends on how many authenticators there are and of which kind, not on
// which one matched; the first that matches accepts, and only its step or
// counter moves. A TOTP step already spent on that authenticator is refused
// (replayed); an HOTP code before the stored counter is never looked at.
std::optional<Method> try_authenticators(UserState& state, std::string_view code, std::int64_t now,
                                         const VerifyPolicy& policy, VerifyResult& result)
{
    if (!policy.totp)
        return std::nullopt;
    std::optional<std::size_t> accepted;
    std::uint64_t matched = 0;
    for (std::size_t i = 0; i < state.authenticators.size(); ++i) {
        const Authenticator& a = state.authenticators[i];
        if (!looks_like_totp(code, a.params))
            continue;
        std::optional<std::uint64_t> found;
        if (a.type == AuthenticatorType::totp) {
            found = totp_verify(a.secret, a.params, now, policy.window, code);
            if (found && a.last_step && *found <= *a.last_step) {
                result.replayed = true;
                found.reset();
            }
        } else {
            found = hotp_find(a.secret, a.params, a.counter, policy.hotp_window, code);
        }
        if (found && !accepted) {
            accepted = i;
            matched = *found;
        }
    }
    if (!accepted)
        return std::nullopt;
    Authenticator& a = state.authenticators[*accepted];
    if (a.type == AuthenticatorType::totp)
        a.last_step = matched;
    else
        a.counter = matched + 1;
    a.last_used = now;
    result.replayed = false;
    result.authenticator = a.name;
    return a.type == AuthenticatorType::totp ? Method::totp : Method::hotp;
}

// A wrong TOTP-shaped code: does it belong to a step a few minutes away?
// Then the device's clock is off; the state keeps the last skew seen
// (twofactor-admin list). A code of a later step is spent as if used: the
// user is told it is "N minutes ahead", which must not tell anyone a code
// that would work N minutes from now.
void note_clock_skew(UserState& state, std::string_view code, std::int64_t now, const VerifyPolicy& policy,
                     VerifyResult& result)
{
    if (!policy.totp || result.replayed)
        return;
    // Every TOTP authenticator is searched (no early exit, as when
    // verifying); the first in the state's order that matches is reported.
    Authenticator* skewed = nullptr;
    std::optional<ClockSkew> skew;
    for (Authenticator& a : state.authenticators) {
        if (a.type != AuthenticatorType::totp || !looks_like_totp(code, a.params))
            continue;
        const std::optional<ClockSkew> found = find_clock_skew(a.secret, a.params, now, policy.window, code);
        if (found && !skew) {
            skew = found;
            skewed = &a;
        }
    }
    if (!skew)
        return;
    result.skew_seconds = skew->seconds;
    state.last_skew = SkewSeen{now, skew->seconds};
    if (skew->seconds > 0)
        skewed->last_step = std::max(skewed->last_step.value_or(0), skew->step);
}

// One more consecutive failure; the last one allowed starts a lockout.
void count_failure(UserState& state, std::int64_t now, const VerifyPolicy& policy, VerifyResult& result)
{
    state.failures += 1;
    if (state.failures >= policy.max_failures) {
        state.failures = 0;
        state.locked_until = now + policy.lockout_seconds;
        result.lockout_started = true;
        result.locked_until = state.locked_until;
    }
}

bool try_backup_code(UserState& state, const std::optional<DerivedCode>& derived, std::int64_t now,
                     const VerifyPolicy& policy, const LoginContext& context)
{
    if (!policy.backup_codes || !state.codes || !derived)
        return false;
    const std::optional<std::size_t> slot = match_backup_code(*state.codes, *derived);
    if (!slot)
        return false;
    state.codes->slots[*slot].used = CodeUse{now, context.service, context.rhost, context.tty};
    return true;
}

} // namespace

VerifyResult decide(UserState& state, std::string_view typed, const std::optional<DerivedCode>& derived,
                    std::int64_t now, const VerifyPolicy& policy, const LoginContext& context)
{
    VerifyResult result;
    if (!state.enrolled() && !policy.count_unenrolled) {
        result.verdict = Verdict::not_enrolled;
        return result;
    }
    if (is_locked(state, now)) {
        result.verdict = Verdict::locked_out;
        result.locked_until = state.locked_until;
        return result;
    }
    state.locked_until = 0;                   // an expired lockout is over
    drop_expired_devices(state.devices, now); // whatever is written next leaves them out
    if (!state.enrolled()) {
        result.verdict = Verdict::not_enrolled;
        count_failure(state, now, policy, result);
        return result;
    }

    const std::string_view code = trim_code(typed);
    std::optional<Method> method = try_authenticators(state, code, now, policy, result);
    if (!method && try_backup_code(state, derived, now, policy, context))
        method = Method::backup_code;

    fill_counts(result, state);
    if (method) {
        result.verdict = Verdict::accepted;
        result.method = method;
        state.failures = 0;
        state.last_login = LastLogin{now, *method, context.service, context.rhost, context.tty, result.authenticator};
        if (context.device && policy.remember_days > 0) {
            remember_device(state.devices, *context.device, now, policy.remember_days, policy.max_devices);
            result.remembered = short_id(context.device->id);
        }
        return result;
    }
    result.verdict = Verdict::wrong_code;
    note_clock_skew(state, code, now, policy, result);
    count_failure(state, now, policy, result);
    return result;
}

VerifyResult Verifier::verify(const std::string& user, std::string_view typed, const LoginContext& context)
{
    return verify(user, typed, context, store_.load(user));
}

VerifyResult Verifier::verify(const std::string& user, std::string_view typed, const LoginContext& context,
                              const std::optional<UserState>& snapshot)
{
    const std::int64_t now = clock_.now();
    const bool enrolled = snapshot && snapshot->enrolled();
    // Outside the lock: run the KDF for the snapshot's set, so simultaneous
    // logins never queue behind each other's scrypt.
    if (!enrolled && !policy_.count_unenrolled) {
        run_decoy_kdf(policy_, typed);
        VerifyResult r;
        r.verdict = Verdict::not_enrolled;
        return r;
    }
    // Counted or not, a locked user costs no KDF and no write.
    if (snapshot && is_locked(*snapshot, now)) {
        VerifyResult r;
        r.verdict = Verdict::locked_out;
        r.locked_until = snapshot->locked_until;
        return r;
    }

    std::optional<DerivedCode> derived;
    if (enrolled && policy_.backup_codes && snapshot->codes && snapshot->codes->remaining() > 0) {
        if (const auto normalized = normalize_backup_code(typed, snapshot->codes->length))
            derived = derive_backup_code(*snapshot->codes, *normalized);
    } else {
        run_decoy_kdf(policy_, typed);
    }

    VerifyResult result;
    store_.update(user, [&](std::optional<UserState>& state) {
        if (!state) {
            if (!policy_.count_unenrolled) {
                result.verdict = Verdict::not_enrolled;
                return false;
            }
            state.emplace(); // the failure count alone: still not enrolled
            state->user = user;
        }
        // If the set was replaced since the snapshot, match_backup_code sees
        // another salt and refuses: the code was typed for the old set.
        result = decide(*state, typed, derived, now, policy_, context);
        const bool counted = result.verdict != Verdict::not_enrolled || policy_.count_unenrolled;
        return result.verdict != Verdict::locked_out && counted;
    });
    return result;
}

} // namespace twofactor
