// pam_bench: times whole PAM logins in-process. For each case it calls
// pam_start / pam_authenticate / pam_end with a scripted conversation (every
// prompt is answered with the case's next code), under pam_wrapper so every
// module -- ours and the peers -- goes through the same libpam path, and
// prints a Markdown table: median and p99 per login, the ratio of the
// reference case (ours) to every other row, fsync and scrypt calls per
// login (from libbench_preload.so, when preloaded).
//
// Cases run interleaved in blocks, so drift on the machine (page cache,
// other load) touches every module alike.
//
//   LD_PRELOAD=libpam_wrapper.so:build-bench/bench/libbench_preload.so
//   PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=DIR pam_bench [options] --case CASE ...
//
// See bench/README.md for the options and bench_case.hpp for the form of CASE.
#include "bench_case.hpp"
#include "file_state_store.hpp"
#include "secret_keys.hpp"

#include <security/pam_appl.h>
#include <sys/resource.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace twofactor::bench;
using Stopwatch = std::chrono::steady_clock;

namespace {

// The preload library's entry points, or null without it.
struct Preload {
    std::uint64_t (*scrypt_calls)() = nullptr;
    std::uint64_t (*fsync_calls)() = nullptr;
    std::uint64_t (*syslog_calls)() = nullptr;
    void (*fsync_skip)(int) = nullptr;
    void (*clock_set)(std::int64_t) = nullptr;

