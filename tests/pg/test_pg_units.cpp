// The PostgreSQL store's parts that need no server: the text encoding of
// PAM's free-text fields, the refusals of unsafe connection settings (a
// password or service in pg_conninfo, verify-full without a CA, files libpq
// reads in a place others can change, socket hosts without requirepeer or
// in such a place, verify-ca with a public CA, an unsafe password file, PG*
// variables libpq would use) and where they name the setting, fail-closed
// connection errors without secrets in them, and the state merge that keeps
// spent codes spent (migrate --force).
#include "crypto.hpp"
#include "errors.hpp"
#include "fallback_store.hpp"
#include "file_state_store.hpp"
#include "pg_connection.hpp"
#include "pg_conninfo.hpp"
#include "pg_state_rows.hpp"
#include "pg_state_store.hpp"
#include "state_compare.hpp"

#include "cmocka_cxx.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace twofactor;

namespace {

constexpr ScryptParams kFast{10, 1, 1};

struct TempDir {
    std::string path;
    TempDir()
    {
        char tmpl[] = "/tmp/tf-pg-unit.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::string write(const std::string& name, const std::string& text, mode_t mode)
    {
        const std::string p = path + "/" + name;
        std::ofstream(p) << text;
        ::chmod(p.c_str(), mode);
        return p;
    }
};

Config pg_config(const std::string& conninfo, const std::string& password_file = "")
{
    Config c;
    c.store = Config::Store::postgresql;
    c.pg_conninfo = conninfo;
    c.pg_password_file = password_file;
    c.pg_timeout_seconds = 2;
    return c;
}

template <typename E>
std::string error_of(const std::function<void()>& f)
{
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "(no error)";
}

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

void text_encoding_round_trips_every_byte(void** /*state*/)
{
    std::string all;
    for (int c = 0; c < 256; ++c)
        all.push_back(static_cast<char>(c));
    for (std::size_t start = 0; start < all.size(); start += 80) {
        const std::string part = all.substr(start, 80);
        const std::string encoded = encode_pg_text(part);
        for (unsigned char c : encoded)
            assert_true(c > 0x20 && c < 0x7f);
        assert_true(decode_pg_text(encoded) == part);
    }
    assert_string_equal(encode_pg_text("ssh 10%").c_str(), "ssh%2010%25");
    assert_string_equal(encode_pg_text("").c_str(), "");
    assert_int_equal(encode_pg_text(std::string(1000, 'a')).size(), 85); // capped as in a state file
    const std::string too_long(86, 'a');
    for (const char* bad : {"%", "%4", "%zz", "%2d", "a b", "caf\xc3\xa9", too_long.c_str()})
        assert_true(contains(error_of<StoreError>([&] { decode_pg_text(bad); }), "PostgreSQL"));
}

void conninfo_refusals(void** /*state*/)
{
    std::string e = error_of<ConfigError>([] { PgStateStore s(pg_config("postgresql://tf:hunter2@db.example/tf")); });
    assert_true(contains(e, "must not contain a password"));
    assert_false(contains(e, "hunter2"));
    e = error_of<ConfigError>([] { PgStateStore s(pg_config("service=fleet")); });
    assert_true(contains(e, "service="));
    e = error_of<ConfigError>([] { PgStateStore s(pg_config("host=db sslmode=verify-full")); });
    assert_true(contains(e, "sslrootcert"));
    e = error_of<ConfigError>([] { PgStateStore s(pg_config("host='unterminated")); });
    assert_true(contains(e, "pg_conninfo"));
    e = error_of<ConfigError>([] { PgStateStore s(pg_config("")); });
    assert_true(contains(e, "pg_conninfo is not set"));
    // Over TCP the server must prove who it is before the password goes, on
    // loopback too (while the server is down, anyone may listen on its port).
    for (const char* tcp :
         {"host=db.example.org dbname=x", "host=db sslmode=require", "host=db sslmode=prefer",
          "host=db sslmode=disable", "host=/run/postgresql hostaddr=192.0.2.1", "host=/run/postgresql,db2",
          "host=127.0.0.1", "host=::1 sslmode=allow", "postgresql://db.example.org/tf",
          "host=127.0.0.1 sslmode=disable", "host=localhost sslmode=disable", "hostaddr=127.0.0.1"}) {
        e = error_of<ConfigError>([&] { PgStateStore s(pg_config(tcp)); });
        if (!contains(e, "is reached over TCP: needs sslmode=verify-full"))
            fail_msg("%s: got '%s'", tcp, e.c_str());
    }
    // Fine, and nothing is connected yet.
    PgStateStore ok(pg_config("host=db sslmode=verify-full sslrootcert=/etc/ssl/certs/ca-certificates.crt"));
    PgStateStore loopback(pg_config("host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=/etc/hosts"));
}

// verify-ca does not check the server's name: with a CA the system trusts
// (a public CA signs for anyone who owns a domain) it would accept anybody's
// certificate. Only a private CA will do.
void verify_ca_needs_a_private_ca(void** /*state*/)
{
    TempDir dir;
    const auto text_of = [](const std::string& path) {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string private_ca = text_of(std::string(TWOFACTOR_TEST_DATA) + "/private-ca.pem");
    assert_true(contains(private_ca, "BEGIN CERTIFICATE"));
    const auto refusal = [](const std::string& mode, const std::string& ca) {
        return error_of<ConfigError>(
            [&] { PgStateStore s(pg_config("host=db,db2 sslmode=" + mode + " sslrootcert=" + ca)); });
    };
    const std::string ours = dir.write("private-ca.pem", private_ca, 0644);
    assert_string_equal(refusal("verify-ca", ours).c_str(), "(no error)");
    int compared = 0;
    for (const char* system : {"/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ISRG_Root_X1.pem"}) {
        if (::access(system, R_OK) != 0)
            continue; // without ca-certificates the system trusts no CA
        ++compared;
        const std::string e = refusal("verify-ca", system);
        if (!contains(e, "a CA the system trusts: it signs certificates for anyone"))
            fail_msg("%s: got '%s'", system, e.c_str());
        assert_string_equal(refusal("verify-full", system).c_str(), "(no error)");
        // One public CA among private ones is enough to refuse.
        const std::string mixed = dir.write("mixed.pem", private_ca + text_of(system), 0644);
        assert_true(contains(refusal("verify-ca", mixed), "a CA the system trusts"));
    }
    if (compared == 0)
        print_message("no system CA bundle (ca-certificates): the refusal was not tried\n");
    assert_true(contains(refusal("verify-ca", dir.write("empty.pem", "", 0644)), "holds no PEM certificate"));
    assert_true(contains(refusal("verify-ca", dir.path + "/missing.pem"), "cannot read"));
}

// A Unix socket is answered by whoever listens on it: requirepeer names the
// server's OS user, and the directory must be one only root and that user
// can change.
void socket_hosts_need_requirepeer_and_a_safe_directory(void** /*state*/)
{
    TempDir dir;
    const auto refusal = [](const std::string& conninfo) {
        return error_of<ConfigError>([&] { PgStateStore s(pg_config(conninfo)); });
    };
    const auto expect_refused = [&](const std::string& conninfo, const std::string& why) {
        const std::string e = refusal(conninfo);
        if (!contains(e, why.c_str()))
            fail_msg("%s: got '%s'", conninfo.c_str(), e.c_str());
    };
    expect_refused("dbname=x", "names no server");
    expect_refused("host=,/run/postgresql requirepeer=root", "an empty host would be libpq's default socket");
    expect_refused("host=@pg requirepeer=root", "host=@pg is an abstract socket");
    expect_refused("host=" + dir.path + " dbname=x", "is a Unix socket: needs requirepeer=");
    expect_refused("host=" + dir.path + " requirepeer=no-such-user-here",
                   "requirepeer=no-such-user-here: no such user");
    const std::string open = dir.path + "/open";
    assert_int_equal(::mkdir(open.c_str(), 0700), 0);
    assert_int_equal(::chmod(open.c_str(), 01777), 0); // as /tmp
    expect_refused("host=" + open + " requirepeer=root", open + " is writable by group or others");
    expect_refused("host=/tmp requirepeer=root", "/tmp is writable by group or others");
    // A directory of root's inside a sticky one is fine (its name cannot be
    // taken over); so is the default socket directory of Debian.
    const std::string ours = open + "/ours";
    assert_int_equal(::mkdir(ours.c_str(), 0755), 0);
    assert_string_equal(refusal("host=" + ours + " requirepeer=root").c_str(), "(no error)");
    if (::getpwnam("postgres") != nullptr)
        assert_string_equal(refusal("host=/var/run/postgresql requirepeer=postgres").c_str(), "(no error)");
    if (::geteuid() == 0 && ::getpwnam("nobody") != nullptr) {
        const std::string theirs = dir.path + "/theirs";
        assert_int_equal(::mkdir(theirs.c_str(), 0755), 0);
        assert_int_equal(::chown(theirs.c_str(), ::getpwnam("nobody")->pw_uid, 0), 0);
        expect_refused("host=" + theirs + " requirepeer=root", theirs + " is owned by uid");
        // The server's own user may own its socket directory.
        assert_string_equal(refusal("host=" + theirs + " requirepeer=nobody").c_str(), "(no error)");
    }
}

// A refused pg_conninfo says where it was set, as every configuration error does.
void conninfo_errors_name_file_and_line(void** /*state*/)
{
    TempDir dir;
    const std::string path
        = dir.write("twofactor.conf", "store = postgresql\n# the fleet\npg_conninfo = service=fleet\n", 0600);
    const Config from_file = load_config(path, {});
    std::string e = error_of<ConfigError>([&] { PgStateStore s(from_file); });
    if (e.rfind(path + ":3: pg_conninfo: service=", 0) != 0)
        fail_msg("got '%s'", e.c_str());
    const Config from_argument = load_config(path, {parse_argument("pg_conninfo=service=other", "argument")});
    e = error_of<ConfigError>([&] { PgStateStore s(from_argument); });
    if (e.rfind("argument: pg_conninfo: service=", 0) != 0)
        fail_msg("got '%s'", e.c_str());
}

// Files libpq reads as root must be where only root can change them; a file
// not named is given a path that cannot exist, so libpq never falls back on
// the caller's $HOME.
void conninfo_files_only_root_can_change(void** /*state*/)
{
    TempDir dir;
    const auto refusal = [](const std::string& files) {
        return error_of<ConfigError>(
            [&] { PgStateStore s(pg_config("host=db sslmode=verify-full sslrootcert=/etc/hosts " + files)); });
    };
    const auto expect_refused = [&](const std::string& files, const std::string& why) {
        const std::string e = refusal(files);
        if (!contains(e, why.c_str()))
            fail_msg("%s: got '%s'", files.c_str(), e.c_str());
    };
    expect_refused("sslcrl=root.crl", "sslcrl=root.crl: root.crl is not an absolute path");
    const std::string open = dir.path + "/open";
    assert_int_equal(::mkdir(open.c_str(), 0700), 0);
    assert_int_equal(::chmod(open.c_str(), 0777), 0);
    expect_refused("passfile=" + open + "/pgpass", open + " is writable by others, who could create");
    dir.write("open/root.crl", "", 0644);
    expect_refused("sslcrl=" + open + "/root.crl", open + " is writable by group or others");
    expect_refused("sslcrldir=" + open, open + " is writable by group or others");
    expect_refused("sslcert=" + dir.write("client.crt", "", 0664) + " sslkey=/etc/hosts", "is writable by group");
    // A symbolic link is followed: its target's directories count too.
    assert_int_equal(::symlink((open + "/root.crl").c_str(), (dir.path + "/link.crl").c_str()), 0);
    expect_refused("sslcrl=" + dir.path + "/link.crl", open + " is writable by group or others");
    if (::geteuid() == 0) {
        const std::string theirs = dir.write("theirs.crl", "", 0644);
        assert_int_equal(::chown(theirs.c_str(), 65534, 65534), 0);
        expect_refused("sslcrl=" + theirs, theirs + " is owned by uid 65534");
    }
    // In a sticky directory (as /tmp) an existing entry of ours is safe, a
    // missing one is not (anyone could create it).
    const std::string sticky = dir.path + "/sticky";
    assert_int_equal(::mkdir(sticky.c_str(), 0700), 0);
    assert_int_equal(::chmod(sticky.c_str(), 01777), 0);
    expect_refused("sslcrl=" + sticky + "/missing.crl", sticky + " is writable by others, who could create");
    const std::string ours = dir.write("sticky/root.crl", "", 0644);
    assert_string_equal(refusal("sslcrl=" + ours).c_str(), "(no error)");
    // Without sslkey libpq would read the key from $HOME.
    expect_refused("sslcert=/etc/hosts", "sslcert= needs sslkey=");
    assert_string_equal(refusal("sslcert=/etc/hosts sslkey=/etc/hostname passfile=/etc/nonexistent").c_str(),
                        "(no error)");

    const auto parameter = [](const PgParameters& p, const char* keyword) {
        std::string out;
        for (const auto& [k, v] : p)
            if (k == keyword)
                out += (out.empty() ? "" : ",") + v;
        return out;
    };
    const PgParameters plain = vet_pg_conninfo("host=/nonexistent requirepeer=root dbname=x", "");
    for (const char* keyword : {"sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "passfile"})
        if (parameter(plain, keyword) != "/dev/null/twofactor-no-such-file")
            fail_msg("%s: '%s'", keyword, parameter(plain, keyword).c_str());
    // A CRL directory of the configuration stays the only CRL setting: a
    // missing sslcrl next to it would make OpenSSL skip the directory too.
    const PgParameters crl_dir = vet_pg_conninfo("host=/nonexistent requirepeer=root sslcrldir=/etc/ssl/certs", "");
    assert_string_equal(parameter(crl_dir, "sslcrl").c_str(), "");
    assert_string_equal(parameter(crl_dir, "sslcrldir").c_str(), "/etc/ssl/certs");
}

void unsafe_password_files_fail_closed(void** /*state*/)
{
    TempDir dir;
    const std::string conninfo = "host=" + dir.path + "/no-such-socket-dir requirepeer=root dbname=x user=x";
    const auto load_with = [&](const std::string& file) {
        return error_of<StoreError>([&] { PgStateStore(pg_config(conninfo, file)).load("alice"); });
    };
    std::string e = load_with(dir.write("group", "pw\n", 0640));
    assert_true(contains(e, "readable or writable by group or others"));
    assert_int_equal(::symlink((dir.path + "/group").c_str(), (dir.path + "/link").c_str()), 0);
    e = load_with(dir.path + "/link");
    assert_true(contains(e, "is a symlink"));
    e = load_with(dir.path + "/missing");
    assert_true(contains(e, "No such file"));
    e = load_with(dir.write("two-lines", "pw\nmore\n", 0600));
    assert_true(contains(e, "one line"));
    assert_false(contains(e, "more"));
    e = load_with(dir.write("empty", "", 0600));
    assert_true(contains(e, "one line"));

    // A good file: the error is now the connection's, one line, no password.
    e = load_with(dir.write("good", "s3cr3t-pw\n", 0600));
    assert_true(contains(e, "PostgreSQL: cannot connect"));
    assert_false(contains(e, "s3cr3t-pw"));
    assert_false(contains(e, "\n"));
}

void libpq_environment_is_refused(void** /*state*/)
{
    TempDir dir;
    const std::string conninfo = "host=" + dir.path + " requirepeer=root dbname=x user=x";
    ::setenv("PGHOSTADDR", "192.0.2.1", 1);
    std::string e = error_of<StoreError>([&] { PgStateStore(pg_config(conninfo)).load("alice"); });
    ::unsetenv("PGHOSTADDR");
    assert_true(contains(e, "PGHOSTADDR"));
    // A parameter pg_conninfo sets is not taken from the environment: no refusal.
    ::setenv("PGHOST", "/elsewhere", 1);
    e = error_of<StoreError>([&] { PgStateStore(pg_config(conninfo)).load("alice"); });
    ::unsetenv("PGHOST");
    assert_false(contains(e, "PGHOST"));
    assert_true(contains(e, "cannot connect"));
    // An empty value in pg_conninfo is no value: the environment's is refused.
    ::setenv("PGPORT", "6543", 1);
    e = error_of<StoreError>([&] { PgStateStore(pg_config(conninfo + " port=''")).load("alice"); });
    ::unsetenv("PGPORT");
    assert_true(contains(e, "PGPORT"));
    // What libpq reads outside the connection options (PGLOCALEDIR: its
    // translations become printf formats) is refused before libpq runs.
    for (const char* name : {"PGLOCALEDIR", "PGSYSCONFDIR", "PGTZ"}) {
        ::setenv(name, "/tmp/x", 1);
        e = error_of<StoreError>([&] { PgStateStore s(pg_config(conninfo)); });
        ::unsetenv(name);
        if (!contains(e, name))
            fail_msg("%s: got '%s'", name, e.c_str());
    }
    // And any other PG* variable.
    ::setenv("PGSOMETHINGNEW", "1", 1);
    e = error_of<StoreError>([&] { PgStateStore(pg_config(conninfo)).load("alice"); });
    ::unsetenv("PGSOMETHINGNEW");
    assert_true(contains(e, "PGSOMETHINGNEW"));
}

void invalid_user_names_never_reach_the_database(void** /*state*/)
{
    PgStateStore s(pg_config("host=/nonexistent requirepeer=root"));
    for (const char* bad : {"", "../etc", "a b", "-x", "a'b"})
        assert_true(contains(error_of<InvalidUserName>([&] { s.load(bad); }), "invalid user name"));
}

// pg_unavailable = local: only "no server answers" is PgUnreachable, and
// only that sends a login to the local store, for all its later calls too.
void fallback_only_when_no_server_answers(void** /*state*/)
{
    TempDir dir;
    TempDir local;
    const std::string nobody_there = "host=" + dir.path + " requirepeer=root dbname=x user=x";
    Config config = pg_config(nobody_there);
    const auto connect_error = [&] {
        try {
            PgStateStore(config).load("root");
        } catch (const PgUnreachable& e) {
            return std::string("unreachable: ") + e.what();
        } catch (const StoreError& e) {
            return std::string("error: ") + e.what();
        }
        return std::string("(no error)");
    };
    assert_true(contains(connect_error(), "error: PostgreSQL: cannot connect"));
    config.pg_unavailable = Config::PgUnavailable::local;
    config.local_state_dir = local.path;
    assert_true(contains(connect_error(), "unreachable: PostgreSQL: no server answers"));

    UserState root;
    root.codes = generate_backup_codes(4, 8, kFast, 1700000000).set;
    FileStateStore(local.path).update("root", [&](std::optional<UserState>& s) {
        s = root;
        return true;
    });
    std::vector<std::string> noted;
    const auto note = [&](const std::string& why) { noted.push_back(why); };
    std::unique_ptr<StateStore> store = open_login_store(config, note);
    assert_true(store->load("root").has_value());
    assert_false(store->load("alice").has_value()); // the local store's answer, not the database's
    assert_int_equal(noted.size(), 1);
    assert_true(contains(noted[0], "no server answers"));
    assert_true(dynamic_cast<FallbackStateStore&>(*store).local());

    // A store error that is not "no server answers" (here an unsafe password
    // file, before any connection) is an error, then and afterwards.
    noted.clear();
    config.pg_password_file = dir.write("pw", "x\n", 0644);
    store = open_login_store(config, note);
    assert_true(contains(error_of<StoreError>([&] { store->load("root"); }), "readable or writable"));
    config.pg_password_file.clear();
    assert_true(contains(error_of<StoreError>([&] { store->load("root"); }), "readable or writable"));
    assert_int_equal(noted.size(), 0);
    assert_false(dynamic_cast<FallbackStateStore&>(*store).local());

    // pg_unavailable = deny: the database's store itself.
    config.pg_unavailable = Config::PgUnavailable::deny;
    store = open_login_store(config, note);
    assert_null(dynamic_cast<FallbackStateStore*>(store.get()));
}

UserState sample_state()
{
    UserState s;
    s.user = "alice";
    s.authenticators = {TotpState{random_bytes(20), TotpParams{}, 1700000000, 56666666}};
    s.codes = generate_backup_codes(4, 8, kFast, 1700000000).set;
    return s;
}

void keep_spent_never_revives_a_code(void** /*state*/)
{
    const UserState existing = [] {
        UserState s = sample_state();
        s.codes->slots[1].used = CodeUse{1700000100, "sshd", "192.0.2.7", "ssh"};
        s.find("default")->last_step = 56666670;
        return s;
    }();
    UserState incoming = existing;
    incoming.codes->slots[1].used.reset(); // a stale copy where code 2 is unused
    incoming.codes->slots[3].used = CodeUse{1700000200, "login", "", "tty1"};
    incoming.find("default")->last_step = 56666600;
    incoming.failures = 3;
    assert_false(same_state(incoming, existing));

    const UserState merged = keep_spent(incoming, existing);
    assert_true(merged.codes->slots[1].used == existing.codes->slots[1].used);
    assert_true(merged.codes->slots[3].used == incoming.codes->slots[3].used);
    assert_false(merged.codes->slots[0].used.has_value());
    assert_int_equal(*merged.find("default")->last_step, 56666670);
    assert_int_equal(merged.failures, 3);

    // A lockout in the target survives the overwrite; so do its failures.
    UserState locked = existing;
    locked.locked_until = 1700009999;
    locked.failures = 4;
    UserState unlocked = incoming;
    unlocked.failures = 1;
    const UserState kept = keep_spent(unlocked, locked);
    assert_int_equal(kept.locked_until, 1700009999);
    assert_int_equal(kept.failures, 4);

    // Another set or another key: nothing carried over.
    UserState other = incoming;
    other.codes = generate_backup_codes(4, 8, kFast, 1700000300).set;
    other.find("default")->secret = random_bytes(20);
    const UserState fresh = keep_spent(other, existing);
    assert_int_equal(fresh.codes->remaining(), 4);
    assert_int_equal(*fresh.find("default")->last_step, 56666600);
    assert_true(same_state(existing, existing));
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(text_encoding_round_trips_every_byte),
        cmocka_unit_test(conninfo_refusals),
        cmocka_unit_test(conninfo_errors_name_file_and_line),
        cmocka_unit_test(socket_hosts_need_requirepeer_and_a_safe_directory),
        cmocka_unit_test(verify_ca_needs_a_private_ca),
        cmocka_unit_test(conninfo_files_only_root_can_change),
        cmocka_unit_test(unsafe_password_files_fail_closed),
        cmocka_unit_test(libpq_environment_is_refused),
        cmocka_unit_test(invalid_user_names_never_reach_the_database),
        cmocka_unit_test(keep_spent_never_revives_a_code),
        cmocka_unit_test(fallback_only_when_no_server_answers),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
