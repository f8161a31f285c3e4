// Fault injection on the update path (docs/reliability.md, section 3). A login
// consumes a backup code (and, second, a TOTP step) through Verifier::verify
// while one system call of the store fails: every open/openat, read, write,
// fsync (of the temp file and of the directory), renameat, flock, unlinkat and
// fchmod the verification makes, in turn, with EIO, with EINTR, and for write
// also with ENOSPC and a short write followed by ENOSPC. After each fault:
//  * the attempt threw StoreError (the module denies) or, only for a retried
//    EINTR, was accepted; never another outcome;
//  * the state file parses and is byte for byte the old state or the new one
//    (accepted implies the new one: no acceptance without the use on disk);
//  * no temp file is left;
//  * an error that left the new state in place says the change was made;
//  * the same code again: refused if the new state reached the disk (a
//    consumed code never comes back), accepted if not (a fault does not eat
//    a code); once more: refused; another code still works.
#include "errors.hpp"
#include "file_state_store.hpp"
#include "reliability_support.hpp"
#include "syscall_faults.hpp"
#include "verifier.hpp"

#include <cerrno>
#include <cstring>
#include <map>
#include <set>

using namespace twofactor;
using namespace reliability;

namespace {

constexpr std::int64_t kNow = 1800000000;
const LoginContext kContext{"sshd", "203.0.113.5", "ssh"};
const std::string kUser = "alice";

enum class How { backup_code, totp };
const char* to_string(How how) { return how == How::backup_code ? "backup code" : "TOTP"; }

struct Outcome {
    std::string label; // "accepted", "StoreError", ...
    bool accepted = false;
    bool store_error = false;
    std::string message; // the StoreError's
};

Outcome run_verify(Verifier& verifier, const std::string& typed)
{
    Outcome o;
    try {
        const VerifyResult r = verifier.verify(kUser, typed, kContext);
        o.label = twofactor::to_string(r.verdict);
        o.accepted = r.verdict == Verdict::accepted;
    } catch (const StoreError& e) {
        o.label = "StoreError";
        o.store_error = true;
        o.message = e.what();
    } catch (const std::exception& e) {
        o.label = std::string("unexpected exception: ") + e.what();
    }
    return o;
}

// One scenario: a fresh directory holding the enrolled state.
struct Scenario {
    TempDir dir;
    FileStateStore store{dir.path()};
    FixedClock clock{kNow};
    VerifyPolicy policy;
    Verifier verifier{store, policy, clock};
    std::string old_bytes;

