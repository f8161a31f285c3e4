#include "pg_conninfo.hpp"

#include "errors.hpp"
#include "pg_connection.hpp"
#include "system_trust.hpp"
#include "trusted_path.hpp"

#include "libpq.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace twofactor {

namespace {

// Where libpq looks when a file is not named: a path under /dev/null, which
// cannot exist (ENOTDIR, which libpq takes as "no such file" as it does
// ENOENT). Without it libpq 15 reads ~/.postgresql/root.crt, root.crl,
// postgresql.crt, postgresql.key and ~/.pgpass of the caller's $HOME.
constexpr const char* kNoFile = "/dev/null/twofactor-no-such-file";

// Every parameter that names a file or directory libpq reads.
constexpr const char* kFileKeywords[] = {"sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "passfile"};

std::vector<std::string> split_list(const std::string& list)
{
    std::vector<std::string> out;
    if (list.empty())
        return out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = list.find(',', start);
        out.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos)
            return out;
        start = comma + 1;
    }
}

// The server's OS user that requirepeer names, for the socket directories.
PathTrust peer_trust(const std::string& user)
{
    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
        return {{}, {}};
    return {{pw.pw_uid}, {pw.pw_gid}};
}

class Vetting {
public:
    explicit Vetting(const std::string& origin) : prefix_((origin.empty() ? "" : origin + ": ") + "pg_conninfo: ") {}

    [[noreturn]] void refuse(const std::string& why) const { throw ConfigError(prefix_ + why); }