    template <typename F>
    static F* find(const char* name)
    {
        return reinterpret_cast<F*>(dlsym(RTLD_DEFAULT, name));
    }
    Preload()
    {
        scrypt_calls = find<std::uint64_t()>("bench_scrypt_calls");
        fsync_calls = find<std::uint64_t()>("bench_fsync_calls");
        syslog_calls = find<std::uint64_t()>("bench_syslog_calls");
        fsync_skip = find<void(int)>("bench_fsync_skip");
        clock_set = find<void(std::int64_t)>("bench_clock_set");
    }
};

struct Answer {
    const char* code = "";
    int prompts = 0;
};

int converse(int count, const pam_message** messages, pam_response** responses, void* data)
{
    auto* answer = static_cast<Answer*>(data);
    auto* out = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (out == nullptr)
        return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        switch (messages[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            out[i].resp = strdup(answer->code);
            ++answer->prompts;
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            break;
        default:
            for (int j = 0; j < i; ++j)
                std::free(out[j].resp);
            std::free(out);
            return PAM_CONV_ERR;
        }
    }
    *responses = out;
    return PAM_SUCCESS;
}

// Every module asks for a failure delay; the harness measures work, not sleep.
void no_delay(int /*status*/, unsigned /*usec*/, void* /*data*/) {}

const char* result_name(int rc)
{
    switch (rc) {
    case PAM_SUCCESS:
        return "SUCCESS";
    case PAM_AUTH_ERR:
        return "AUTH_ERR";
    case PAM_MAXTRIES:
        return "MAXTRIES";
    case PAM_AUTHINFO_UNAVAIL:
        return "AUTHINFO_UNAVAIL";
    case PAM_SERVICE_ERR:
        return "SERVICE_ERR";
    case PAM_USER_UNKNOWN:
        return "USER_UNKNOWN";
    case PAM_CONV_ERR:
        return "CONV_ERR";
    case PAM_IGNORE:
        return "IGNORE";
    case PAM_PERM_DENIED:
        return "PERM_DENIED";
    case PAM_ABORT:
        return "ABORT";
    default:
        return "OTHER";
    }
}

long minor_faults()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

struct Row {
    Case spec;
    std::size_t done = 0; // calls made, warm-up included
    std::vector<double> total_ms, auth_ms;
    std::uint64_t fsyncs = 0, kdfs = 0, logs = 0;
    std::uint64_t faults = 0; // minor page faults (getrusage), timed logins only
    long prompts = 0;
    std::map<std::string, int> results;
    int mismatches = 0;
};

struct Options {
    unsigned n = 200;
    unsigned warmup = 10;
    unsigned block = 10;
    std::int64_t clock_start = 0; // 0: the real clock
    std::int64_t clock_step = 0;
    std::string ref;
    std::vector<std::string> ratios;
    std::string trace_path;
    std::string tsv_path;
    bool rss = false;
    std::vector<Case> cases;
};

double percentile(std::vector<double> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    // Nearest rank: the smallest value with at least q of the samples at or below it.
    auto rank = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return v[rank - 1];
}

double mean(const std::vector<double>& v)
{
    double sum = 0;
    for (double x : v)
        sum += x;
    return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

std::string ms(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.3f" : v < 100 ? "%.2f" : "%.1f", v);
    return buf;
}

std::string per_call(std::uint64_t total, std::size_t calls, bool known)
{
    if (!known)
        return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", calls ? static_cast<double>(total) / static_cast<double>(calls) : 0.0);
    return buf;
}

void login_once(Row& row, const Options& opt, const Preload& preload, std::int64_t& clock, std::mt19937_64& rng,
                std::FILE* trace)
{
    if (opt.clock_start != 0) {
        clock += opt.clock_step;
        preload.clock_set(clock);
    }
    const std::int64_t now = opt.clock_start != 0 ? clock : static_cast<std::int64_t>(std::time(nullptr));
    const Login login = next_login(row.spec, row.done, now, rng);
    Answer answer{login.code.c_str(), 0};
    const pam_conv conv{converse, &answer};

    if (row.spec.no_fsync && preload.fsync_skip)
        preload.fsync_skip(1);
    const std::uint64_t fsync0 = preload.fsync_calls ? preload.fsync_calls() : 0;
    const std::uint64_t kdf0 = preload.scrypt_calls ? preload.scrypt_calls() : 0;
    const std::uint64_t log0 = preload.syslog_calls ? preload.syslog_calls() : 0;
    const long faults0 = minor_faults();

    const auto t0 = Stopwatch::now();
    pam_handle_t* pamh = nullptr;
    int rc = pam_start(row.spec.service.c_str(), login.user.c_str(), &conv, &pamh);
    if (rc == PAM_SUCCESS) {
        pam_set_item(pamh, PAM_RHOST, "203.0.113.5");
        pam_set_item(pamh, PAM_TTY, "ssh");
        pam_set_item(pamh, PAM_FAIL_DELAY, reinterpret_cast<const void*>(&no_delay));
    }
    const auto t1 = Stopwatch::now();
    if (rc == PAM_SUCCESS)
        rc = pam_authenticate(pamh, 0);
    const auto t2 = Stopwatch::now();
    if (pamh != nullptr)
        pam_end(pamh, rc);
    const auto t3 = Stopwatch::now();
    const auto faults = static_cast<std::uint64_t>(minor_faults() - faults0);

    const std::uint64_t fsyncs = preload.fsync_calls ? preload.fsync_calls() - fsync0 : 0;
    const std::uint64_t kdfs = preload.scrypt_calls ? preload.scrypt_calls() - kdf0 : 0;
    const std::uint64_t logs = preload.syslog_calls ? preload.syslog_calls() - log0 : 0;
    if (row.spec.no_fsync && preload.fsync_skip)
        preload.fsync_skip(0);

    const bool measured = row.done >= opt.warmup;
    const bool expected = row.spec.expect == Expect::any || (row.spec.expect == Expect::success && rc == PAM_SUCCESS)
        || (row.spec.expect == Expect::auth_err && rc == PAM_AUTH_ERR);
    if (!expected)
        ++row.mismatches; // warm-up included: a broken setup must show
    if (measured) {
        row.total_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t0).count());
        row.auth_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
        row.fsyncs += fsyncs;
        row.kdfs += kdfs;
        row.logs += logs;
        row.faults += faults;
        row.prompts += answer.prompts;
        ++row.results[result_name(rc)];
    }
    if (trace != nullptr)
        std::fprintf(trace, "%s\t%s\t%s\t%s\t%s\t%llu\t%llu\t%d\t%.3f\n", row.spec.name.c_str(), login.user.c_str(),
                     login.label.c_str(), result_name(rc), measured ? "timed" : "warmup",
                     static_cast<unsigned long long>(kdfs), static_cast<unsigned long long>(fsyncs), answer.prompts,
                     std::chrono::duration<double, std::milli>(t3 - t0).count());
    ++row.done;

