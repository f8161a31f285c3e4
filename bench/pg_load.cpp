// A fleet logging in at once: `pg_load --hosts N --logins M --kind
// right|wrong --secret HEX --users PREFIX:FIRST --out DIR` forks N processes,
// the simulated hosts; host H logs in through the PAM service "hostHH" (its
// own configuration: bench/pg_load.sh writes them) M times, one login after
// the other, with no fail delay, all hosts starting together.
//
// Hosts 2j and 2j+1 log in the same users in the same order (login i: user
// PREFIX(FIRST + i*N/2 + j)), so each user is tried twice at about the same
// moment: with right TOTP codes, exactly one of the two is accepted when both
// fall in one 30 s step (the other is a replay), and no (user, step) may be
// accepted twice. With wrong codes every login must be refused. Each host
// writes one line per login to DIR/hostHH.tsv; then one markdown row:
// logins, seconds, logins per second, p50/p99 latency (pam_start to pam_end),
// accepted, errors (any other result), double accepts, CPU time of the
// hosts' processes per login.
//
// With `--rate R` the hosts do not log in back to back but on a schedule:
// login i of host H starts at (i * N + H) / R seconds after a common start,
// R logins per second in all whatever the logins take (an open system, as
// logins arrive at a fleet). A login that cannot start on time because its
// host is still busy starts late, and its latency counts from the time it
// was due, so a store that falls behind shows it in p50/p99 instead of
// slowing the schedule down. Without --rate (a closed system: N logins in
// flight at all times) the mean latency is N / throughput by Little's law,
// so p99 there measures the queue the run itself keeps full.
#include "bench_case.hpp"

#include <security/pam_appl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using twofactor::bench::totp_code;

struct Options {
    unsigned hosts = 32;
    unsigned logins = 100;
    bool right = true;
    std::vector<unsigned char> secret;
    std::string prefix = "load";
    unsigned first = 0;
    std::string out = ".";
    std::string label = "load";
    double rate = 0;           // logins per second for all hosts; 0: back to back
    long long start_at_us = 0; // the common start of a paced run (steady clock)
};

struct Result {
    long long start_us = 0, end_us = 0;
    int rc = 0;
    std::string user;
    long long step = 0;
};

extern "C" int answer(int num_msg, const pam_message** msg, pam_response** resp, void* appdata)
{
    const auto* code = static_cast<const std::string*>(appdata);
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(num_msg), sizeof(pam_response)));
    if (replies == nullptr)
        return PAM_BUF_ERR;
    for (int i = 0; i < num_msg; ++i)
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            replies[i].resp = ::strdup(code->c_str());
    *resp = replies;
    return PAM_SUCCESS;
}

extern "C" void no_delay(int /*status*/, unsigned /*usec*/, void* /*appdata*/) {}

long long now_us()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

int login(const std::string& service, const std::string& user, const std::string& code)
{
    pam_conv conv{answer, const_cast<std::string*>(&code)};
    pam_handle_t* ph = nullptr;
    int rc = pam_start(service.c_str(), user.c_str(), &conv, &ph);
    if (rc != PAM_SUCCESS)
        return rc;
    pam_set_item(ph, PAM_RHOST, "192.0.2.1");
    pam_set_item(ph, PAM_FAIL_DELAY, reinterpret_cast<const void*>(&no_delay));
    rc = pam_authenticate(ph, 0);
    pam_end(ph, rc);
    return rc;
}

// A code that is none of the steps now-2..now+2 (the module's window is smaller).
std::string wrong_code(const std::vector<unsigned char>& secret, std::time_t now)
{
    std::vector<std::string> taken;
    for (int k = -2; k <= 2; ++k)
        taken.push_back(totp_code(secret, now + 30 * k, 6));
    for (unsigned v = 0;; v += 111111) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%06u", v % 1000000);
        if (std::find(taken.begin(), taken.end(), buf) == taken.end())
            return buf;
    }
}

std::string user_name(const Options& o, unsigned host, unsigned i)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%06u", o.prefix.c_str(), o.first + i * (o.hosts / 2) + host / 2);
    return buf;
}

[[noreturn]] void run_host(const Options& o, unsigned host, int start_fd)
{
    char byte = 0;
    while (::read(start_fd, &byte, 1) > 0) {} // end of file: go
    char service[32];
    std::snprintf(service, sizeof service, "host%02u", host);
    std::vector<Result> results;
    results.reserve(o.logins);
    for (unsigned i = 0; i < o.logins; ++i) {
        Result r;
        r.user = user_name(o, host, i);
        long long due_us = 0;
        if (o.rate > 0) {
            due_us = o.start_at_us + static_cast<long long>(static_cast<double>(i * o.hosts + host) * 1e6 / o.rate);
            std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::microseconds(due_us)));
        }
        const std::time_t now = std::time(nullptr);
        r.step = static_cast<long long>(now / 30);
        const std::string code = o.right ? totp_code(o.secret, now, 6) : wrong_code(o.secret, now);
        r.start_us = o.rate > 0 ? due_us : now_us();
        r.rc = login(service, r.user, code);
        r.end_us = now_us();
        results.push_back(std::move(r));
    }
    std::ofstream out(o.out + "/" + service + ".tsv");
    for (const Result& r : results)
        out << r.start_us << '\t' << r.end_us << '\t' << r.rc << '\t' << r.user << '\t' << r.step << '\n';
    out.close();
    std::_Exit(out ? 0 : 1);
}

