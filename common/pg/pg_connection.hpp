// One libpq connection with a deadline on every wait, for PgStateStore and
// the schema migrations. Every failure becomes a StoreError (StoreErrc::io
// unless said otherwise) with one line of text and no secret in it: libpq's
// multi-line messages are flattened, and only a server error's SQLSTATE and
// primary message are kept (its DETAIL can quote a failing row).
#pragma once

#include "errors.hpp"
#include "secure_memory.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pg_conn;
struct pg_result;

namespace twofactor {

using Deadline = std::chrono::steady_clock::time_point;

struct PgSettings {
    std::string conninfo;      // libpq keyword/value string or URI, without a password
    std::string origin;        // where conninfo was set ("FILE:LINE"), for its errors
    std::string password_file; // empty: no password (peer, cert, trust)
    unsigned timeout_seconds = 5;
    std::string application_name = "twofactor";
    // On a failed connect, ask libpq whether any server answered at all
    // (PgUnreachable if none did). Costs a second connect attempt, so only
    // for pg_unavailable = local.
    bool detect_unreachable = false;
};

// The connect failed and no server of pg_conninfo answered at all: libpq's
// PQpingParams, tried right after the failure, says PQPING_NO_RESPONSE
// (refused, timed out, no such host or socket, TLS handshake failed, on
// every host). A server that answered anything (an authentication request,
// an error with an SQLSTATE, "cannot connect now") is not unreachable.
// Thrown only with PgSettings::detect_unreachable; docs/fleet.md.
class PgUnreachable : public StoreError {
public:
    explicit PgUnreachable(const std::string& message) : StoreError(StoreErrc::io, message) {}
};

// A server error: the SQLSTATE lets callers tell "schema missing" (42P01)
// from "statement timeout" (57014) and the rest.
class PgError : public StoreError {
public:
    PgError(std::string sqlstate, const std::string& message)
        : StoreError(StoreErrc::io, message),
          sqlstate_(std::move(sqlstate))
    {
    }
    const std::string& sqlstate() const { return sqlstate_; }

private:
    std::string sqlstate_;
};

// Query parameters, all in text format. Values live as long as the Params;
// moving it keeps them where they are (deque elements stay put).
class PgParams {
public:
    PgParams() = default;
    PgParams(PgParams&&) = default;
    PgParams& operator=(PgParams&&) = default;
    PgParams(const PgParams&) = delete;
    PgParams& operator=(const PgParams&) = delete;

    PgParams& add(std::string_view text);
    PgParams& add(const std::string& text) { return add(std::string_view(text)); }
    PgParams& add(const char* text) { return add(std::string_view(text)); }
    PgParams& add(std::int64_t number);
    PgParams& add_null();
    PgParams& add_secret(const SecureChars& text); // copied into a wiping buffer

    std::size_t size() const { return values_.size(); }
    const char* const* values() const { return values_.data(); }

private:
    std::deque<std::string> text_;
    std::deque<SecureChars> secret_;
    std::vector<const char*> values_;
};

// Owns a PGresult; every value is wiped before the result is freed (a row
// can carry a TOTP secret). Accessors check the shape and throw
// StoreError(corrupt) for what the schema does not allow.
class PgResult {
public:
    explicit PgResult(pg_result* result) : result_(result) {}
    ~PgResult();
    PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
    PgResult& operator=(PgResult&&) = delete;
    PgResult(const PgResult&) = delete;
    PgResult& operator=(const PgResult&) = delete;

