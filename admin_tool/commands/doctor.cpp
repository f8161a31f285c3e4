// doctor: inspects this host and changes nothing. The PAM stacks of the
// services that log people in, sshd's effective settings, the clock, the
// configuration and the store, and who can log in without being enrolled;
// one line per check (docs/doctor.md). The judgements are the pure checks
// of admin_tool/doctor/; this file only reads the host and prints them.
// It loads the configuration itself, so a broken one is a finding.
#include "commands.hpp"

#include "../doctor/host_checks.hpp"
#include "../doctor/pam_stack.hpp"
#include "../doctor/sshd_settings.hpp"
#include "../json.hpp"

#include "output.hpp"

#include "devices.hpp"
#include "errors.hpp"
#include "secret_keys.hpp"
#include "store_factory.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <shadow.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#ifndef TWOFACTOR_PAM_MODULE_DIR
#error "TWOFACTOR_PAM_MODULE_DIR must be defined by the build"
#endif

namespace twofactor::admin {
namespace {

using doctor::Finding;
using doctor::Findings;
using doctor::Level;

constexpr const char* kPamDir = "/etc/pam.d";
constexpr const char* kSshd = "/usr/sbin/sshd";
// The services that log people in, sshd first: the one that must ask.
constexpr const char* kServices[] = {"sshd", "login", "su", "sudo"};
// `sshd -T` prints a few kB; more is not sshd.
constexpr std::size_t kMaxSshdOutput = 1 << 20;

std::optional<std::string> read_text_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool file_exists(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

struct PamResult {
    Findings findings;
    doctor::SshdNeeds sshd;
};

PamResult check_pam(const Config& config)
{
    PamResult result;
    const doctor::PamFileReader read = [](const std::string& name) {
        return read_text_file(!name.empty() && name.front() == '/' ? name : std::string(kPamDir) + "/" + name);
    };
    for (const char* service : kServices) {
        const std::optional<doctor::PamStack> stack = doctor::load_auth_stack(service, read);
        if (!stack) {
            result.findings.push_back({Level::ok, std::string("pam/") + service,
                                       std::string("no ") + kPamDir + "/" + service + " (not installed)", ""});
            continue;
        }
        doctor::StackContext context{TWOFACTOR_PAM_MODULE_DIR, config.nullok, std::string(service) == "sshd",
                                     file_exists};
        doctor::StackReport report = doctor::analyse_auth_stack(service, *stack, context);
        if (std::string(service) == "sshd") {
            result.sshd.module_in_stack = report.has_module;
            result.sshd.password_in_stack = report.has_password_module;
        }
        for (Finding& f : report.findings)
            result.findings.push_back(std::move(f));
    }
    return result;
}

// Runs `sshd -T` without a shell; its standard error joins the output, so
// a refusal can be shown. Returns the exit status (-1: did not run).
int run_sshd_test(std::string& output)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0)
            ::dup2(null, STDIN_FILENO);
        char arg0[] = "sshd";
        char arg1[] = "-T";
        char* argv[] = {arg0, arg1, nullptr};
        char* envp[] = {nullptr};
        ::execve(kSshd, argv, envp);
        ::_exit(127);
    }
    ::close(fds[1]);
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (output.size() < kMaxSshdOutput)
            output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Findings check_sshd(const doctor::SshdNeeds& needs)
{
    if (::access(kSshd, X_OK) != 0)
        return {{Level::ok, "sshd", std::string(kSshd) + " is not installed", ""}};
    std::string output;
    const int status = run_sshd_test(output);
    if (status != 0) {
        const std::string first = output.substr(0, output.find('\n'));
        return {{needs.module_in_stack ? Level::fail : Level::warn, "sshd",
                 "\"sshd -T\" failed" + (first.empty() ? std::string() : ": " + cli::printable(first)),
                 "fix sshd_config (\"sshd -t\" says what is wrong)"}};
    }
    return doctor::analyse_sshd_settings(doctor::parse_sshd_settings(output), needs);
}

Finding check_clock(const Config& config)
{
    struct timex tx {};
    const int state = ::ntp_adjtime(&tx); // modes 0: only reads
    if (state < 0)
        return {Level::warn, "clock", std::string("adjtimex: ") + std::strerror(errno),
                "check the clock with timedatectl"};
    doctor::ClockReading reading;
    reading.synchronised = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
    reading.est_error_us = tx.esterror;
    reading.max_error_us = tx.maxerror;
    return doctor::check_clock(reading, config.window, config.totp.period);
}

Finding check_state_directory(const Config& config)
{
    struct stat st {};
    if (::lstat(config.state_dir.c_str(), &st) != 0)
        return {errno == ENOENT ? Level::warn : Level::fail, "store", config.state_dir + ": " + std::strerror(errno),
                "create it: install -d -m 0700 -o root -g root " + config.state_dir};
    if (!S_ISDIR(st.st_mode))
        return {Level::fail, "store", config.state_dir + " is not a directory (a symlink?)",
                "make it a real directory, mode 0700, owned by root"};
    if (st.st_uid != 0 || (st.st_mode & 077) != 0) {
        std::ostringstream mode;
        mode << std::oct << (st.st_mode & 07777);
        return {Level::fail, "store",
                config.state_dir + ": owner uid " + std::to_string(st.st_uid) + ", mode 0" + mode.str()
                    + ": the module refuses it, every login fails",
                "chown root:root " + config.state_dir + " && chmod 0700 " + config.state_dir};
    }
    return {Level::ok, "store", config.state_dir + ": owned by root, mode 0700", ""};
}

std::vector<std::string> login_shells()
{
    std::vector<std::string> shells;
    std::ifstream in("/etc/shells");
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && line.front() == '/')
            shells.push_back(line);
    return shells;
}

