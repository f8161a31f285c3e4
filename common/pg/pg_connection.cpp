#include "pg_connection.hpp"

#include "pg_conninfo.hpp"
#include "read_whole.hpp"
#include "unique_fd.hpp"

#include "libpq.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace twofactor {

namespace {

constexpr std::size_t kMaxPasswordBytes = 1024;

// The password file is as sensitive as a state file: a regular file (not a
// symlink) owned by root or by us, with no permission for group or others.
SecureChars read_password_file(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) {
        const int err = errno;
        if (err == ELOOP)
            throw StoreError(StoreErrc::unsafe_file, "pg_password_file " + path + ": is a symlink");
        throw StoreError(StoreErrc::io, "pg_password_file " + path + ": " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw StoreError(StoreErrc::io, "pg_password_file " + path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw StoreError(StoreErrc::unsafe_file, "pg_password_file " + path + ": not a regular file");
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        throw StoreError(StoreErrc::unsafe_file,
                         "pg_password_file " + path + ": owned by uid " + std::to_string(st.st_uid));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        throw StoreError(StoreErrc::unsafe_file,
                         "pg_password_file " + path + ": readable or writable by group or others");
    if (st.st_size > static_cast<off_t>(kMaxPasswordBytes))
        throw StoreError(StoreErrc::unsafe_file,
                         "pg_password_file " + path + ": larger than " + std::to_string(kMaxPasswordBytes) + " bytes");
    WholeFile file = read_whole(fd.get(), static_cast<std::size_t>(st.st_size), kMaxPasswordBytes);
    if (file.error != 0)
        throw StoreError(StoreErrc::io, "pg_password_file " + path + ": " + std::strerror(file.error));
    if (file.too_large)
        throw StoreError(StoreErrc::unsafe_file, "pg_password_file " + path + ": too large");
    SecureChars& text = file.data;
    std::size_t used = text.size();
    // One line; its newline (and a CR before it) is not part of the password.
    if (used > 0 && text[used - 1] == '\n')
        --used;
    if (used > 0 && text[used - 1] == '\r')
        --used;
    const bool bad = std::any_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(used),
                                 [](char c) { return c == '\0' || c == '\n' || c == '\r'; });
    if (used == 0 || bad)
        throw StoreError(StoreErrc::corrupt, "pg_password_file " + path + ": must hold the password on one line");
    // Keep the buffer (wiped when freed) and terminate it in place.
    text.resize(used);
    text.push_back('\0');
    return std::move(text);
}

// Notice receiver: counts WARNINGs, drops the rest.
extern "C" void receive_notice(void* connection, const PGresult* notice)
{
    const char* severity = pq().PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != nullptr && std::strcmp(severity, "WARNING") == 0)
        static_cast<PgConnection*>(connection)->note_warning();
}

// After a failed connect: true if PQpingParams, with the same parameters
// but no password (an authentication request is an answer), reaches no
// server at all. Any other result (a server answered, or libpq could not
// even try) is false: the caller then denies as for any store error.
bool no_server_answers(const std::vector<const char*>& keywords, const std::vector<const char*>& values)
{
    std::vector<const char*> k, v;
    for (std::size_t i = 0; i < keywords.size() && keywords[i] != nullptr; ++i) {
        if (std::strcmp(keywords[i], "password") == 0)
            continue;
        k.push_back(keywords[i]);
        v.push_back(values[i]);
    }
    k.push_back(nullptr);
    v.push_back(nullptr);
    return pq().PQpingParams(k.data(), v.data(), 0) == PQPING_NO_RESPONSE;
}

} // namespace

// ---- the connection ----

PgConnection::PgConnection(PgSettings settings) : settings_(std::move(settings))
{
    refuse_libpq_own_environment(); // before the first libpq call
    parameters_ = vet_pg_conninfo(settings_.conninfo, settings_.origin);
}

PgConnection::~PgConnection() { close(); }

Deadline PgConnection::deadline() const
{
    return std::chrono::steady_clock::now() + std::chrono::seconds(settings_.timeout_seconds);
}

void PgConnection::close() noexcept
{
    if (conn_ != nullptr) {
        pq().PQfinish(conn_); // libpq wipes its copy of the password
        conn_ = nullptr;
    }
}

