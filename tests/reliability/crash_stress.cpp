// Crash safety under kill -9 (docs/reliability.md, section 4). Child processes
// consume backup codes through Verifier::verify, several at a time on two
// dozen users (so they also contend for the per-user locks), and are killed
// with SIGKILL at random moments, at least 1,000 times. Each child appends to
// a shared O_APPEND file an "S" record before an attempt and "A" (accepted) or
// "R" (refused) after it, with a monotonic timestamp, and passes a unique tty
// "cCHILDaATTEMPT" in the login context, which the store records with the code
// it consumes. Afterwards:
//  * every state file parses;
//  * every reported acceptance is recorded on disk, in the slot of the code
//    it typed, under its own attempt id (reported is a subset of recorded),
//    and no code was reported accepted twice;
//  * every used slot was consumed by an attempt that typed that very code;
//  * uses recorded without an acceptance report (a child killed after the
//    rename) number at most one per kill;
//  * no child ever got an error: a temp file or lock left by a killed child
//    never got in the way;
//  * a final verify of a reserved code succeeds for every user, well within
//    the lock timeout, and the code is refused after that.
// Kill moments adapt to the machine: the parent reads the records as it
// goes and draws each child's moment uniformly from its start-up time to
// two attempts later, so about half the kills land in an attempt's read-
// modify-write whatever the speed of the disk. TWOFACTOR_STRESS_KILLS and
// TWOFACTOR_STRESS_SEED override the number of kills (1000) and the seed.
#include "errors.hpp"
#include "file_state_store.hpp"
#include "reliability_support.hpp"
#include "stress_log.hpp"
#include "verifier.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <vector>

using namespace twofactor;
using namespace reliability;
using namespace stress;

// Under AddressSanitizer a small quarantine keeps the parent's memory, and
// so the cost of each fork and of each child's death, small.
extern "C" const char* __asan_default_options();
extern "C" __attribute__((used)) const char* __asan_default_options() { return "quarantine_size_mb=4"; }

namespace {

constexpr std::int64_t kNow = 1800000000;
// At least 24 users, more for long runs: a run uses up to about 0.4 codes
// per kill, and must not run out.
unsigned g_users = 24;
constexpr unsigned kCodesPerUser = 100;           // kMaxBackupCodes
constexpr unsigned kReserved = kCodesPerUser - 1; // never typed by children: the final check's code
constexpr unsigned kParallel = 4;
constexpr auto kTimeBudget = std::chrono::seconds(60);
// log2_n = 10 as everywhere in these tests, and r = 1: 100 codes per user
// are made at setup, and a cheaper KDF puts more of each attempt, hence more of
// the kills, inside the store's locked read-modify-write.
const ScryptParams kStressScrypt{10, 1, 1};

std::string user_name(unsigned u) { return "user" + std::to_string(u); }

VerifyPolicy stress_policy()
{
    VerifyPolicy p;
    // Children also type used codes; no lockout should get in the way.
    p.max_failures = 1000000;
    return p;
}

// A child: consumes codes until killed. Exits 0 when no code is left, 3 on
// an error (reported as an "E" record).
[[noreturn]] void child_main(unsigned child, std::uint64_t seed, const std::string& dir,
                             const std::vector<Enrolment>& users, int report_fd)
{
    std::mt19937_64 rng(seed);
    FileStateStore store(dir);
    FixedClock clock(kNow);
    Verifier verifier(store, stress_policy(), clock);
    for (unsigned attempt = 0;; ++attempt) {
        try {
            // A user and, mostly, one of their unused codes (one time in
            // four a used one, which must be refused).
            unsigned user = 0;
            unsigned code = 0;
            bool found = false;
            for (unsigned tries = 0; tries < 4 * g_users && !found; ++tries) {
                // Half the attempts on four "hot" users: children queue on
                // their locks and are killed holding them or waiting.
                user = static_cast<unsigned>(rng() % 2 == 0 ? rng() % 4 : rng() % g_users);
                const std::optional<UserState> st = store.load(user_name(user));
                std::vector<unsigned> unused;
                std::vector<unsigned> used;
                for (unsigned k = 0; k < kReserved; ++k)
                    (st->codes->slots[k].used ? used : unused).push_back(k);
                if (unused.empty())
                    continue;
                const std::vector<unsigned>& from = !used.empty() && rng() % 4 == 0 ? used : unused;
                code = from[rng() % from.size()];
                found = true;
            }
            if (!found)
                ::_exit(0);
            const std::string id = std::to_string(child) + " " + std::to_string(attempt) + " " + std::to_string(user)
                + " " + std::to_string(code) + " ";
            append_record(report_fd, "S " + id + std::to_string(micros_now()));
            const LoginContext context{"stress", "-", "c" + std::to_string(child) + "a" + std::to_string(attempt)};
            const VerifyResult r = verifier.verify(user_name(user), users[user].code(code), context);
            append_record(report_fd,
                          (r.verdict == Verdict::accepted ? "A " : "R ") + id + std::to_string(micros_now()));
        } catch (const std::exception& e) {
            append_record(report_fd, "E " + std::to_string(child) + " " + e.what());
            ::_exit(3);
        }
    }
}

double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

} // namespace

