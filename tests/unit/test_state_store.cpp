// The file store: unsafe files and directories refused with nothing
// changed, atomic replacement, and exactly-once consumption of a backup code
// by 16 processes at a time.
#include "backup_codes.hpp"
#include "clock.hpp"
#include "errors.hpp"
#include "file_state_store.hpp"
#include "store_fixture.hpp"
#include "verifier.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

const ScryptParams kFast{10, 8, 1};

UserState sample_state(const std::string& user)
{
    UserState st;
    st.user = user;
    st.authenticators = {TotpState{random_bytes(20), TotpParams{}, 1700000000, std::nullopt}};
    st.codes = generate_backup_codes(3, 8, kFast, 1700000000).set;
    return st;
}

void write_state(FileStateStore& store, const UserState& st)
{
    store.update(st.user, [&](std::optional<UserState>& s) {
        s = st;
        return true;
    });
}

void save_load_round_trip(void** /*state*/)
{
    TempStateDir dir;
    FileStateStore store(dir.path);
    assert_false(store.load("alice").has_value());
    write_state(store, sample_state("alice"));
    write_state(store, sample_state("bob"));
    const auto loaded = store.load("alice");
    assert_true(loaded.has_value());
    assert_int_equal(loaded->codes->slots.size(), 3);
    struct stat st {};
    assert_int_equal(::stat(dir.file("alice").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    const auto users = store.users();
    assert_int_equal(users.size(), 2);
    assert_string_equal(users[0].c_str(), "alice");
    assert_string_equal(users[1].c_str(), "bob");
    // No temp file left behind.
    assert_false(std::filesystem::exists(dir.file(".alice.tmp")));
    // Removing the state removes the file.
    store.update("alice", [](std::optional<UserState>& s) {
        s.reset();
        return true;
    });
    assert_false(std::filesystem::exists(dir.file("alice")));
    // A change that returns false writes nothing.
    const std::string before = dir.read("bob");
    store.update("bob", [](std::optional<UserState>& s) {
        s->failures = 4;
        return false;
    });
    assert_string_equal(dir.read("bob").c_str(), before.c_str());
}

void user_names_validated(void** /*state*/)
{
    for (const char* good : {"alice", "a", "bob.smith", "svc-backup", "_x", "user@example.com", "host$", "A1"})
        assert_true(valid_user_name(good));
    for (const std::string& bad :
         {std::string(), std::string("."), std::string(".."), std::string("../etc"), std::string("a/b"),
          std::string(".hidden"), std::string("-rf"), std::string("a b"), std::string("tab\t"), std::string("nl\n"),
          std::string("del\x7f"), std::string("a\0b", 3), std::string(300, 'a'), std::string("$"), std::string("ü")})
        assert_false(valid_user_name(bad));
    TempStateDir dir;
    FileStateStore store(dir.path);
    bool threw = false;
    try {
        (void)store.load("../../etc/shadow");
    } catch (const InvalidUserName& e) {
        threw = true;
    }
    assert_true(threw);
}

// Runs `op` expecting a StoreError of `errc`, and checks the file is unchanged.
void expect_refused(FileStateStore& store, const TempStateDir& dir, const std::string& user, StoreErrc errc,
                    const char* what)
{
    const std::string before = dir.read(user);
    for (int attempt = 0; attempt < 2; ++attempt) {
        bool threw = false;
        try {
            if (attempt == 0)
                (void)store.load(user);
            else
                store.update(user, [](std::optional<UserState>& s) {
                    if (s)
                        s->failures = 1;
                    return true;
                });
        } catch (const StoreError& e) {
            threw = true;
            if (e.errc() != errc)
                fail_msg("%s: got '%s'", what, e.what());
        }
        if (!threw)
            fail_msg("%s: not refused", what);
    }
    assert_true(dir.read(user) == before);
}

void unsafe_files_refused(void** /*state*/)
{
    TempStateDir dir;
    FileStateStore store(dir.path);
    write_state(store, sample_state("alice"));
    const std::string good = dir.read("alice");

    assert_int_equal(::chown(dir.file("alice").c_str(), 65534, 65534), 0);
    expect_refused(store, dir, "alice", StoreErrc::unsafe_file, "owned by nobody");
    assert_int_equal(::chown(dir.file("alice").c_str(), 0, 0), 0);

    for (mode_t mode : {0644, 0640, 0660, 0606, 0604, 0610}) {
        ::chmod(dir.file("alice").c_str(), mode);
        expect_refused(store, dir, "alice", StoreErrc::unsafe_file, "group/other mode");
    }
    ::chmod(dir.file("alice").c_str(), 0600);

    dir.write("target", good);
    assert_int_equal(::symlink(dir.file("target").c_str(), dir.file("carol").c_str()), 0);
    expect_refused(store, dir, "carol", StoreErrc::unsafe_file, "symlink");

    assert_int_equal(::link(dir.file("target").c_str(), dir.file("dave").c_str()), 0);
    expect_refused(store, dir, "dave", StoreErrc::unsafe_file, "hard link");

    assert_int_equal(::mkdir(dir.file("erin").c_str(), 0700), 0);
    bool threw = false;
    try {
        (void)store.load("erin");
    } catch (const StoreError& e) {
        threw = e.errc() == StoreErrc::unsafe_file;
    }
    assert_true(threw);

    assert_int_equal(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
    threw = false;
    try {
        (void)store.load("fifo");
    } catch (const StoreError& e) {
        threw = e.errc() == StoreErrc::unsafe_file;
    }
    assert_true(threw);

    dir.write("frank", good + std::string(10 * 1024 * 1024, '#'));
    expect_refused(store, dir, "frank", StoreErrc::too_large, "10 MB");

    dir.write("gina", "twofactor-state 1\nuser gina\nfailures 0 0\n");
    expect_refused(store, dir, "gina", StoreErrc::corrupt, "truncated");

    dir.write("harry", good); // a file for alice under harry's name
    expect_refused(store, dir, "harry", StoreErrc::corrupt, "user mismatch");

    // The lock file is checked like a state file: a symlinked lock is refused.
    write_state(store, sample_state("ivy"));
    ::unlink(dir.file(".ivy.lock").c_str());
    assert_int_equal(::symlink("/etc/passwd", dir.file(".ivy.lock").c_str()), 0);
    threw = false;
    try {
        store.update("ivy", [](std::optional<UserState>&) { return true; });
    } catch (const StoreError& e) {
        threw = e.errc() == StoreErrc::unsafe_file;
    }
    assert_true(threw);
}

void unsafe_directories_refused(void** /*state*/)
{
    TempStateDir dir;
    {
        FileStateStore store(dir.path);
        write_state(store, sample_state("alice"));
    }
    const auto refused = [](const std::string& path, const char* what) {
        FileStateStore store(path);
        bool threw = false;
        try {
            (void)store.load("alice");
        } catch (const StoreError& e) {
            threw = e.errc() == StoreErrc::unsafe_directory;
            if (!threw)
                fail_msg("%s: got '%s'", what, e.what());
        }
        if (!threw)
            fail_msg("%s: not refused", what);
    };
    for (mode_t mode : {0770, 0702, 0777, 0750, 0705, 0755, 0701}) {
        ::chmod(dir.path.c_str(), mode);
        refused(dir.path, "directory with group/other permissions");
    }
    ::chmod(dir.path.c_str(), 0700);
    assert_int_equal(::chown(dir.path.c_str(), 65534, 65534), 0);
    refused(dir.path, "directory owned by nobody");
    assert_int_equal(::chown(dir.path.c_str(), 0, 0), 0);

    const std::string link = dir.path + "-link";
    assert_int_equal(::symlink(dir.path.c_str(), link.c_str()), 0);
    refused(link, "symlinked directory");
    ::unlink(link.c_str());
    refused(dir.file("alice"), "a file as the directory");

    // The directory itself was safe all along: it still works.
    FileStateStore store(dir.path);
    assert_true(store.load("alice").has_value());
}

// The writer refuses a state the reader would refuse (over the size cap):
// the old state stays, rather than a file that locks the user out.
void oversized_state_not_written(void** /*state*/)
{
    TempStateDir dir;
    FileStateStore store(dir.path);
    write_state(store, sample_state("alice"));
    const std::string before = dir.read("alice");
    UserState big = sample_state("alice");
    const std::string field(85, '\x01');
    big.codes->slots.assign(200, CodeSlot{{}, CodeUse{1700000000, field, field, field}});
    bool refused = false;
    try {
        write_state(store, big);
    } catch (const StoreError& e) {
        refused = e.errc() == StoreErrc::too_large;
        if (!refused)
            fail_msg("got '%s'", e.what());
    }
    assert_true(refused);
    assert_string_equal(dir.read("alice").c_str(), before.c_str());
    assert_false(std::filesystem::exists(dir.file(".alice.tmp")));
}

// load_many (what `twofactor-admin list` reads with): the same answers as
// load() user by user, one unreadable file does not hide the others, and an
// unsafe directory is every user's error.
void load_many_reads_each_user(void** /*state*/)
{
    TempStateDir dir;
    FileStateStore store(dir.path);
    write_state(store, sample_state("alice"));
    write_state(store, sample_state("carol"));
    write_state(store, sample_state("dave"));
    ::chmod(dir.file("carol").c_str(), 0644);

    const std::vector<LoadedState> got = store.load_many({"alice", "bob", "carol", "dave"});
    assert_int_equal(got.size(), 4);
    assert_true(got[0].state.has_value() && got[0].error.empty());
    assert_string_equal(got[0].state->user.c_str(), "alice");
    assert_true(!got[1].state.has_value() && got[1].error.empty()); // no state
    assert_false(got[2].state.has_value());
    if (got[2].error.find("readable or writable by group or others") == std::string::npos)
        fail_msg("carol: got '%s'", got[2].error.c_str());
    assert_true(got[3].state.has_value() && got[3].error.empty());
    assert_string_equal(got[3].state->user.c_str(), "dave");

    bool threw = false;
    try {
        (void)store.load_many({"alice", "../etc/shadow"});
    } catch (const InvalidUserName&) {
        threw = true;
    }
    assert_true(threw);

    ::chmod(dir.path.c_str(), 0777);
    const std::vector<LoadedState> unsafe = store.load_many({"alice", "dave"});
    ::chmod(dir.path.c_str(), 0700);
    for (const LoadedState& l : unsafe) {
        assert_false(l.state.has_value());
        if (l.error.find("accessible by group or others") == std::string::npos)
            fail_msg("unsafe directory: got '%s'", l.error.c_str());
    }
}

// Waits for all children; returns how many exited 0.
int reap(const std::vector<pid_t>& pids)
{
    int ok = 0;
    for (pid_t pid : pids) {
        int status = 0;
        if (::waitpid(pid, &status, 0) != pid)
            fail_msg("waitpid failed");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ++ok;
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
            fail_msg("child ended abnormally (status %d)", status);
    }
    return ok;
}

void exactly_once_under_concurrency(void** /*state*/)
{
    constexpr int kRounds = 50;
    constexpr int kProcesses = 16;
    TempStateDir dir;
    FileStateStore store(dir.path);
    for (int round = 0; round < kRounds; ++round) {
        IssuedCodes issued = generate_backup_codes(10, 8, kFast, 1700000000);
        UserState st;
        st.user = "alice";
        st.codes = issued.set;
        write_state(store, st);
        const std::string code(view(issued.codes[static_cast<std::size_t>(round) % 10]));

        int go[2];
        assert_int_equal(::pipe(go), 0);
        std::vector<pid_t> pids;
        for (int i = 0; i < kProcesses; ++i) {
            const pid_t pid = ::fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                ::close(go[1]);
                char c;
                // All start together: the parent's close gives every child EOF at once.
                if (::read(go[0], &c, 1) < 0)
                    ::_exit(2);
                try {
                    FileStateStore child_store(dir.path);
                    FixedClock clock(1700000000 + round);
                    VerifyPolicy policy;
                    policy.max_failures = 100;
                    Verifier verifier(child_store, policy, clock);
                    const VerifyResult r = verifier.verify("alice", code, LoginContext{"test", "", ""});
                    ::_exit(r.verdict == Verdict::accepted ? 0 : 1);
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "child: %s\n", e.what());
                    ::_exit(2);
                } catch (...) {
                    ::_exit(2);
                }
            }
            pids.push_back(pid);
        }
        ::close(go[0]);
        ::close(go[1]); // EOF releases every child at once
        const int successes = reap(pids);
        if (successes != 1)
            fail_msg("round %d: %d successes", round, successes);
        const auto after = store.load("alice"); // parses
        assert_int_equal(after->codes->remaining(), 9);
        assert_int_equal(after->failures, kProcesses - 1);
    }
    print_message("%d rounds of %d processes: exactly one success each\n", kRounds, kProcesses);
}

} // namespace

int main()
{
    if (::geteuid() != 0) {
        print_message("store tests need root (chown); skipping\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_load_round_trip),           cmocka_unit_test(user_names_validated),
        cmocka_unit_test(unsafe_files_refused),           cmocka_unit_test(unsafe_directories_refused),
        cmocka_unit_test(exactly_once_under_concurrency), cmocka_unit_test(load_many_reads_each_user),
        cmocka_unit_test(oversized_state_not_written),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