    explicit Scenario(const Enrolment& e)
    {
        write_state(store, e.state(kUser, kNow));
        old_bytes = *read_file(dir.file(kUser));
    }
};

// The file a successful verification of `typed` writes, computed with the
// pure decide() from the old file.
std::string expected_new_bytes(const std::string& old_bytes, const std::string& typed, const VerifyPolicy& policy)
{
    UserState st = parse_user_state(old_bytes);
    std::optional<DerivedCode> derived;
    if (const auto normalized = normalize_backup_code(typed, st.codes->length))
        derived = derive_backup_code(*st.codes, *normalized);
    const VerifyResult r = decide(st, typed, derived, kNow, policy, kContext);
    if (r.verdict != Verdict::accepted)
        std::abort();
    return std::string(view(serialize_user_state(st)));
}

struct FaultKind {
    const char* name;
    int error;
    faults::Mode mode;
};

std::vector<FaultKind> kinds_for(faults::Call call)
{
    std::vector<FaultKind> kinds{{"EIO", EIO, faults::Mode::fail}, {"EINTR", EINTR, faults::Mode::fail}};
    if (call == faults::Call::write) {
        kinds.push_back({"ENOSPC", ENOSPC, faults::Mode::fail});
        kinds.push_back({"short write+ENOSPC", ENOSPC, faults::Mode::short_write});
    }
    if (call == faults::Call::openat)
        kinds.push_back({"EROFS", EROFS, faults::Mode::fail});
    return kinds;
}

std::string describe(const faults::Event& e)
{
    if (e.call == faults::Call::open)
        return "open(state dir)"; // not the random temp path: the figures stay comparable
    return std::string(faults::to_string(e.call)) + (e.detail.empty() ? "" : "(" + e.detail + ")");
}

struct Figures {
    int cases = 0;
    int denied = 0;
    int accepted_after_eintr = 0;
    int left_old = 0;
    int left_new = 0;
    std::set<std::string> calls_faulted;
};

void run_method(How how, const Enrolment& enrolment, Figures& fig)
{
    const std::string code = how == How::backup_code ? enrolment.code(0) : enrolment.totp(kNow);
    const std::string other = enrolment.code(1);

    // The calls one successful verification makes.
    std::vector<faults::Event> trace;
    {
        Scenario s(enrolment);
        faults::begin();
        const Outcome o = run_verify(s.verifier, code);
        trace = faults::end();
        CHECK(o.accepted, "%s: baseline verification not accepted (%s)", to_string(how), o.label.c_str());
    }
    std::printf("%s: a verification makes %zu intercepted calls:", to_string(how), trace.size());
    for (const faults::Event& e : trace)
        std::printf(" %s", describe(e).c_str());
    std::printf("\n");

    // The update path must be covered, or the test proves nothing.
    std::map<std::string, int> seen;
    for (const faults::Event& e : trace)
        ++seen[describe(e).substr(0, describe(e).find('('))];
    for (const char* needed : {"open", "openat", "write", "fsync", "renameat", "flock"})
        CHECK(seen.count(needed) != 0, "%s: no %s call seen: are the wrappers linked?", to_string(how), needed);
    bool dir_fsync = false;
    for (const faults::Event& e : trace)
        dir_fsync = dir_fsync || (e.call == faults::Call::fsync && e.detail == "directory");
    CHECK(dir_fsync, "%s: no fsync of the directory seen", to_string(how));

    for (std::size_t i = 0; i < trace.size(); ++i) {
        for (const FaultKind& kind : kinds_for(trace[i].call)) {
            Scenario s(enrolment);
            const std::string new_bytes = expected_new_bytes(s.old_bytes, code, s.policy);
            const faults::Plan plan{i, kind.error, kind.mode};
            faults::begin(&plan);
            const Outcome o = run_verify(s.verifier, code);
            faults::end();
            const std::string where = std::string(to_string(how)) + ", call " + std::to_string(i) + " "
                + describe(trace[i]) + " " + kind.name;
            ++fig.cases;
            fig.calls_faulted.insert(describe(trace[i]));

            CHECK(faults::fired(), "%s: the fault was not injected", where.c_str());
            const bool eintr = kind.error == EINTR;
            CHECK(o.store_error || (eintr && o.accepted), "%s: outcome %s, expected StoreError%s", where.c_str(),
                  o.label.c_str(), eintr ? " or accepted" : "");

            const std::optional<std::string> now_bytes = read_file(s.dir.file(kUser));
            const bool is_old = now_bytes && *now_bytes == s.old_bytes;
            const bool is_new = now_bytes && *now_bytes == new_bytes;
            CHECK(is_old || is_new, "%s: the state file is neither the old nor the new state", where.c_str());
            CHECK(!o.accepted || is_new, "%s: accepted but the use is not on disk", where.c_str());
            // An error after the new state is in place says so (the admin
            // tool's `issue` relies on it: the new set is then in effect).
            const bool says_made = o.message.find("the change was made") != std::string::npos;
            CHECK(!o.store_error || says_made == is_new, "%s: error '%s' with the %s state on disk", where.c_str(),
                  o.message.c_str(), is_new ? "new" : "old");
            bool parses = false;
            try {
                parses = s.store.load(kUser).has_value();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "%s: load: %s\n", where.c_str(), e.what());
            }
            CHECK(parses, "%s: the state file does not load", where.c_str());
            CHECK(!exists(s.dir.file("." + kUser + ".tmp")), "%s: a temp file was left behind", where.c_str());
            fig.denied += o.store_error ? 1 : 0;
            fig.accepted_after_eintr += o.accepted ? 1 : 0;
            fig.left_old += is_old ? 1 : 0;
            fig.left_new += is_new ? 1 : 0;

            // The same code again, with no fault.
            const Outcome again = run_verify(s.verifier, code);
            if (is_new)
                CHECK(again.label == "wrong code", "%s: a consumed code came back (%s)", where.c_str(),
                      again.label.c_str());
            else
                CHECK(again.accepted, "%s: the fault ate the code (retry: %s)", where.c_str(), again.label.c_str());
            const Outcome third = run_verify(s.verifier, code);
            CHECK(third.label == "wrong code", "%s: third try %s", where.c_str(), third.label.c_str());
            // The store still works: no lock or temp file left in the way.
            const Outcome next = run_verify(s.verifier, other);
            CHECK(next.accepted, "%s: another code afterwards: %s", where.c_str(), next.label.c_str());

            std::printf("  %-58s -> %-10s file=%s, retry %s\n", where.c_str() + std::strlen(to_string(how)) + 2,
                        o.label.c_str(),
                        is_new       ? "new"
                            : is_old ? "old"
                                     : "BAD",
                        again.label.c_str());
        }
    }
}

} // namespace

int main()
{
    const Enrolment enrolment = make_enrolment(10, kNow);
    Figures fig;
    run_method(How::backup_code, enrolment, fig);
    run_method(How::totp, enrolment, fig);
    std::string calls;
    for (const std::string& c : fig.calls_faulted)
        calls += (calls.empty() ? "" : ", ") + c;
    std::printf("calls faulted: %s\n", calls.c_str());
    return summary("fault_injection",
                   std::to_string(fig.cases) + " faults injected: " + std::to_string(fig.denied) + " denied, "
                       + std::to_string(fig.accepted_after_eintr) + " accepted after an EINTR retry; file left old "
                       + std::to_string(fig.left_old) + ", new " + std::to_string(fig.left_new));
}