struct Account {
    std::string name;
    std::string shell;
};

std::vector<Account> all_accounts()
{
    std::vector<Account> out;
    ::setpwent();
    while (const passwd* pw = ::getpwent())
        out.push_back({pw->pw_name, pw->pw_shell ? pw->pw_shell : ""});
    ::endpwent();
    return out;
}

// How the stored secrets are kept, counted by check_coverage's scan.
struct SecretCount {
    std::size_t sealed = 0;
    std::size_t clear = 0;
};

Findings check_coverage(const Config& config, StateStore& store, std::int64_t now, SecretCount& secrets)
{
    Findings out;
    const std::vector<std::string> shells = login_shells();
    std::vector<std::string> candidates;
    bool shadow_unreadable = false;
    for (const Account& a : all_accounts()) {
        if (!valid_user_name(a.name) || !doctor::has_login_shell(a.shell, shells))
            continue;
        errno = 0;
        const spwd* sp = ::getspnam(a.name.c_str());
        if (!sp) {
            shadow_unreadable = shadow_unreadable || errno == EACCES;
            continue;
        }
        if (doctor::has_password(sp->sp_pwdp ? sp->sp_pwdp : ""))
            candidates.push_back(a.name);
    }
    if (shadow_unreadable)
        out.push_back({Level::warn, "coverage", "cannot read /etc/shadow: accounts were not checked",
                       "run twofactor-admin doctor as root"});

    std::vector<std::string> unenrolled;
    const std::vector<LoadedState> loaded = store.load_many(candidates);
    for (std::size_t i = 0; i < candidates.size(); ++i)
        if (loaded[i].error.empty() && !(loaded[i].state && loaded[i].state->enrolled()))
            unenrolled.push_back(candidates[i]);
    if (!shadow_unreadable)
        out.push_back(doctor::check_unenrolled(unenrolled, config.nullok));

    const std::vector<std::string> users = store.users();
    const std::vector<LoadedState> states = store.load_many(users);
    for (std::size_t i = 0; i < users.size(); ++i) {
        if (!states[i].error.empty()) {
            out.push_back({Level::fail, "coverage", users[i] + ": state unreadable: " + states[i].error,
                           "twofactor-admin list " + users[i] + " says more"});
            continue;
        }
        if (!states[i].state)
            continue;
        const UserState& s = *states[i].state;
        for (const Authenticator& a : s.authenticators)
            ++(a.sealed.empty() ? secrets.clear : secrets.sealed);
        if (s.locked_until > now)
            out.push_back({Level::warn, "coverage",
                           users[i] + " is locked out until " + cli::format_time(s.locked_until),
                           "twofactor-admin unlock " + users[i]});
        if (s.codes && s.codes->remaining() <= config.warn_remaining)
            out.push_back({Level::warn, "coverage",
                           users[i] + " has " + std::to_string(s.codes->remaining()) + " of "
                               + std::to_string(s.codes->slots.size()) + " backup codes left (warn_remaining "
                               + std::to_string(config.warn_remaining) + ")",
                           "twofactor-admin issue " + users[i]});
    }
    return out;
}

