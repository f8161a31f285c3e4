// Unsafe or damaged state (docs/store.md, guarantee 2): the module fails
// closed with PAM_AUTHINFO_UNAVAIL and a clear log line, never crashes, never
// prompts for a code it could not check, and leaves the file exactly as it
// was.
#include "fixture.hpp"
#include "pam_login.hpp"

#include "cmocka_cxx.hpp"

#include <security/pam_appl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

using namespace pamtest;

namespace {

// Names in the state directory: nothing may be added (no temp or lock file).
std::vector<std::string> entries(const std::string& dir)
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// Enrols alice, lets `damage` break her file (or the directory), logs in
// with a valid code and checks the outcome. `expect_in_log` is part of the
// reason the store gives.
void assert_fails_closed(void** state, const std::function<void(StateDir&, const std::string&)>& damage,
                         const std::string& expect_in_log, const std::string& watched = {})
{
    StateDir& dir = dir_of(state);
    dir.enroll_totp("alice", kT0 - 3600);
    const std::vector<std::string> codes = dir.issue_codes("alice", kT0 - 3600);
    damage(dir, dir.path("alice"));
    const std::string path = watched.empty() ? dir.path("alice") : watched;
    const FileSnapshot before = snapshot(path);
    const std::vector<std::string> listing = entries(dir.state_dir());

    for (const std::string& code : {totp_code(kT0), codes[0]}) {
        const LoginResult r = login_with("alice", code);
        assert_pam(r.rc, PAM_AUTHINFO_UNAVAIL);
        assert_true(r.prompts.empty());
        assert_in_range(r.fail_delay_us, 1500000, 2500000);
        const std::string log = r.log_text();
        if (log.find("error user=alice service=twofactor rhost=203.0.113.5 tty=ssh method=- "
                     "reason=state_unavailable detail=")
                == std::string::npos
            || r.decoded_log_text().find(expect_in_log) == std::string::npos)
            fail_msg("expected a state_unavailable line with '%s'; log was:\n%s", expect_in_log.c_str(), log.c_str());
        assert_log_free_of(r, codes);
        assert_log_free_of(r, {code, kSecretBase32});
    }
    if (!(snapshot(path) == before))
        fail_msg("%s changed", path.c_str());
    assert_true(entries(dir.state_dir()) == listing);
}

void mode_0644(void** state)
{
    assert_fails_closed(
        state, [](StateDir&, const std::string& p) { chmod(p.c_str(), 0644); }, "readable or writable by group");
}

void owned_by_another_uid(void** state)
{
    if (geteuid() != 0)
        skip(); // chown needs root
    assert_fails_closed(
        state, [](StateDir&, const std::string& p) { assert_int_equal(chown(p.c_str(), 4242, 4242), 0); },
        "owned by uid 4242");
}

void a_symlink(void** state)
{
    // The link points at a perfectly valid state file: still refused.
    const std::function<void(StateDir&, const std::string&)> damage = [](StateDir& dir, const std::string& p) {
        const std::string target = dir.root() + "/alice-elsewhere";
        assert_int_equal(rename(p.c_str(), target.c_str()), 0);
        assert_int_equal(symlink(target.c_str(), p.c_str()), 0);
    };
    assert_fails_closed(state, damage, "is a symlink");
    // The target was not touched either.
    assert_true(snapshot(dir_of(state).root() + "/alice-elsewhere").exists);
}

void a_hard_link(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir& dir, const std::string& p) {
            assert_int_equal(link(p.c_str(), (dir.root() + "/alice-hardlink").c_str()), 0);
        },
        "more than one hard link");
}

void garbage_bytes(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir&, const std::string& p) {
            std::mt19937 rng(42);
            std::string bytes(3000, '\0');
            for (char& c : bytes)
                c = static_cast<char>(rng() & 0xff);
            write_file(p, bytes, 0600);
        },
        "NUL or control byte");
}

void garbage_text(void** state)
{
    assert_fails_closed(
        state, [](StateDir&, const std::string& p) { write_file(p, "hello: world\nuser alice\n", 0600); },
        "not a twofactor state file");
}

void empty_file(void** state)
{
    assert_fails_closed(
        state, [](StateDir&, const std::string& p) { write_file(p, "", 0600); }, "empty file");
}

void truncated_mid_line(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir&, const std::string& p) {
            const std::string whole = read_file(p);
            const std::size_t second_line = whole.find('\n') + 1;
            write_file(p, whole.substr(0, second_line + 5), 0600);
        },
        "truncated");
}

void unknown_format_version(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir&, const std::string& p) {
            std::string whole = read_file(p);
            assert_int_equal(whole.compare(0, 18, "twofactor-state 2\n"), 0);
            whole[16] = '9';
            write_file(p, whole, 0600);
        },
        "unsupported format version");
}

void ten_megabytes(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir&, const std::string& p) {
            const std::string valid = read_file(p);
            std::string big;
            while (big.size() < 10 * 1024 * 1024)
                big += valid;
            write_file(p, big, 0600);
        },
        "larger than");
}

void a_directory_instead_of_a_file(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir&, const std::string& p) {
            assert_int_equal(unlink(p.c_str()), 0);
            assert_int_equal(mkdir(p.c_str(), 0700), 0);
        },
        "not a regular file");
}

void a_fifo_does_not_hang(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir&, const std::string& p) {
            assert_int_equal(unlink(p.c_str()), 0);
            assert_int_equal(mkfifo(p.c_str(), 0600), 0);
        },
        "not a regular file");
}

void state_directory_writable_by_group(void** state)
{
    assert_fails_closed(
        state, [](StateDir& dir, const std::string&) { chmod(dir.state_dir().c_str(), 0770); },
        "accessible by group or others");
}

// The directory is 0700 (docs/store.md): one anyone may list tells who is
// enrolled.
void state_directory_readable_by_others(void** state)
{
    assert_fails_closed(
        state, [](StateDir& dir, const std::string&) { chmod(dir.state_dir().c_str(), 0755); },
        "accessible by group or others");
}

void state_directory_missing(void** state)
{
    assert_fails_closed(
        state,
        [](StateDir& dir, const std::string&) {
            assert_int_equal(rename(dir.state_dir().c_str(), (dir.root() + "/moved").c_str()), 0);
        },
        "No such file", dir_of(state).root() + "/moved/alice");
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mode_0644, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(owned_by_another_uid, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_symlink, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_hard_link, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(garbage_bytes, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(garbage_text, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(empty_file, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(truncated_mid_line, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(unknown_format_version, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(ten_megabytes, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_directory_instead_of_a_file, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(a_fifo_does_not_hang, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(state_directory_writable_by_group, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(state_directory_readable_by_others, setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(state_directory_missing, setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
