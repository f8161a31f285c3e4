// libpq, loaded when the PostgreSQL store is first used rather than linked:
// the module and the setuid tool with the default file store map none of
// libpq's ~25 shared objects (bench/RESULTS.md: that load was most of a
// login's cost, and it is code an attacker could reach). Call through the
// table: pq().PQstatus(conn).
#pragma once

#include <libpq-fe.h>

namespace twofactor {

// Every libpq function the core calls. A call to one not listed here does
// not link: the core has no libpq at link time.
#define TWOFACTOR_LIBPQ_FUNCTIONS(X)                                                                                   \
    X(PQclear)                                                                                                         \
    X(PQcmdStatus)                                                                                                     \
    X(PQcmdTuples)                                                                                                     \
    X(PQconndefaults)                                                                                                  \
    X(PQconnectdbParams)                                                                                               \
    X(PQconninfoFree)                                                                                                  \
    X(PQconninfoParse)                                                                                                 \
    X(PQconsumeInput)                                                                                                  \
    X(PQenterPipelineMode)                                                                                             \
    X(PQexitPipelineMode)                                                                                              \
    X(PQerrorMessage)                                                                                                  \
    X(PQfinish)                                                                                                        \
    X(PQflush)                                                                                                         \
    X(PQfname)                                                                                                         \
    X(PQfreemem)                                                                                                       \
    X(PQgetResult)                                                                                                     \
    X(PQgetisnull)                                                                                                     \
    X(PQgetlength)                                                                                                     \
    X(PQgetvalue)                                                                                                      \
    X(PQisBusy)                                                                                                        \
    X(PQnfields)                                                                                                       \
    X(PQntuples)                                                                                                       \
    X(PQpingParams)                                                                                                    \
    X(PQpipelineSync)                                                                                                  \
    X(PQresStatus)                                                                                                     \
    X(PQresultErrorField)                                                                                              \
    X(PQresultStatus)                                                                                                  \
    X(PQsendQuery)                                                                                                     \
    X(PQsendQueryParams)                                                                                               \
    X(PQsetNoticeReceiver)                                                                                             \
    X(PQsetnonblocking)                                                                                                \
    X(PQsocket)                                                                                                        \
    X(PQstatus)                                                                                                        \
    X(PQtransactionStatus)

struct Libpq {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` is a declarator here
#define TWOFACTOR_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
    TWOFACTOR_LIBPQ_FUNCTIONS(TWOFACTOR_LIBPQ_MEMBER)
#undef TWOFACTOR_LIBPQ_MEMBER
};

// The soname loaded (Debian package libpq5).
inline constexpr const char* kLibpqSoname = "libpq.so.5";

// Loads libpq on first use (and keeps it loaded: RTLD_NODELETE). Throws
// StoreError(io) naming the library if it or one of the functions is
// missing; a later call tries again.
const Libpq& pq();

} // namespace twofactor