int main()
{
    const long kills_wanted
        = std::getenv("TWOFACTOR_STRESS_KILLS") ? std::atol(std::getenv("TWOFACTOR_STRESS_KILLS")) : 1000;
    const std::uint64_t seed = std::getenv("TWOFACTOR_STRESS_SEED")
        ? std::strtoull(std::getenv("TWOFACTOR_STRESS_SEED"), nullptr, 10)
        : std::random_device{}();
    if (kills_wanted < 1) {
        std::fprintf(stderr, "crash_stress: TWOFACTOR_STRESS_KILLS must be a positive number\n");
        return 2;
    }
    std::printf("crash_stress: seed %llu (TWOFACTOR_STRESS_SEED to repeat), %ld kills wanted\n",
                static_cast<unsigned long long>(seed), kills_wanted);
    std::mt19937_64 rng(seed);
    const auto t0 = Steady::now();
    g_users = std::max(24u, static_cast<unsigned>(kills_wanted * 8 / 10 / kReserved + 1));

    TempDir dir;
    FileStateStore store(dir.path());
    std::vector<Enrolment> users;
    for (unsigned u = 0; u < g_users; ++u) {
        users.push_back(make_enrolment(kCodesPerUser, kNow, kStressScrypt));
        write_state(store, users.back().state(user_name(u), kNow));
    }

    // A first estimate of an attempt's time; the children's records refine it.
    double first_estimate = 0;
    {
        TempDir cal_dir;
        FileStateStore cal_store(cal_dir.path());
        const Enrolment cal = make_enrolment(5, kNow, kStressScrypt);
        write_state(cal_store, cal.state("calibration", kNow));
        FixedClock clock(kNow);
        Verifier v(cal_store, stress_policy(), clock);
        std::vector<double> samples;
        for (unsigned k = 0; k < 5; ++k) {
            const auto s = Steady::now();
            (void)v.verify("calibration", cal.code(k), {});
            samples.push_back(ms(Steady::now() - s));
        }
        std::sort(samples.begin(), samples.end());
        first_estimate = samples[2];
    }
    PaceEstimate pace(1.0, first_estimate);
    std::printf("crash_stress: setup %.1f s; a verification took %.2f ms in the parent\n",
                ms(Steady::now() - t0) / 1000, first_estimate);

    const std::string report_path = dir.file("report");
    const int report_fd = ::open(report_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const int follow_fd = ::open(report_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (report_fd < 0 || follow_fd < 0) {
        std::perror("report file");
        return 2;
    }

    // Children not yet reaped; killed ones are reaped as they die, so the
    // teardown of one does not delay the kill of the next.
    struct Child {
        Steady::time_point deadline;
        bool killed = false;
    };
    std::map<pid_t, Child> children;
    long kills = 0; // reaped with SIGKILL
    long kills_sent = 0;
    long bad_exits = 0;
    bool exhausted = false;
    unsigned next_child = 0;
    long reaped_since_update = 0;
    const auto start = Steady::now();

    const auto reap = [&](pid_t pid, int status) {
        const auto it = children.find(pid);
        if (it == children.end())
            return;
        const bool killed = it->second.killed;
        children.erase(it);
        ++reaped_since_update;
        if (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            ++kills;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            exhausted = true; // ran out of codes
        } else {
            ++bad_exits;
            std::fprintf(stderr, "child %d ended badly: status 0x%x\n", static_cast<int>(pid), status);
        }
    };

    for (;;) {
        const bool out_of_time = Steady::now() - start > kTimeBudget;
        if (reaped_since_update >= 20) {
            pace.update(follow_fd);
            reaped_since_update = 0;
        }
        long running = 0;
        for (const auto& entry : children)
            running += entry.second.killed ? 0 : 1;
        while (!out_of_time && !exhausted && running < static_cast<long>(kParallel)
               && kills_sent + running < kills_wanted) {
            // From the child's expected start to two attempts later.
            std::uniform_real_distribution<double> moment(0.0, pace.startup_ms() + 2 * pace.attempt_ms());
            const std::uint64_t child_seed = rng();
            const auto deadline = Steady::now()
                + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double, std::milli>(moment(rng)));
            pace.forked(next_child, micros_now());
            const pid_t pid = ::fork();
            if (pid < 0) {
                std::perror("fork");
                return 2;
            }
            if (pid == 0)
                child_main(next_child, child_seed, dir.path(), users, report_fd);
            ++next_child;
            children[pid] = Child{deadline, false};
            ++running;
        }
        int status = 0;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
            reap(pid, status);
        if (children.empty() && (out_of_time || exhausted || kills_sent >= kills_wanted))
            break;
        // Kill those whose moment has come; sleep until the next one.
        const auto now = Steady::now();
        Steady::time_point next = now + std::chrono::milliseconds(2);
        for (auto& [p, c] : children) {
            if (c.killed)
                continue;
            if (c.deadline <= now || out_of_time) {
                ::kill(p, SIGKILL);
                c.killed = true;
                ++kills_sent;
            } else {
                next = std::min(next, c.deadline);
            }
        }
        const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(next - Steady::now());
        if (wait.count() > 0) {
            const timespec ts{static_cast<time_t>(wait.count() / 1000000000),
                              static_cast<long>(wait.count() % 1000000000)};
            ::nanosleep(&ts, nullptr);
        }
    }
    ::close(report_fd);
    ::close(follow_fd);
    const double stress_s = ms(Steady::now() - start) / 1000;

    CHECK(kills >= kills_wanted, "only %ld kills (wanted %ld; out of codes: %s)", kills, kills_wanted,
          exhausted ? "yes" : "no");
    CHECK(bad_exits == 0, "%ld children ended with an error or an unexpected signal", bad_exits);

    // Every state file parses; collect the used slots.
    std::map<std::pair<unsigned, unsigned>, std::string> used; // (user, code) -> tty
    long tmp_left = 0;
    for (unsigned u = 0; u < g_users; ++u) {
        std::optional<UserState> st;
        try {
            st = store.load(user_name(u));
        } catch (const std::exception& e) {
            CHECK(false, "%s: state does not load: %s", user_name(u).c_str(), e.what());
            continue;
        }
        if (!CHECK(st && st->codes && st->codes->slots.size() == kCodesPerUser, "%s: state lost its codes",
                   user_name(u).c_str()))
            continue;
        for (unsigned k = 0; k < kCodesPerUser; ++k)
            if (const auto& use = st->codes->slots[k].used)
                used[{u, k}] = use->tty;
        tmp_left += exists(dir.file("." + user_name(u) + ".tmp")) ? 1 : 0;
    }

    std::vector<Record> records;
    long malformed = 0;
    long child_errors = 0;
    parse_records(read_file(report_path).value_or(""), g_users, kReserved, records, malformed, child_errors);
    CHECK(malformed == 0, "%ld malformed report lines", malformed);
    CHECK(child_errors == 0, "%ld children reported an error", child_errors);

    using Attempt = std::pair<unsigned, unsigned>;          // (child, attempt)
    std::map<Attempt, std::pair<unsigned, unsigned>> typed; // attempt -> (user, code)
    std::set<Attempt> finished;
    std::set<unsigned> children_started;
    std::set<std::pair<unsigned, unsigned>> reported_codes;
    long accepted = 0;
    long refused = 0;
    for (const Record& r : records) {
        const Attempt attempt{r.child, r.attempt};
        if (r.kind == 'S') {
            typed[attempt] = {r.user, r.code};
            children_started.insert(r.child);
            continue;
        }
        finished.insert(attempt);
        if (r.kind == 'R') {
            ++refused;
            continue;
        }
        ++accepted;
        const std::string tty = "c" + std::to_string(r.child) + "a" + std::to_string(r.attempt);
        CHECK(reported_codes.insert({r.user, r.code}).second, "%s code %u reported accepted twice",
              user_name(r.user).c_str(), r.code);
        const auto it = used.find({r.user, r.code});
        if (CHECK(it != used.end(), "%s code %u: accepted (%s) but not recorded as used", user_name(r.user).c_str(),
                  r.code, tty.c_str()))
            CHECK(it->second == tty, "%s code %u: accepted by %s but recorded for %s", user_name(r.user).c_str(),
                  r.code, tty.c_str(), it->second.c_str());
    }
    long interrupted_after_rename = 0;
    for (const auto& [slot, tty] : used) {
        unsigned c = 0;
        unsigned a = 0;
        char extra = 0;
        const bool ok = std::sscanf(tty.c_str(), "c%ua%u%c", &c, &a, &extra) == 2;
        const auto t = typed.find({c, a});
        CHECK(ok && t != typed.end() && t->second == slot, "%s slot %u used by '%s', which did not type that code",
              user_name(slot.first).c_str(), slot.second, tty.c_str());
        CHECK(slot.second != kReserved, "the reserved code of %s was used", user_name(slot.first).c_str());
        interrupted_after_rename += ok && finished.count({c, a}) == 0 ? 1 : 0;
    }
    const long unreported = static_cast<long>(used.size()) - accepted;
    CHECK(unreported == interrupted_after_rename,
          "%ld uses recorded without a report, %ld interrupted attempts "
          "recorded",
          unreported, interrupted_after_rename);
    CHECK(unreported >= 0 && unreported <= kills, "%ld uses recorded without a report, %ld kills", unreported, kills);
    const long interrupted = static_cast<long>(typed.size() - finished.size());
    const long before_first = static_cast<long>(next_child) - static_cast<long>(children_started.size());

    // Nothing left behind blocks a later login.
    double slowest_final = 0;
    {
        FixedClock clock(kNow);
        Verifier v(store, stress_policy(), clock);
        for (unsigned u = 0; u < g_users; ++u) {
            const auto s = Steady::now();
            std::string first;
            std::string second;
            try {
                first = to_string(v.verify(user_name(u), users[u].code(kReserved), {}).verdict);
                second = to_string(v.verify(user_name(u), users[u].code(kReserved), {}).verdict);
            } catch (const std::exception& e) {
                first = e.what();
            }
            slowest_final = std::max(slowest_final, ms(Steady::now() - s) / 2);
            CHECK(first == "accepted", "%s: final verify: %s", user_name(u).c_str(), first.c_str());
            CHECK(second == "wrong code", "%s: final code accepted twice (%s)", user_name(u).c_str(), second.c_str());
            CHECK(!exists(dir.file("." + user_name(u) + ".tmp")), "%s: temp file still there after a write",
                  user_name(u).c_str());
        }
    }
    CHECK(slowest_final < 5000, "a final verify took %.0f ms", slowest_final);

    std::ostringstream fig;
    fig.setf(std::ios::fixed);
    fig.precision(1);
    fig << kills << " kills in " << stress_s << " s (start-up " << pace.startup_ms() << " ms, attempt "
        << pace.attempt_ms() << " ms); " << before_first << " children killed before their first attempt, "
        << interrupted << " attempts interrupted (" << interrupted_after_rename
        << " after the rename: use recorded, not reported); " << accepted << " acceptances reported, " << refused
        << " used codes refused; " << used.size() << " codes used of " << g_users * kReserved << "; " << tmp_left
        << " temp files left by kills; slowest final verify " << slowest_final << " ms";
    return summary("crash_stress", fig.str());
}
