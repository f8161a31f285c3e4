#include "state_compare.hpp"

#include "crypto.hpp"

#include <algorithm>

namespace twofactor {

bool same_totp_key(const TotpState& a, const TotpState& b)
{
    return a.name == b.name && a.type == b.type && a.params.algorithm == b.params.algorithm
        && a.params.digits == b.params.digits && a.params.period == b.params.period && a.enrolled_at == b.enrolled_at
        && a.secret.size() == b.secret.size() && ct_equal(a.secret.data(), b.secret.data(), a.secret.size());
}

bool same_code_set(const BackupCodeSet& a, const BackupCodeSet& b)
{
    if (a.issued_at != b.issued_at || a.length != b.length || !(a.params == b.params) || a.salt != b.salt
        || a.slots.size() != b.slots.size())
        return false;
    for (std::size_t i = 0; i < a.slots.size(); ++i)
        if (a.slots[i].hash != b.slots[i].hash)
            return false;
    return true;
}

bool same_second_factor(const std::optional<UserState>& a, const std::optional<UserState>& b)
{
    // Pointers, not copies: a copy of the secret is one more to wipe.
    static const std::vector<Authenticator> none;
    const std::vector<Authenticator>& aa = a ? a->authenticators : none;
    const std::vector<Authenticator>& ab = b ? b->authenticators : none;
    const BackupCodeSet* ca = a && a->codes ? &*a->codes : nullptr;
    const BackupCodeSet* cb = b && b->codes ? &*b->codes : nullptr;
    if (aa.size() != ab.size())
        return false;
    for (std::size_t i = 0; i < aa.size(); ++i)
        if (!same_totp_key(aa[i], ab[i]))
            return false;
    return (ca == nullptr) == (cb == nullptr) && (ca == nullptr || same_code_set(*ca, *cb));
}

bool same_state(const UserState& a, const UserState& b)
{
    // The serialisation is canonical: equal text, equal state. Secrets are
    // compared in clear: how a store sealed them is not the state.
    const auto in_clear = [](UserState s) {
        for (Authenticator& au : s.authenticators)
            au.sealed.clear();
        return s;
    };
    const SecureChars x = serialize_user_state(in_clear(a));
    const SecureChars y = serialize_user_state(in_clear(b));
    return view(x) == view(y);
}

UserState keep_spent(const UserState& incoming, const UserState& existing)
{
    UserState out = incoming;
    if (out.codes && existing.codes && same_code_set(*out.codes, *existing.codes)) {
        for (std::size_t i = 0; i < out.codes->slots.size(); ++i)
            if (!out.codes->slots[i].used && existing.codes->slots[i].used)
                out.codes->slots[i].used = existing.codes->slots[i].used;
    }
    for (Authenticator& mine : out.authenticators) {
        const Authenticator* theirs = existing.find(mine.name);
        if (!theirs || !same_totp_key(mine, *theirs))
            continue;
        if (theirs->last_step)
            mine.last_step = std::max(mine.last_step.value_or(0), *theirs->last_step);
        mine.counter = std::max(mine.counter, theirs->counter);
        mine.last_used = std::max(mine.last_used, theirs->last_used);
    }
    // Nor can an overwrite end a lockout or forget failures toward one: the
    // stricter side wins (twofactor-admin unlock is the way to clear them).
    out.locked_until = std::max(out.locked_until, existing.locked_until);
    out.failures = std::max(out.failures, existing.failures);
    return out;
}

} // namespace twofactor
