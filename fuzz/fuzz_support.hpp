// Shared by the fuzz targets: a check that aborts (so libFuzzer records the
// input as a crash) and a field-by-field equality of UserState, which has no
// operator== of its own.
#pragma once

#include "user_state.hpp"

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                              \
            std::abort();                                                                                              \
        }                                                                                                              \
    } while (0)

namespace twofactor::fuzz {

inline bool same_totp(const std::optional<TotpState>& a, const std::optional<TotpState>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    if (!a)
        return true;
    return a->secret == b->secret && a->params.algorithm == b->params.algorithm && a->params.digits == b->params.digits
        && a->params.period == b->params.period && a->enrolled_at == b->enrolled_at && a->last_step == b->last_step;
}

inline bool same_last_login(const std::optional<LastLogin>& a, const std::optional<LastLogin>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    if (!a)
        return true;
    return a->at == b->at && a->method == b->method && a->service == b->service && a->rhost == b->rhost
        && a->tty == b->tty;
}

inline bool same_state(const UserState& a, const UserState& b)
{
    return a.user == b.user && same_totp(a.totp, b.totp) && a.codes == b.codes && a.failures == b.failures
        && a.locked_until == b.locked_until && same_last_login(a.last_login, b.last_login);
}

} // namespace twofactor::fuzz
