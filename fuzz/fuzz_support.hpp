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

inline bool same_authenticators(const std::vector<Authenticator>& a, const std::vector<Authenticator>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const Authenticator& x = a[i];
        const Authenticator& y = b[i];
        if (!(x.secret == y.secret && x.sealed == y.sealed && x.params.algorithm == y.params.algorithm
              && x.params.digits == y.params.digits && x.params.period == y.params.period
              && x.enrolled_at == y.enrolled_at && x.last_step == y.last_step && x.name == y.name && x.type == y.type
              && x.counter == y.counter && x.last_used == y.last_used))
            return false;
    }
    return true;
}

inline bool same_last_login(const std::optional<LastLogin>& a, const std::optional<LastLogin>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    if (!a)
        return true;
    return a->at == b->at && a->method == b->method && a->service == b->service && a->rhost == b->rhost
        && a->tty == b->tty && a->authenticator == b->authenticator;
}

inline bool same_state(const UserState& a, const UserState& b)
{
    return a.user == b.user && same_authenticators(a.authenticators, b.authenticators) && a.codes == b.codes
        && a.failures == b.failures && a.locked_until == b.locked_until && same_last_login(a.last_login, b.last_login);
}

} // namespace twofactor::fuzz