void PgConnection::connection_failed(const std::string& what)
{
    const std::string message = conn_ ? one_line(pq().PQerrorMessage(conn_)) : std::string("no connection");
    close();
    throw StoreError(StoreErrc::io, "PostgreSQL: " + what + ": " + message);
}

bool PgConnection::open()
{
    if (conn_ != nullptr) {
        // Reads whatever the server sent while we were idle: a closed socket
        // or a FATAL "terminating connection" shows up as a bad status. A
        // connection idle for half of idle_session_timeout is not reused:
        // the server could end it while our next statement is on its way.
        const auto idle = std::chrono::steady_clock::now() - last_answer_;
        if (idle < std::chrono::milliseconds(settings_.timeout_seconds * 500u) && pq().PQstatus(conn_) == CONNECTION_OK
            && pq().PQtransactionStatus(conn_) == PQTRANS_IDLE && pq().PQconsumeInput(conn_) == 1
            && pq().PQstatus(conn_) == CONNECTION_OK)
            return false;
        close();
    }

    const std::string timeout = std::to_string(settings_.timeout_seconds);
    const std::string timeout_ms = std::to_string(settings_.timeout_seconds * 1000u);
    // A commit is acknowledged only once flushed (and, with synchronous
    // standbys, once they have it): an accepted code must survive a crash.
    // pg_conninfo's options may ask for more (remote_apply): they come after.
    std::string user_options;
    // Server-side limits as well as our own, last so they win: a statement
    // (a lock wait included), and a session left idle by a stopped client,
    // in a transaction or not, end there too. The caller of su or of the
    // setuid tool may SIGSTOP it: sessions that never end would fill
    // max_connections, and then no host of the fleet could log anyone in.
    // No JIT: on a fresh schema, before autovacuum's first ANALYZE, the
    // state query's estimates pass jit_above_cost, and compiling it costs
    // about 250 ms of a login for a query that runs in 0.1 ms.
    const std::string our_options = "-c statement_timeout=" + timeout_ms + " -c lock_timeout=" + timeout_ms
        + " -c idle_in_transaction_session_timeout=" + timeout_ms + " -c idle_session_timeout=" + timeout_ms
        + " -c search_path=pg_catalog -c jit=off";

    std::vector<const char*> keywords, values;
    bool have_application_name = false, have_tcp_user_timeout = false, have_gssencmode = false;
    for (const auto& [keyword, value] : parameters_) {
        if (keyword == "options") {
            user_options = value + " ";
            continue;
        }
        have_application_name |= keyword == "application_name";
        have_tcp_user_timeout |= keyword == "tcp_user_timeout";
        have_gssencmode |= keyword == "gssencmode";
        keywords.push_back(keyword.c_str());
        values.push_back(value.c_str());
    }
    keywords.push_back("connect_timeout");
    values.push_back(timeout.c_str());
    const std::string server_options = "-c synchronous_commit=on " + user_options + our_options;
    keywords.push_back("options");
    values.push_back(server_options.c_str());
    if (!have_application_name) {
        keywords.push_back("application_name");
        values.push_back(settings_.application_name.c_str());
    }
    if (!have_tcp_user_timeout) { // ignored on Unix sockets
        keywords.push_back("tcp_user_timeout");
        values.push_back(timeout_ms.c_str());
    }
    if (!have_gssencmode) {
        // libpq's default (prefer) would open the Kerberos credential cache
        // that KRB5CCNAME names, as root, on every TCP connection: in su,
        // a file the caller chooses. Kerberos only where pg_conninfo asks.
        keywords.push_back("gssencmode");
        values.push_back("disable");
    }
    SecureChars password;
    if (!settings_.password_file.empty()) {
        password = read_password_file(settings_.password_file);
        keywords.push_back("password");
        values.push_back(password.data());
    }
    refuse_environment(keywords);
    keywords.push_back(nullptr);
    values.push_back(nullptr);

    conn_ = pq().PQconnectdbParams(keywords.data(), values.data(), 0);
    wipe(password.data(), password.size());
    if (conn_ == nullptr)
        throw StoreError(StoreErrc::io, "PostgreSQL: cannot connect: out of memory");
    if (pq().PQstatus(conn_) != CONNECTION_OK) {
        if (settings_.detect_unreachable && no_server_answers(keywords, values)) {
            const std::string message = one_line(pq().PQerrorMessage(conn_));
            close();
            throw PgUnreachable("PostgreSQL: no server answers: " + message);
        }
        connection_failed("cannot connect");
    }
    pq().PQsetNoticeReceiver(conn_, receive_notice, this);
    if (pq().PQsetnonblocking(conn_, 1) != 0)
        connection_failed("cannot connect");
    last_answer_ = std::chrono::steady_clock::now();
    return true;
}