Findings check_store_and_coverage(const Config& config)
{
    Findings out;
    if (config.store == Config::Store::file)
        out.push_back(check_state_directory(config));
    // A bad state directory already says why the store does not open.
    const bool directory_bad = !out.empty() && out.back().level != Level::ok;
    const bool postgresql = config.store == Config::Store::postgresql;
    // An unsafe or malformed key file (or a configured one missing) fails
    // every login; the store is not opened without the keys it needs.
    std::shared_ptr<const SecretKeys> keys;
    try {
        keys = load_secret_keys(config);
    } catch (const ConfigError& e) {
        out.push_back({Level::fail, "secrets", cli::printable(e.what()) + ": the module denies every login",
                       "root-owned regular file, mode 0600 (twofactor-admin key init makes one); see docs/secrets.md"});
        return out;
    }
    if (!keys)
        out.push_back(doctor::check_no_secret_key(postgresql, config.secret_key_file));
    std::unique_ptr<StateStore> store;
    try {
        store = open_state_store(config, keys);
        (void)store->users(); // reaches the database and checks its schema
        if (postgresql)
            out.push_back({Level::ok, "store",
                           "PostgreSQL reachable (" + config.pg_conninfo_origin + "), schema at this build's version",
                           ""});
    } catch (const std::exception& e) {
        if (postgresql || !directory_bad)
            out.push_back(
                {Level::fail, "store", cli::printable(e.what()),
                 postgresql ? "see docs/fleet.md (TLS: sslmode=verify-full with sslrootcert=)" : "see docs/store.md"});
        return out;
    }
    const SystemClock clock;
    try {
        SecretCount secrets;
        for (Finding& f : check_coverage(config, *store, clock.now(), secrets))
            out.push_back(std::move(f));
        if (keys)
            out.push_back(doctor::check_sealed(config.secret_key_file, secrets.sealed, secrets.clear));
    } catch (const std::exception& e) {
        out.push_back({Level::fail, "coverage", cli::printable(e.what()), "see docs/store.md"});
    }
    return out;
}

void print_text(cli::OutputBuffer& out, const Findings& findings)
{
    for (const Finding& f : findings) {
        out.padded(to_string(f.level), 6);
        out.padded(f.check, 12);
        out << f.seen;
        if (!f.fix.empty())
            out << " -- fix: " << f.fix;
        out << '\n';
    }
}

void print_json(cli::OutputBuffer& out, const Findings& findings)
{
    JsonWriter w(out);
    w.begin_object().field("version", 1u).key("checks").begin_array();
    std::uint64_t failures = 0;
    std::uint64_t warnings = 0;
    for (const Finding& f : findings) {
        failures += f.level == Level::fail ? 1 : 0;
        warnings += f.level == Level::warn ? 1 : 0;
        w.begin_object()
            .field("level", to_string(f.level))
            .field("check", f.check)
            .field("seen", f.seen)
            .field("fix", f.fix)
            .end_object();
    }
    w.end_array().field("failures", failures).field("warnings", warnings).end_object();
    out << '\n';
}

class DoctorCommand final : public Command {
public:
    const char* name() const override { return "doctor"; }
    const char* synopsis() const override { return "[--json]"; }
    const char* summary() const override { return "check PAM, sshd, the clock, the store and who is covered"; }
    const char* details() const override
    {
        return "Inspects this host and changes nothing: the PAM stacks of sshd, login, su and sudo,\n"
               "sshd's effective settings (sshd -T), the clock, the configuration and the store,\n"
               "and the accounts that can log in without a second factor. One line per check:\n"
               "ok, warn or fail, what was seen and the fix (docs/doctor.md). Run it as root.\n"
               "Exit status 0 if no check fails, 1 otherwise.\n";
    }

    void declare(po::options_description& shown, po::options_description& /*hidden*/,
                 po::positional_options_description& /*positional*/) const override
    {
        shown.add_options()("json", po::bool_switch(), "print as JSON (docs/json.md)");
    }

    bool loads_config_itself() const override { return true; }

    ExitCode run(const Context& ctx) const override { return diagnose(ctx.options, "", {}); }

    ExitCode diagnose(const po::variables_map& options, const std::string& config_path,
                      const std::vector<Setting>& overrides) const override
    {
        Findings findings;
        Config config;
        bool config_ok = true;
        try {
            config = load_config(config_path, overrides);
            findings.push_back({Level::ok, "config",
                                (config_path.empty() ? std::string(kDefaultConfigPath) : config_path) + " parses", ""});
        } catch (const ConfigError& e) {
            config_ok = false;
            findings.push_back({Level::fail, "config", cli::printable(e.what()),
                                "correct it (twofactor.conf(5)); the module denies every login meanwhile"});
        }
        PamResult pam = check_pam(config);
        pam.sshd.auth_info = config.remember_days > 0 && uses_key(config.remember_by);
        for (Finding& f : pam.findings)
            findings.push_back(std::move(f));
        for (Finding& f : check_sshd(pam.sshd))
            findings.push_back(std::move(f));
        findings.push_back(check_clock(config));
        if (config_ok)
            for (Finding& f : check_store_and_coverage(config))
                findings.push_back(std::move(f));

        cli::OutputBuffer out;
        if (flag(options, "json"))
            print_json(out, findings);
        else
            print_text(out, findings);
        out.flush();
        for (const Finding& f : findings)
            if (f.level == Level::fail)
                return ExitCode::failed;
        return ExitCode::ok;
    }
};

} // namespace

std::unique_ptr<Command> make_doctor_command() { return std::make_unique<DoctorCommand>(); }

} // namespace twofactor::admin
