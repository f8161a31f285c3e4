// Configuration: defaults, the file, overrides, and every kind of bad input
// reported with file, line and key.
#include "config.hpp"
#include "errors.hpp"
#include "store_fixture.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

std::string config_error(const std::function<void()>& f)
{
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

void defaults(void** /*state*/)
{
    const Config c;
    assert_string_equal(c.state_dir.c_str(), "/var/lib/twofactor");
    assert_string_equal(c.prompt.c_str(), "Verification code: ");
    assert_int_equal(c.window, 1);
    assert_int_equal(c.hotp_window, 10);
    assert_int_equal(c.max_authenticators, 5);
    assert_int_equal(c.max_failures, 5);
    assert_int_equal(c.lockout_seconds, 300);
    assert_int_equal(c.warn_remaining, 3);
    assert_int_equal(c.backup_code_count, 10);
    assert_int_equal(c.backup_code_length, 8);
    assert_int_equal(c.scrypt.log2_n, 14);
    assert_int_equal(c.scrypt.r, 8);
    assert_int_equal(c.scrypt.p, 1);
    assert_int_equal(c.totp.digits, 6);
    assert_int_equal(c.totp.period, 30);
    assert_false(c.nullok);
    assert_int_equal(c.pg_unavailable, Config::PgUnavailable::deny);
    assert_string_equal(c.local_state_dir.c_str(), "/var/lib/twofactor-local");
    assert_int_equal(c.remember_days, 0);
    assert_int_equal(c.remember_by, RememberBy::key);
    assert_int_equal(c.remember_services.size(), 1);
    assert_string_equal(c.remember_services[0].c_str(), "sshd");
    assert_int_equal(c.max_devices, 10);
}

// Every new key of recognised devices: bad values named with file, line and key.
void device_keys(void** /*state*/)
{
    TempStateDir dir;
    const std::string f = dir.file("dev.conf");
    const auto file_error = [&](const std::string& text) {
        dir.write("dev.conf", text, 0644);
        return config_error([&] { (void)load_config(f, {}); });
    };
    dir.write("dev.conf",
              "remember_days = 90\nremember_by = key+address\nremember_services = sshd, ssh-alt\nmax_devices = 50\n",
              0644);
    const Config c = load_config(f, {});
    assert_int_equal(c.remember_days, 90);
    assert_int_equal(c.remember_by, RememberBy::key_address);
    assert_int_equal(c.remember_services.size(), 2);
    assert_string_equal(c.remember_services[1].c_str(), "ssh-alt");
    assert_int_equal(c.max_devices, 50);
    assert_int_equal(load_config_from_arguments({"remember_by=address"}).remember_by, RememberBy::address);

    const struct {
        const char* line;
        const char* error;
    } cases[] = {
        {"remember_days = 91", "remember_days: must be between 0 and 90"},
        {"remember_days = -1", "remember_days: expected a whole number, got '-1'"},
        {"remember_days = x", "remember_days: expected a whole number, got 'x'"},
        {"remember_days =", "remember_days: expected a whole number, got ''"},
        {"remember_by = foo", "remember_by: expected key, key+address or address, got 'foo'"},
        {"remember_by = KEY", "remember_by: expected key, key+address or address, got 'KEY'"},
        {"remember_services =", "remember_services: must not be empty"},
        {"remember_services = sshd,", "remember_services: empty item in the list 'sshd,'"},
        {"remember_services = sshd,,su", "remember_services: empty item in the list 'sshd,,su'"},
        {"remember_services = a/b", "remember_services: expected service names separated by commas, got 'a/b'"},
        {"max_devices = 0", "max_devices: must be between 1 and 50"},
        {"max_devices = 51", "max_devices: must be between 1 and 50"},
        {"max_devices = 99999999999999999999", "max_devices: expected a whole number, got '99999999999999999999'"},
    };
    for (const auto& bad : cases) {
        const std::string got = file_error(std::string("# devices\n") + bad.line + "\n");
        const std::string want = f + ":2: " + bad.error;
        if (got != want)
            fail_msg("%s: got '%s', expected '%s'", bad.line, got.c_str(), want.c_str());
    }
    assert_string_equal(config_error([] { (void)load_config_from_arguments({"remember_days"}); }).c_str(),
                        "argument: remember_days: needs a value (remember_days=...)");
}

void file_then_arguments(void** /*state*/)
{
    TempStateDir dir;
    dir.write("tf.conf",
              "# comment\n\n  window = 2\nnullok = yes\nprompt = \"Code: \"\nstate_dir=/srv/tf\n"
              "totp_algorithm = sha256\nmax_failures = 7\n",
              0644);
    const Config c = load_config_from_arguments({"config=" + dir.file("tf.conf"), "window=3", "debug"});
    assert_int_equal(c.window, 3); // argument wins over the file
    assert_true(c.nullok);
    assert_true(c.debug);
    assert_string_equal(c.prompt.c_str(), "Code: ");
    assert_string_equal(c.state_dir.c_str(), "/srv/tf");
    assert_int_equal(c.totp.algorithm, TotpAlgorithm::sha256);
    assert_int_equal(c.max_failures, 7);
    const Config local
        = load_config_from_arguments({"config=" + dir.file("tf.conf"), "store=postgresql", "pg_conninfo=host=db",
                                      "pg_unavailable=local", "local_state_dir=/srv/tf-local/"});
    assert_int_equal(local.pg_unavailable, Config::PgUnavailable::local);
    assert_string_equal(local.local_state_dir.c_str(), "/srv/tf-local");
    // A trailing slash names the directory itself (and is dropped, so the
    // store's no-symlink rule holds for the last component).
    assert_string_equal(
        load_config_from_arguments({"config=" + dir.file("tf.conf"), "state_dir=/srv/tf//"}).state_dir.c_str(),
        "/srv/tf");
}

void every_key_listed_and_settable(void** /*state*/)
{
    const auto keys = config_keys();
    assert_int_equal(keys.size(), 40);
    // The shipped config file names every key.
    std::ifstream in(std::string(TWOFACTOR_TEST_DATA) + "/../../conf/twofactor.conf");
    const std::string shipped((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& k : keys)
        if (shipped.find("# " + k + " =") == std::string::npos)
            fail_msg("conf/twofactor.conf does not document %s", k.c_str());
}

void bad_input_named_precisely(void** /*state*/)
{
    TempStateDir dir;
    const auto file_error = [&](const std::string& text) {
        dir.write("bad.conf", text, 0644);
        return config_error([&] { (void)load_config(dir.file("bad.conf"), {}); });
    };
    const std::string f = dir.file("bad.conf");
    assert_string_equal(file_error("window = 1\nwindw = 2\n").c_str(), (f + ":2: windw: unknown option").c_str());
    assert_string_equal(file_error("window = 2x\n").c_str(),
                        (f + ":1: window: expected a whole number, got '2x'").c_str());
    assert_string_equal(file_error("window = 11\n").c_str(), (f + ":1: window: must be between 0 and 10").c_str());
    assert_string_equal(file_error("\nhotp_window = 0\n").c_str(),
                        (f + ":2: hotp_window: must be between 1 and 100").c_str());
    assert_string_equal(file_error("hotp_window = 101\n").c_str(),
                        (f + ":1: hotp_window: must be between 1 and 100").c_str());
    assert_string_equal(file_error("max_authenticators = 21\n").c_str(),
                        (f + ":1: max_authenticators: must be between 1 and 20").c_str());
    assert_string_equal(file_error("max_authenticators = 0\n").c_str(),
                        (f + ":1: max_authenticators: must be between 1 and 20").c_str());
    assert_string_equal(file_error("window = -1\n").c_str(),
                        (f + ":1: window: expected a whole number, got '-1'").c_str());
    assert_string_equal(file_error("window =\n").c_str(), (f + ":1: window: expected a whole number, got ''").c_str());
    assert_string_equal(file_error("nullok = maybe\n").c_str(),
                        (f + ":1: nullok: expected yes or no, got 'maybe'").c_str());
    assert_string_equal(file_error("= 3\n").c_str(), (f + ":1: missing key before '='").c_str());
    assert_string_equal(file_error("config = /x\n").c_str(),
                        (f + ":1: config: only valid as a module argument").c_str());
    assert_string_equal(file_error("state_dir = relative\n").c_str(),
                        (f + ":1: state_dir: must be an absolute path").c_str());
    for (const char* bad : {"/", "//", "/var/lib/twofactor/.", "/var/lib/twofactor/..", "/var/lib/twofactor/../"})
        assert_string_equal(file_error(std::string("state_dir = ") + bad + "\n").c_str(),
                            (f + ":1: state_dir: must end in a directory name (not /, . or ..)").c_str());
    assert_string_equal(file_error("totp_algorithm = md5\n").c_str(),
                        (f + ":1: totp_algorithm: expected sha1, sha256 or sha512, got 'md5'").c_str());
    assert_string_equal(file_error(std::string("debug\0 = yes\n", 13)).c_str(), (f + ": contains a NUL byte").c_str());
    assert_string_equal(file_error("backup_code_length = 7\n").c_str(),
                        (f + ":1: backup_code_length: must be between 8 and 16").c_str());
    assert_string_equal(file_error("scrypt_log2_n = 99999999999999999999\n").c_str(),
                        (f + ":1: scrypt_log2_n: expected a whole number, got '99999999999999999999'").c_str());
    assert_string_equal(file_error("no_totp\nno_backup_codes\n").c_str(),
                        "no_totp and no_backup_codes together leave no way to log in");
    assert_string_equal(file_error("pg_unavailable = maybe\n").c_str(),
                        (f + ":1: pg_unavailable: expected deny or local, got 'maybe'").c_str());
    assert_string_equal(file_error("store = file\npg_unavailable = local\n").c_str(),
                        (f + ":2: pg_unavailable: local needs store = postgresql").c_str());
    assert_string_equal(file_error("local_state_dir = var/local\n").c_str(),
                        (f + ":1: local_state_dir: must be an absolute path").c_str());
    assert_string_equal(file_error("local_state_dir = /var/lib/..\n").c_str(),
                        (f + ":1: local_state_dir: must end in a directory name (not /, . or ..)").c_str());

    dir.write("open.conf", "nullok = yes\n", 0666);
    assert_string_equal(config_error([&] { (void)load_config(dir.file("open.conf"), {}); }).c_str(),
                        (dir.file("open.conf") + ": unsafe: writable by group or others").c_str());
    if (::geteuid() == 0) {
        dir.write("theirs.conf", "nullok = yes\n", 0644);
        assert_int_equal(::chown(dir.file("theirs.conf").c_str(), 65534, 65534), 0);
        assert_string_equal(config_error([&] { (void)load_config(dir.file("theirs.conf"), {}); }).c_str(),
                            (dir.file("theirs.conf") + ": unsafe: owned by uid 65534").c_str());
    }

    const std::string missing = config_error([&] { (void)load_config(dir.file("absent.conf"), {}); });
    assert_non_null(strstr(missing.c_str(), "absent.conf: cannot read"));
    const std::string is_dir = config_error([&] { (void)load_config(dir.path, {}); });
    assert_non_null(strstr(is_dir.c_str(), "cannot read"));

    assert_string_equal(config_error([] { (void)load_config_from_arguments({"bogus"}); }).c_str(),
                        "argument: bogus: unknown option");
    assert_string_equal(config_error([] { (void)load_config_from_arguments({"window=abc"}); }).c_str(),
                        "argument: window: expected a whole number, got 'abc'");
    assert_string_equal(config_error([] { (void)load_config_from_arguments({"config="}); }).c_str(),
                        "argument: config: needs a path (config=PATH)");
    assert_string_equal(config_error([] { (void)load_config_from_arguments({"=x"}); }).c_str(),
                        "argument: empty option name");
    assert_string_equal(config_error([] { (void)load_config_from_arguments({"prompt=a\tb"}); }).c_str(),
                        "argument: prompt: control characters are not allowed");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(file_then_arguments),
        cmocka_unit_test(every_key_listed_and_settable),
        cmocka_unit_test(bad_input_named_precisely),
        cmocka_unit_test(device_keys),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