    void parse(const std::string& conninfo)
    {
        char* error = nullptr;
        PQconninfoOption* options = pq().PQconninfoParse(conninfo.c_str(), &error);
        if (options == nullptr) {
            const std::string message = error ? one_line(error) : "out of memory";
            pq().PQfreemem(error);
            refuse(message);
        }
        for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
            // An empty value is no value: libpq would fill it from the
            // environment, which refuse_environment() then sees as unset here.
            if (o->val == nullptr || o->val[0] == '\0' || std::strcmp(o->keyword, "connect_timeout") == 0)
                continue; // pg_timeout_seconds decides the timeout
            given_.emplace_back(o->keyword, o->val);
        }
        pq().PQconninfoFree(options);
    }

    std::string value(const char* keyword) const
    {
        for (const auto& [k, v] : given_)
            if (k == keyword)
                return v;
        return "";
    }

    void refuse_secrets() const
    {
        for (const auto& [keyword, value] : given_) {
            if (keyword.find("password") != std::string::npos) // password, sslpassword
                refuse("must not contain a password (use pg_password_file)");
            if (keyword == "service")
                refuse("service= is not supported: libpq would read the service file from the caller's $HOME");
        }
        const std::string ssl_mode = value("sslmode");
        if ((ssl_mode == "verify-ca" || ssl_mode == "verify-full") && value("sslrootcert").empty())
            refuse("sslmode=" + ssl_mode + " needs sslrootcert= (libpq would read the CA from the caller's $HOME)");
    }

    // A file libpq reads as root decides whom it trusts (sslrootcert,
    // sslcrl) or what it sends (sslcert, sslkey, passfile): only root may
    // be able to change it. A relative path would be the caller's working
    // directory.
    void refuse_untrusted_files() const
    {
        for (const char* keyword : kFileKeywords) {
            const std::string path = value(keyword);
            if (path.empty())
                continue;
            if (const std::optional<std::string> why = untrusted_part(path, PathTrust{}))
                refuse(std::string(keyword) + "=" + path + ": " + *why
                       + " (a file libpq reads must be in a place only root can change)");
        }
        // Without sslkey, libpq would read the key of sslcert from $HOME.
        if (!value("sslcert").empty() && value("sslkey").empty())
            refuse("sslcert= needs sslkey= (libpq would read the key from the caller's $HOME)");
    }

    // Who answers: a server that proves it is the one meant, or the local
    // server's socket in a directory only root and its user can change,
    // accepted only from a process running as that user.
    void refuse_unverified_servers() const
    {
        const std::vector<std::string> hosts = split_list(value("host"));
        const std::vector<std::string> addresses = split_list(value("hostaddr"));
        const std::size_t n = std::max(hosts.size(), addresses.size());
        if (n == 0)
            refuse("names no server: give host= (for the local server: host=/var/run/postgresql "
                   "requirepeer=postgres)");
        std::vector<std::string> tcp, sockets;
        for (std::size_t i = 0; i < n; ++i) {
            const std::string host = i < hosts.size() ? hosts[i] : "";
            const std::string address = i < addresses.size() ? addresses[i] : "";
            if (!address.empty())
                tcp.push_back(address); // hostaddr is always TCP
            else if (host.empty())
                refuse("an empty host would be libpq's default socket directory: name it (host=/var/run/postgresql "
                       "requirepeer=postgres)");
            else if (host.front() == '@')
                refuse("host=" + host
                       + " is an abstract socket, which any local user can bind: use a socket "
                         "directory");
            else if (host.front() == '/')
                sockets.push_back(host);
            else
                tcp.push_back(host);
        }
        const std::string ssl_mode = value("sslmode");
        if (!tcp.empty() && ssl_mode != "verify-full" && ssl_mode != "verify-ca")
            refuse(tcp.front()
                   + " is reached over TCP: needs sslmode=verify-full with sslrootcert=, or the database password"
                     " goes to whoever answers (on loopback too: any local user can listen on the port while the"
                     " server is down)");
        if (!sockets.empty())
            refuse_untrusted_sockets(sockets);
    }

    // The kernel does not check who listens on a socket path: anyone who
    // can create the name (a socket directory others may write to, an
    // abstract name, which any local user can bind) answers the logins
    // while the server is down. requirepeer makes libpq check, before it
    // sends anything, that the process listening runs as the server's user
    // (SO_PEERCRED); the directories up to the socket must then be
    // changeable only by root and that user (and its group: Debian's
    // /var/run/postgresql is postgres:postgres 2775).
    void refuse_untrusted_sockets(const std::vector<std::string>& directories) const
    {
        const std::string peer = value("requirepeer");
        if (peer.empty())
            refuse("host=" + directories.front()
                   + " is a Unix socket: needs requirepeer= naming the server's OS user (requirepeer=postgres), or"
                     " a local user who binds the socket while the server is down answers every login");
        const PathTrust trust = peer_trust(peer);
        if (trust.owners.empty())
            refuse("requirepeer=" + peer + ": no such user");
        const std::string rule = " (only root and " + peer + " may be able to change a socket directory)";
        for (const std::string& directory : directories)
            if (const std::optional<std::string> why = untrusted_part(directory, trust))
                refuse(std::string("host=").append(directory).append(": ").append(*why).append(rule));
    }

    // verify-ca accepts any certificate its CA file vouches for, whatever
    // name it carries. A CA the system trusts (the public CAs of
    // /etc/ssl/certs, or one they issued) signs certificates for anyone who
    // owns a domain: such a file is safe only with verify-full.
    void refuse_public_ca() const
    {
        if (value("sslmode") != "verify-ca")
            return;
        const std::string root_cert = value("sslrootcert");
        std::string subject;
        try {
            subject = system_trusted_certificate(root_cert);
        } catch (const std::runtime_error& e) {
            refuse("sslrootcert=" + root_cert + ": " + e.what());
        }
        if (!subject.empty())
            refuse("sslmode=verify-ca with sslrootcert=" + root_cert + ", which holds " + one_line(subject)
                   + ", a CA the system trusts: it signs certificates for anyone, and verify-ca does not check the"
                     " name (use sslmode=verify-full, or a private CA)");
    }

    PgParameters parameters() const
    {
        PgParameters out = given_;
        for (const char* keyword : {"sslrootcert", "sslcert", "sslkey", "passfile"})
            if (value(keyword).empty())
                out.emplace_back(keyword, kNoFile);
        // libpq reads ~/.postgresql/root.crl only when neither is set. A
        // missing sslcrl next to a configured sslcrldir would switch the
        // directory off too (OpenSSL loads the file first and stops at its
        // failure), so a configured one is left alone.
        if (value("sslcrl").empty() && value("sslcrldir").empty()) {
            out.emplace_back("sslcrl", kNoFile);
            out.emplace_back("sslcrldir", kNoFile);
        }
        return out;
    }

private:
    std::string prefix_;
    PgParameters given_;
};

bool has(const std::vector<const char*>& keywords, const char* keyword)
{
    return std::any_of(keywords.begin(), keywords.end(),
                       [&](const char* k) { return k != nullptr && std::strcmp(k, keyword) == 0; });
}

} // namespace

PgParameters vet_pg_conninfo(const std::string& conninfo, const std::string& origin)
{
    Vetting v(origin);
    v.parse(conninfo);
    v.refuse_secrets();
    v.refuse_untrusted_files(); // before any of them is read
    v.refuse_unverified_servers();
    v.refuse_public_ca();
    return v.parameters();
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

// PGLOCALEDIR picks the message catalogs whose translations libpq uses as
// printf formats (in su or sudo, a format string the caller wrote),
// PGSYSCONFDIR and PGSERVICEFILE name files to read, PGDATESTYLE, PGTZ and
// PGGEQO are sent to the server.
void refuse_libpq_own_environment()
{
    for (const char* name : {"PGLOCALEDIR", "PGSYSCONFDIR", "PGSERVICEFILE", "PGDATESTYLE", "PGTZ", "PGGEQO"})
        if (std::getenv(name) != nullptr)
            throw StoreError(StoreErrc::io,
                             std::string("PostgreSQL: the environment sets ") + name
                                 + ", which libpq would use; refused");
}

} // namespace twofactor