void PgConnection::wait_for(short events, Deadline deadline)
{
    for (;;) {
        using std::chrono::milliseconds;
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{pq().PQsocket(conn_), events, 0};
        const int wait_ms = static_cast<int>(std::min<long long>(left.count(), 60000));
        const int n = left.count() > 0 ? ::poll(&p, 1, wait_ms) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            connection_failed(std::string("poll: ") + std::strerror(errno));
        if (n == 0) {
            if (std::chrono::steady_clock::now() < deadline)
                continue;
            close();
            throw StoreError(StoreErrc::io,
                             "PostgreSQL: no answer within " + std::to_string(settings_.timeout_seconds)
                                 + " s (pg_timeout_seconds)");
        }
        return;
    }
}

void PgConnection::flush(Deadline deadline)
{
    for (;;) {
        const int rc = pq().PQflush(conn_);
        if (rc == 0)
            return;
        if (rc < 0)
            connection_failed("send failed");
        wait_for(POLLIN | POLLOUT, deadline);
        if (pq().PQconsumeInput(conn_) == 0)
            connection_failed("receive failed");
    }
}

void PgConnection::await_result(Deadline deadline)
{
    while (pq().PQisBusy(conn_) != 0) {
        wait_for(POLLIN, deadline);
        if (pq().PQconsumeInput(conn_) == 0)
            connection_failed("receive failed");
    }
}

std::optional<PgResult> PgConnection::read_results(std::optional<PgError>& error, Deadline deadline)
{
    std::optional<PgResult> last;
    for (;;) {
        await_result(deadline);
        PGresult* raw = pq().PQgetResult(conn_);
        if (raw == nullptr)
            return last;
        PgResult result(raw);
        const ExecStatusType status = pq().PQresultStatus(raw);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            last.reset();
            last.emplace(std::move(result));
            continue;
        }
        if (status == PGRES_PIPELINE_ABORTED)
            continue; // skipped after an earlier statement's error
        if (!error) {
            // The primary message only: DETAIL may quote a row's values.
            const char* state = pq().PQresultErrorField(raw, PG_DIAG_SQLSTATE);
            const char* primary = pq().PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
            const std::string sqlstate = state ? state : "";
            error.emplace(sqlstate,
                          "PostgreSQL: " + (primary ? one_line(primary) : std::string(pq().PQresStatus(status)))
                              + (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
        }
    }
}

PgResult PgConnection::exec(const char* sql, const PgParams& params, Deadline deadline)
{
    if (conn_ == nullptr)
        throw StoreError(StoreErrc::io, "PostgreSQL: not connected");
    const int sent = params.size() == 0 ? pq().PQsendQuery(conn_, sql)
                                        : pq().PQsendQueryParams(conn_, sql, static_cast<int>(params.size()), nullptr,
                                                                 params.values(), nullptr, nullptr, 0);
    if (sent == 0)
        connection_failed("send failed");
    flush(deadline);

    std::optional<PgError> error;
    std::optional<PgResult> last = read_results(error, deadline);
    answered(pq().PQstatus(conn_) == CONNECTION_OK, error, !last);
    return std::move(*last);
}

void PgConnection::answered(bool connection_ok, const std::optional<PgError>& error, bool missing)
{
    if (!connection_ok) {
        if (error) {
            close();
            throw *error;
        }
        connection_failed("connection lost");
    }
    last_answer_ = std::chrono::steady_clock::now();
    if (error)
        throw *error;
    if (missing)
        throw StoreError(StoreErrc::io, "PostgreSQL: no result");
}

// ---- batches ----

PgParams& PgBatch::add(const char* sql) { return entries_.emplace_back(Entry{sql, {}}).params; }

void PgBatch::add_first(const char* sql) { entries_.emplace_front(Entry{sql, {}}); }

std::vector<PgResult> PgConnection::exec(const PgBatch& batch, Deadline deadline)
{
    if (conn_ == nullptr)
        throw StoreError(StoreErrc::io, "PostgreSQL: not connected");
    // One Sync after the last statement: the server runs them in order and,
    // after an error, skips the rest up to it (and an open transaction is
    // then aborted, as it would be one statement at a time).
    if (pq().PQenterPipelineMode(conn_) != 1)
        connection_failed("cannot send statements together");
    for (const PgBatch::Entry& e : batch.entries_)
        if (pq().PQsendQueryParams(conn_, e.sql, static_cast<int>(e.params.size()), nullptr, e.params.values(), nullptr,
                                   nullptr, 0)
            == 0)
            connection_failed("send failed");
    if (pq().PQpipelineSync(conn_) != 1)
        connection_failed("send failed");
    flush(deadline);

    std::vector<PgResult> results;
    results.reserve(batch.size());
    std::optional<PgError> error;
    bool missing = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        std::optional<PgResult> last = read_results(error, deadline);
        if (last)
            results.push_back(std::move(*last));
        else
            missing = true;
    }
    await_result(deadline);
    // The Sync's own result ends the batch: nothing is left to read.
    PGresult* raw = pq().PQgetResult(conn_);
    const bool synced = raw != nullptr && pq().PQresultStatus(raw) == PGRES_PIPELINE_SYNC;
    const PgResult sync(raw);
    answered(synced && pq().PQexitPipelineMode(conn_) == 1 && pq().PQstatus(conn_) == CONNECTION_OK, error, missing);
    return results;
}