std::vector<unsigned char> parse_hex(const std::string& hex)
{
    std::vector<unsigned char> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<unsigned char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

Options parse(int argc, char** argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--hosts")
            o.hosts = static_cast<unsigned>(std::stoul(value));
        else if (key == "--logins")
            o.logins = static_cast<unsigned>(std::stoul(value));
        else if (key == "--kind")
            o.right = value == "right";
        else if (key == "--secret")
            o.secret = parse_hex(value);
        else if (key == "--users") {
            const auto colon = value.find(':');
            o.prefix = value.substr(0, colon);
            o.first = colon == std::string::npos ? 0 : static_cast<unsigned>(std::stoul(value.substr(colon + 1)));
        } else if (key == "--out")
            o.out = value;
        else if (key == "--label")
            o.label = value;
        else if (key == "--rate")
            o.rate = std::stod(value);
        else
            throw std::runtime_error("unknown option " + key);
    }
    if (o.hosts < 2 || o.hosts % 2 != 0 || o.hosts > 99 || o.secret.empty())
        throw std::runtime_error("usage: pg_load --hosts EVEN(2-98) --logins M --kind right|wrong --secret HEX "
                                 "--users PREFIX:FIRST --out DIR [--label TEXT] [--rate LOGINS_PER_S]");
    return o;
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pg_load: %s\n", e.what());
        return 2;
    }
    // A paced run's schedule starts once every host is forked.
    o.start_at_us = now_us() + 300000;
    int start[2];
    if (::pipe(start) != 0)
        return 1;
    std::vector<pid_t> children;
    for (unsigned h = 0; h < o.hosts; ++h) {
        const pid_t pid = ::fork();
        if (pid < 0) {
            std::perror("fork");
            return 1;
        }
        if (pid == 0) {
            ::close(start[1]);
            run_host(o, h, start[0]);
        }
        children.push_back(pid);
    }
    ::close(start[0]);
    ::close(start[1]); // every host starts now
    bool failed = false;
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    if (failed) {
        std::fprintf(stderr, "pg_load: a host process failed\n");
        return 1;
    }

    std::vector<double> latencies;
    long long first = -1, last = 0;
    unsigned accepted = 0, errors = 0, doubles = 0;
    std::map<std::pair<std::string, long long>, unsigned> accepts;
    std::map<int, unsigned> other;
    for (unsigned h = 0; h < o.hosts; ++h) {
        char name[32];
        std::snprintf(name, sizeof name, "/host%02u.tsv", h);
        std::ifstream in(o.out + name);
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            Result r;
            f >> r.start_us >> r.end_us >> r.rc >> r.user >> r.step;
            first = first < 0 ? r.start_us : std::min(first, r.start_us);
            last = std::max(last, r.end_us);
            latencies.push_back(static_cast<double>(r.end_us - r.start_us) / 1000.0);
            const bool expected = r.rc == PAM_AUTH_ERR || (o.right && r.rc == PAM_SUCCESS);
            if (!expected) {
                ++errors;
                ++other[r.rc];
            }
            if (r.rc == PAM_SUCCESS) {
                ++accepted;
                if (++accepts[{r.user, r.step}] == 2)
                    ++doubles;
            }
        }
    }
    std::sort(latencies.begin(), latencies.end());
    const auto pct = [&](double p) {
        return latencies.empty()
            ? 0.0
            : latencies[std::min(latencies.size() - 1,
                                 static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
    };
    const double seconds = static_cast<double>(last - first) / 1e6;
    std::string error_text = std::to_string(errors);
    for (const auto& [rc, n] : other)
        error_text += " (rc " + std::to_string(rc) + " ×" + std::to_string(n) + ")";
    // CPU time of the hosts (every login's process), per login.
    rusage usage{};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    const double cpu_ms = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3
        + static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
    std::printf("| %-28s | %5u | %6zu | %6.2f | %7.0f | %6.2f | %6.2f | %6u | %s | %u | %5.2f |\n", o.label.c_str(),
                o.hosts, latencies.size(), seconds, static_cast<double>(latencies.size()) / seconds, pct(0.5),
                pct(0.99), accepted, error_text.c_str(), doubles,
                cpu_ms / static_cast<double>(std::max<std::size_t>(1, latencies.size())));
    return errors == 0 && doubles == 0 ? 0 : 3;
}