    if (row.spec.reset_every > 0 && row.done % row.spec.reset_every == 0) {
        twofactor::FileStateStore store(row.spec.reset_dir,
                                        row.spec.reset_key_file.empty()
                                            ? nullptr
                                            : twofactor::read_secret_key_file(row.spec.reset_key_file, false));
        store.update(login.user, [](std::optional<twofactor::UserState>& s) {
            if (!s)
                return false;
            s->failures = 0;
            s->locked_until = 0;
            return true;
        });
    }
}

Options parse_options(int argc, char** argv)
{
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::runtime_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--n")
            opt.n = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--warmup")
            opt.warmup = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--block")
            opt.block = std::max(1u, static_cast<unsigned>(std::stoul(value())));
        else if (a == "--clock-start")
            opt.clock_start = std::stoll(value());
        else if (a == "--clock-step")
            opt.clock_step = std::stoll(value());
        else if (a == "--ref")
            opt.ref = value();
        else if (a == "--ratio")
            opt.ratios.push_back(value());
        else if (a == "--trace")
            opt.trace_path = value();
        else if (a == "--tsv")
            opt.tsv_path = value();
        else if (a == "--rss")
            opt.rss = true;
        else if (a == "--case")
            opt.cases.push_back(parse_case(value()));
        else
            throw std::runtime_error("unknown option " + a);
    }
    if (opt.cases.empty())
        throw std::runtime_error("no --case given");
    if (opt.ref.empty())
        opt.ref = opt.cases.front().name;
    return opt;
}

void print_table(const std::vector<Row>& rows, const Options& opt, const Preload& preload)
{
    const Row* ref = nullptr;
    for (const Row& r : rows)
        if (r.spec.name == opt.ref)
            ref = &r;
    const double ref_median = ref ? percentile(ref->total_ms, 0.5) : 0;
    const double ref_p99 = ref ? percentile(ref->total_ms, 0.99) : 0;

    std::printf("| case | logins | median ms | p99 ms | mean ms | pam_authenticate only, median ms | fsync / login "
                "| scrypt / login | syslog lines / login | page faults / login | %s ÷ case, median | %s ÷ case, p99 "
                "| results |\n",
                opt.ref.c_str(), opt.ref.c_str());
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
    for (const Row& r : rows) {
        const double median = percentile(r.total_ms, 0.5);
        const double p99 = percentile(r.total_ms, 0.99);
        std::string results;
        for (const auto& [name, count] : r.results)
            results += (results.empty() ? "" : ", ") + std::to_string(count) + " " + name;
        if (r.mismatches > 0)
            results += " (**" + std::to_string(r.mismatches) + " unexpected**)";
        char ratio_median[32] = "-", ratio_p99[32] = "-";
        if (ref != nullptr && median > 0 && p99 > 0) {
            std::snprintf(ratio_median, sizeof ratio_median, "%.2f", ref_median / median);
            std::snprintf(ratio_p99, sizeof ratio_p99, "%.2f", ref_p99 / p99);
        }
        std::printf("| %s | %zu | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.spec.name.c_str(),
                    r.total_ms.size(), ms(median).c_str(), ms(p99).c_str(), ms(mean(r.total_ms)).c_str(),
                    ms(percentile(r.auth_ms, 0.5)).c_str(),
                    per_call(r.fsyncs, r.total_ms.size(), preload.fsync_calls != nullptr).c_str(),
                    per_call(r.kdfs, r.total_ms.size(), preload.scrypt_calls != nullptr).c_str(),
                    per_call(r.logs, r.total_ms.size(), preload.syslog_calls != nullptr).c_str(),
                    per_call(r.faults, r.total_ms.size(), true).c_str(), ratio_median, ratio_p99, results.c_str());
    }
    for (const std::string& ratio : opt.ratios) {
        const auto slash = ratio.find('/');
        const Row *a = nullptr, *b = nullptr;
        for (const Row& r : rows) {
            if (r.spec.name == ratio.substr(0, slash))
                a = &r;
            if (slash != std::string::npos && r.spec.name == ratio.substr(slash + 1))
                b = &r;
        }
        if (a == nullptr || b == nullptr)
            throw std::runtime_error("--ratio " + ratio + ": no such cases");
        std::printf("\nRatio %s ÷ %s: median %.2f, mean %.2f, p99 %.2f\n", a->spec.name.c_str(), b->spec.name.c_str(),
                    percentile(a->total_ms, 0.5) / percentile(b->total_ms, 0.5), mean(a->total_ms) / mean(b->total_ms),
                    percentile(a->total_ms, 0.99) / percentile(b->total_ms, 0.99));
    }
}