// ---- transactions ----

PgTransaction::PgTransaction(PgConnection& connection, Deadline deadline) : connection_(connection), deadline_(deadline)
{
    connection_.exec("BEGIN", deadline_);
    active_ = true;
}

PgTransaction::PgTransaction(PgConnection& connection, Deadline deadline, PgBatch& first,
                             std::vector<PgResult>& results)
    : connection_(connection),
      deadline_(deadline)
{
    first.add_first("BEGIN");
    active_ = true;
    std::vector<PgResult> all;
    try {
        all = connection_.exec(first, deadline_);
    } catch (...) {
        roll_back();
        throw;
    }
    results.clear();
    for (std::size_t i = 1; i < all.size(); ++i)
        results.push_back(std::move(all[i]));
}

PgTransaction::~PgTransaction() { roll_back(); }

void PgTransaction::roll_back() noexcept
{
    if (!active_ || !connection_.is_open())
        return;
    active_ = false;
    try {
        connection_.exec("ROLLBACK", deadline_);
    } catch (...) {
        connection_.close(); // the server rolls back when the session ends
    }
}

void PgTransaction::commit()
{
    active_ = false;
    const unsigned warnings = connection_.warnings();
    std::optional<PgResult> result;
    try {
        result.emplace(connection_.exec("COMMIT", deadline_));
    } catch (const PgError&) {
        throw; // the server answered: not committed
    } catch (const StoreError& e) {
        throw StoreError(StoreErrc::io,
                         std::string(e.what()) + " (while committing: the change may or may not be stored)");
    }
    // COMMIT of a transaction that failed answers ROLLBACK, not an error.
    if (result->command_status() != "COMMIT")
        throw StoreError(StoreErrc::io, "PostgreSQL: the transaction was rolled back");
    // The one WARNING a COMMIT gives: its wait for a synchronous standby was
    // cancelled (statement_timeout, pg_cancel_backend). Committed here, maybe
    // not on the standby, so not something to accept a login on.
    if (connection_.warnings() != warnings)
        throw StoreError(StoreErrc::io,
                         "PostgreSQL: commit not confirmed by the synchronous standby "
                         "(the change may or may not survive a failover)");
}

} // namespace twofactor