    int rows() const;
    int affected() const;                    // rows changed by INSERT / UPDATE / DELETE
    std::string_view command_status() const; // "COMMIT", "UPDATE 1", ...
    bool is_null(int row, int column) const;
    std::string_view text(int row, int column) const; // "" for NULL
    std::int64_t integer(int row, int column, std::int64_t min, std::int64_t max) const;

private:
    pg_result* result_;
};

// Statements sent to the server together, in one round trip (libpq's
// pipeline mode), and run there one after the other exactly as if sent one
// by one: each with its own snapshot, the first failure ending the rest.
class PgBatch {
public:
    // Adds a statement; its parameters, if any, are added to what this returns.
    PgParams& add(const char* sql);
    void add(const char* sql, PgParams params) { add(sql) = std::move(params); }
    void add_first(const char* sql); // before every other statement
    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }

private:
    friend class PgConnection;
    struct Entry {
        const char* sql;
        PgParams params;
    };
    std::deque<Entry> entries_;
};

class PgConnection {
public:
    // Parses the conninfo; throws ConfigError "ORIGIN: pg_conninfo: why" if
    // it is malformed or unsafe (vet_pg_conninfo).
    explicit PgConnection(PgSettings settings);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    const PgSettings& settings() const { return settings_; }
    Deadline deadline() const;

    // Connects unless a live connection is open; true if it made a new one.
    // A connection the server has closed since the last call (a restart
    // while the user typed a code), or one idle long enough that the
    // server's idle_session_timeout may end it any moment, is replaced.
    bool open();
    bool is_open() const { return conn_ != nullptr; }
    // Closes the connection; an open transaction is rolled back by the server.
    void close() noexcept;

    // Runs one statement (or, without parameters, a script) and waits at most
    // until `deadline`. On a timeout or a broken connection the connection is
    // closed, so nothing half-done is reused.
    PgResult exec(const char* sql, const PgParams& params, Deadline deadline);
    PgResult exec(const char* sql, Deadline deadline) { return exec(sql, PgParams{}, deadline); }
    // Runs the batch's statements (in one round trip) and returns their
    // results in order; the first that fails throws its error, as exec()
    // would have, once the others (skipped by the server) are read.
    std::vector<PgResult> exec(const PgBatch& batch, Deadline deadline);

    // Server WARNINGs received so far on this connection (notices are
    // otherwise dropped: libpq would print them on the host's stderr).
    unsigned warnings() const { return warnings_; }
    void note_warning() { ++warnings_; } // for the notice receiver

private:
    [[noreturn]] void connection_failed(const std::string& what);
    void flush(Deadline deadline);
    void wait_for(short events, Deadline deadline);
    // Waits until PQgetResult will not block.
    void await_result(Deadline deadline);
    // Reads one statement's results up to PQgetResult's nullptr: the last
    // that succeeded, or the first error (the server's primary message).
    std::optional<PgResult> read_results(std::optional<PgError>& error, Deadline deadline);
    // After the results are read: throws what went wrong (the connection
    // lost, closed; a server error; no result), or notes the answer.
    void answered(bool connection_ok, const std::optional<PgError>& error, bool missing);

    PgSettings settings_;
    std::vector<std::pair<std::string, std::string>> parameters_; // vet_pg_conninfo's
    pg_conn* conn_ = nullptr;
    std::chrono::steady_clock::time_point last_answer_; // the server's last word on conn_
    unsigned warnings_ = 0;
};

// BEGIN ... COMMIT; the destructor rolls back what was not committed (or
// closes the connection if even that fails). A COMMIT that gets no answer
// leaves the outcome unknown: the error says so, and the caller must treat
// the change as possibly made (a login is denied; a code may be spent).
class PgTransaction {
public:
    PgTransaction(PgConnection& connection, Deadline deadline);
    // BEGIN sent with the transaction's first statements, in one round
    // trip: their results (BEGIN's left out) go to `results`.
    PgTransaction(PgConnection& connection, Deadline deadline, PgBatch& first, std::vector<PgResult>& results);
    ~PgTransaction();
    PgTransaction(const PgTransaction&) = delete;
    PgTransaction& operator=(const PgTransaction&) = delete;

    void commit();

private:
    void roll_back() noexcept;

    PgConnection& connection_;
    Deadline deadline_;
    bool active_ = false;
};

// Flattens libpq text to one printable line of bounded length.
std::string one_line(std::string_view text);

} // namespace twofactor