// One line per case for scripts: name, logins, median ms, p99 ms, fsync,
// scrypt and syslog calls per login, unexpected results, mean ms, median ms
// of pam_authenticate alone, minor page faults per login.
void write_tsv(const std::vector<Row>& rows, const std::string& path)
{
    std::FILE* f = std::fopen(path.c_str(), "a");
    if (f == nullptr)
        throw std::runtime_error("cannot write " + path);
    for (const Row& r : rows) {
        const double n = r.total_ms.empty() ? 1.0 : static_cast<double>(r.total_ms.size());
        std::fprintf(f, "%s\t%zu\t%.4f\t%.4f\t%.2f\t%.2f\t%.2f\t%d\t%.4f\t%.4f\t%.1f\n", r.spec.name.c_str(),
                     r.total_ms.size(), percentile(r.total_ms, 0.5), percentile(r.total_ms, 0.99),
                     static_cast<double>(r.fsyncs) / n, static_cast<double>(r.kdfs) / n,
                     static_cast<double>(r.logs) / n, r.mismatches, mean(r.total_ms), percentile(r.auth_ms, 0.5),
                     static_cast<double>(r.faults) / n);
    }
    std::fclose(f);
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const Options opt = parse_options(argc, argv);
        const Preload preload;
        if (opt.clock_start != 0 && preload.clock_set == nullptr)
            throw std::runtime_error("--clock-start needs libbench_preload.so in LD_PRELOAD");
        std::FILE* trace = opt.trace_path.empty() ? nullptr : std::fopen(opt.trace_path.c_str(), "w");
        if (!opt.trace_path.empty() && trace == nullptr)
            throw std::runtime_error("cannot write " + opt.trace_path);

        std::vector<Row> rows;
        for (const Case& c : opt.cases)
            rows.push_back(Row{c, 0, {}, {}, 0, 0, 0, 0, 0, {}, 0});
        std::int64_t clock = opt.clock_start;
        std::mt19937_64 rng(20261125);
        // Round-robin in blocks until every case has its warm-up and its n.
        for (bool left = true; left;) {
            left = false;
            for (Row& row : rows) {
                const std::size_t want = opt.warmup + (row.spec.n ? row.spec.n : opt.n);
                for (unsigned b = 0; b < opt.block && row.done < want; ++b)
                    login_once(row, opt, preload, clock, rng, trace);
                left = left || row.done < want;
            }
        }
        if (trace != nullptr)
            std::fclose(trace);

        print_table(rows, opt, preload);
        if (!opt.tsv_path.empty())
            write_tsv(rows, opt.tsv_path);
        if (opt.rss) {
            rusage usage{};
            getrusage(RUSAGE_SELF, &usage);
            std::printf("\npeak RSS: %ld KiB\n", usage.ru_maxrss);
        }
        int mismatches = 0;
        for (const Row& r : rows)
            mismatches += r.mismatches;
        if (mismatches > 0) {
            std::fprintf(stderr, "pam_bench: %d logins returned an unexpected PAM result\n", mismatches);
            return 3;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pam_bench: %s\n", e.what());
        return 2;
    }
}
