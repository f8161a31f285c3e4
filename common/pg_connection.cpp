#include "pg_connection.hpp"

#include "read_whole.hpp"
#include "unique_fd.hpp"

#include "libpq.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
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

bool has(const std::vector<const char*>& keywords, const char* keyword)
{
    return std::any_of(keywords.begin(), keywords.end(),
                       [&](const char* k) { return k != nullptr && std::strcmp(k, keyword) == 0; });
}

// libpq fills every parameter the connection string leaves out from a PG*
// environment variable. In a setuid program (su, sudo, the self-service
// command) the caller chooses the environment, and PGHOST pointing at a
// server of theirs would decide their logins. So a PG* variable that libpq
// would use is refused, not used: settings belong in pg_conninfo.
void refuse_environment(const std::vector<const char*>& keywords)
{
    PQconninfoOption* defaults = pq().PQconndefaults();
    if (defaults == nullptr)
        throw StoreError(StoreErrc::io, "PostgreSQL: out of memory");
    std::string offending;
    for (const PQconninfoOption* o = defaults; o->keyword != nullptr; ++o) {
        if (o->envvar != nullptr && std::getenv(o->envvar) != nullptr && !has(keywords, o->keyword)) {
            offending = o->envvar;
            break;
        }
    }
    // Any other PG* variable is one this libpq may read in ways we have not
    // reviewed (refuse_libpq_own_environment lists those we know).
    for (char** e = environ; offending.empty() && e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const std::string_view name = entry.substr(0, entry.find('='));
        if (name.size() <= 2 || name.substr(0, 2) != "PG"
            || !std::all_of(name.begin() + 2, name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
            continue;
        bool listed = false;
        for (const PQconninfoOption* o = defaults; !listed && o->keyword != nullptr; ++o)
            listed = o->envvar != nullptr && name == o->envvar;
        if (!listed)
            offending = std::string(name);
    }
    pq().PQconninfoFree(defaults);
    if (!offending.empty())
        throw StoreError(StoreErrc::io,
                         "PostgreSQL: the environment sets " + offending
                             + ", which libpq would use; refused (put settings in pg_conninfo)");
}

// libpq also reads these with getenv, outside the connection options, so
// pg_conninfo cannot override them: PGLOCALEDIR picks the message catalogs
// whose translations libpq uses as printf formats (in su or sudo, a format
// string the caller wrote), PGSYSCONFDIR and PGSERVICEFILE name files to
// read, PGDATESTYLE, PGTZ and PGGEQO are sent to the server. Refused before
// libpq is first called (it binds its catalogs on its first message).
void refuse_libpq_own_environment()
{
    for (const char* name : {"PGLOCALEDIR", "PGSYSCONFDIR", "PGSERVICEFILE", "PGDATESTYLE", "PGTZ", "PGGEQO"})
        if (std::getenv(name) != nullptr)
            throw StoreError(StoreErrc::io,
                             std::string("PostgreSQL: the environment sets ") + name
                                 + ", which libpq would use; refused");
}

bool unix_socket(std::string_view host) { return !host.empty() && (host.front() == '/' || host.front() == '@'); }
bool loopback(std::string_view host) { return host == "localhost" || host == "127.0.0.1" || host == "::1"; }

// Over TCP, libpq's default (sslmode=prefer) and require send the password
// to whoever answers: without TLS if the answer says so, and to any
// certificate. So a server reached over TCP must prove who it is
// (verify-full, or verify-ca), except on loopback when pg_conninfo says
// sslmode=disable by name. Unix sockets are checked by the kernel.
void require_verified_server(const std::string& hosts, const std::string& hostaddrs, const std::string& ssl_mode)
{
    if (ssl_mode == "verify-full" || ssl_mode == "verify-ca")
        return;
    std::vector<std::string> tcp;
    const auto each = [](const std::string& list, const auto& f) {
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = list.find(',', start);
            f(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
    };
    each(hosts, [&](const std::string& h) {
        if (!h.empty() && !unix_socket(h))
            tcp.push_back(h);
    });
    each(hostaddrs, [&](const std::string& a) {
        if (!a.empty())
            tcp.push_back(a); // hostaddr is always TCP
    });
    if (tcp.empty())
        return;
    const bool all_loopback = std::all_of(tcp.begin(), tcp.end(), [](const std::string& h) { return loopback(h); });
    if (all_loopback && ssl_mode == "disable")
        return;
    throw ConfigError("pg_conninfo: " + tcp.front()
                      + " is reached over TCP: needs sslmode=verify-full (or verify-ca) with sslrootcert=, or the"
                        " database password goes to whoever answers"
                      + (all_loopback ? " (on loopback, sslmode=disable if no TLS is meant)" : ""));
}

// Notice receiver: counts WARNINGs, drops the rest.
extern "C" void receive_notice(void* connection, const PGresult* notice)
{
    const char* severity = pq().PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != nullptr && std::strcmp(severity, "WARNING") == 0)
        static_cast<PgConnection*>(connection)->note_warning();
}

} // namespace

// ---- the connection ----

PgConnection::PgConnection(PgSettings settings) : settings_(std::move(settings))
{
    refuse_libpq_own_environment(); // before the first libpq call
    char* error = nullptr;
    PQconninfoOption* options = pq().PQconninfoParse(settings_.conninfo.c_str(), &error);
    if (options == nullptr) {
        const std::string message = error ? one_line(error) : "out of memory";
        pq().PQfreemem(error);
        throw ConfigError("pg_conninfo: " + message);
    }
    std::string ssl_mode, ssl_root_cert, hosts, hostaddrs;
    std::string refused;
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        // An empty value is no value: libpq would fill it from the
        // environment, which refuse_environment() then sees as unset here.
        if (o->val == nullptr || o->val[0] == '\0')
            continue;
        const std::string keyword = o->keyword;
        if (keyword.find("password") != std::string::npos) // password, sslpassword
            refused = "must not contain a password (use pg_password_file)";
        else if (keyword == "service")
            refused = "service= is not supported: libpq would read the service file from the caller's $HOME";
        else if (keyword == "connect_timeout")
            continue; // pg_timeout_seconds decides
        if (keyword == "sslmode")
            ssl_mode = o->val;
        if (keyword == "sslrootcert")
            ssl_root_cert = o->val;
        if (keyword == "host")
            hosts = o->val;
        if (keyword == "hostaddr")
            hostaddrs = o->val;
        parameters_.emplace_back(keyword, o->val);
    }
    pq().PQconninfoFree(options);
    if (!refused.empty())
        throw ConfigError("pg_conninfo: " + refused);
    if ((ssl_mode == "verify-ca" || ssl_mode == "verify-full") && ssl_root_cert.empty())
        throw ConfigError("pg_conninfo: sslmode=" + ssl_mode
                          + " needs sslrootcert= (libpq would read the CA from the caller's $HOME)");
    require_verified_server(hosts, hostaddrs, ssl_mode);
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
        // or a FATAL "terminating connection" shows up as a bad status.
        if (pq().PQstatus(conn_) == CONNECTION_OK && pq().PQtransactionStatus(conn_) == PQTRANS_IDLE
            && pq().PQconsumeInput(conn_) == 1 && pq().PQstatus(conn_) == CONNECTION_OK)
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
    // (a lock wait included) and a transaction left idle by a stopped client
    // end there too.
    // No JIT: on a fresh schema, before autovacuum's first ANALYZE, the
    // state query's estimates pass jit_above_cost, and compiling it costs
    // about 250 ms of a login for a query that runs in 0.1 ms.
    const std::string our_options = "-c statement_timeout=" + timeout_ms + " -c lock_timeout=" + timeout_ms
        + " -c idle_in_transaction_session_timeout=" + timeout_ms + " -c search_path=pg_catalog -c jit=off";

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
    if (pq().PQstatus(conn_) != CONNECTION_OK)
        connection_failed("cannot connect");
    pq().PQsetNoticeReceiver(conn_, receive_notice, this);
    if (pq().PQsetnonblocking(conn_, 1) != 0)
        connection_failed("cannot connect");
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

    std::optional<PgResult> last;
    std::optional<PgError> error;
    for (;;) {
        while (pq().PQisBusy(conn_) != 0) {
            wait_for(POLLIN, deadline);
            if (pq().PQconsumeInput(conn_) == 0)
                connection_failed("receive failed");
        }
        PGresult* raw = pq().PQgetResult(conn_);
        if (raw == nullptr)
            break;
        PgResult result(raw);
        const ExecStatusType status = pq().PQresultStatus(raw);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            last.reset();
            last.emplace(std::move(result));
            continue;
        }
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
    if (pq().PQstatus(conn_) != CONNECTION_OK) {
        if (error) {
            close();
            throw *error;
        }
        connection_failed("connection lost");
    }
    if (error)
        throw *error;
    if (!last)
        throw StoreError(StoreErrc::io, "PostgreSQL: no result");
    return std::move(*last);
}

// ---- transactions ----

PgTransaction::PgTransaction(PgConnection& connection, Deadline deadline) : connection_(connection), deadline_(deadline)
{
    connection_.exec("BEGIN", deadline_);
    active_ = true;
}

PgTransaction::~PgTransaction()
{
    if (!active_ || !connection_.is_open())
        return;
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
