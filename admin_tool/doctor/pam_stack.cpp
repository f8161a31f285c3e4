#include "pam_stack.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <map>
#include <sstream>

namespace twofactor::doctor {

const char* to_string(Level level)
{
    switch (level) {
    case Level::ok:
        return "ok";
    case Level::warn:
        return "warn";
    case Level::fail:
        return "fail";
    }
    return "fail";
}

namespace {

constexpr const char* kModule = "pam_twofactor.so";
// libpam refuses deeper substack nesting; includes past it are a loop.
constexpr unsigned kMaxIncludeDepth = 16;

struct RawLine {
    unsigned number = 0;
    std::string text;
};

std::string trim(const std::string& s)
{
    const std::size_t begin = s.find_first_not_of(" \t\r");
    if (begin == std::string::npos)
        return "";
    return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

// libpam's reading: a backslash at the end of a line joins the next one,
// '#' starts a comment anywhere, blank lines are skipped.
std::vector<RawLine> logical_lines(const std::string& contents)
{
    std::vector<RawLine> out;
    std::istringstream in(contents);
    std::string physical;
    std::string pending;
    unsigned number = 0;
    unsigned first = 0;
    while (std::getline(in, physical)) {
        ++number;
        if (pending.empty())
            first = number;
        if (!physical.empty() && physical.back() == '\\') {
            physical.pop_back();
            pending += physical + " ";
            continue;
        }
        pending += physical;
        const std::size_t hash = pending.find('#');
        if (hash != std::string::npos)
            pending.erase(hash);
        std::string text = trim(pending);
        pending.clear();
        if (!text.empty())
            out.push_back({first, std::move(text)});
    }
    return out;
}

// Whitespace-separated tokens; a token opening with '[' runs to the next
// unescaped ']' (bracketed controls and arguments may hold spaces).
std::vector<std::string> tokens_of(const std::string& line)
{
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < line.size()) {
        if (line[i] == ' ' || line[i] == '\t') {
            ++i;
            continue;
        }
        std::string token;
        if (line[i] == '[') {
            while (i < line.size() && line[i] != ']') {
                if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == ']')
                    ++i;
                token += line[i++];
            }
            if (i < line.size())
                token += line[i++];
        } else {
            while (i < line.size() && line[i] != ' ' && line[i] != '\t')
                token += line[i++];
        }
        out.push_back(std::move(token));
    }
    return out;
}

std::optional<PamAction> parse_action(const std::string& word)
{
    using K = PamAction::Kind;
    static const std::map<std::string, K> named{{"ignore", K::ignore}, {"ok", K::ok},     {"bad", K::bad},
                                                {"die", K::die},       {"done", K::done}, {"reset", K::reset}};
    if (const auto it = named.find(word); it != named.end())
        return PamAction{it->second, 0};
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
    if (ec != std::errc() || end != word.data() + word.size() || n == 0)
        return std::nullopt;
    return PamAction{K::jump, n};
}

bool known_return_value(const std::string& name)
{
    static const std::array<const char*, 33> names{"success",
                                                   "open_err",
                                                   "symbol_err",
                                                   "service_err",
                                                   "system_err",
                                                   "buf_err",
                                                   "perm_denied",
                                                   "auth_err",
                                                   "cred_insufficient",
                                                   "authinfo_unavail",
                                                   "user_unknown",
                                                   "maxtries",
                                                   "new_authtok_reqd",
                                                   "acct_expired",
                                                   "session_err",
                                                   "cred_unavail",
                                                   "cred_expired",
                                                   "cred_err",
                                                   "no_module_data",
                                                   "conv_err",
                                                   "authtok_err",
                                                   "authtok_recover_err",
                                                   "authtok_lock_busy",
                                                   "authtok_disable_aging",
                                                   "try_again",
                                                   "ignore",
                                                   "abort",
                                                   "authtok_expired",
                                                   "module_unknown",
                                                   "bad_item",
                                                   "conv_again",
                                                   "incomplete",
                                                   "default"};
    return std::find(names.begin(), names.end(), name) != names.end();
}

// Fills the line's actions from its control; false if libpam would not
// understand it.
bool parse_control(const std::string& control, PamLine& line)
{
    using K = PamAction::Kind;
    if (control == "required" || control == "requisite" || control == "optional" || control == "sufficient") {
        line.on_success = {control == "sufficient" ? K::done : K::ok, 0};
        line.on_ignore = {K::ignore, 0};
        K failure = K::ignore;
        if (control == "required")
            failure = K::bad;
        else if (control == "requisite")
            failure = K::die;
        line.on_failure = {PamAction{failure, 0}};
        return true;
    }
    if (control.size() < 2 || control.front() != '[' || control.back() != ']')
        return false;
    std::map<std::string, PamAction> actions;
    std::istringstream in(control.substr(1, control.size() - 2));
    std::string pair;
    while (in >> pair) {
        const std::size_t eq = pair.find('=');
        if (eq == std::string::npos)
            return false;
        const std::string key = pair.substr(0, eq);
        const std::optional<PamAction> action = parse_action(pair.substr(eq + 1));
        if (!known_return_value(key) || !action)
            return false;
        actions[key] = *action;
    }
    const PamAction fallback = actions.count("default") ? actions["default"] : PamAction{K::bad, 0};
    line.on_success = actions.count("success") ? actions["success"] : fallback;
    line.on_ignore = actions.count("ignore") ? actions["ignore"] : fallback;
    line.on_failure = {fallback};
    for (const auto& [key, action] : actions)
        if (key != "success" && key != "ignore" && key != "default")
            line.on_failure.push_back(action);
    return true;
}

std::string lower(std::string s)
{
    for (char& c : s)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return s;
}

class StackLoader {
public:
    StackLoader(const PamFileReader& read, PamStack& stack) : read_(read), stack_(stack) {}

    // Appends the auth lines of `name` (all of its lines' auth part) in the
    // frames `frames` (their ends are filled in when known).
    void append(const std::string& name, const std::string& contents, unsigned depth, std::size_t frame_depth)
    {
        for (const RawLine& raw : logical_lines(contents)) {
            const std::string origin = name + ":" + std::to_string(raw.number);
            std::vector<std::string> t = tokens_of(raw.text);
            if (t[0] == "@include") {
                if (t.size() != 2)
                    problem(origin, "\"" + raw.text + "\" is not \"@include FILE\"");
                else
                    include(origin, t[1], depth, frame_depth, false);
                continue;
            }
            bool dash = false;
            std::string type = lower(t[0]);
            if (!type.empty() && type.front() == '-') {
                dash = true;
                type.erase(0, 1);
            }
            if (type != "auth")
                continue;
            if (t.size() < 3) {
                problem(origin, "\"" + raw.text + "\" has no module");
                continue;
            }
            if (t[1] == "include" || t[1] == "substack") {
                include(origin, t[2], depth, frame_depth, t[1] == "substack");
                continue;
            }
            PamLine line;
            line.origin = origin;
            line.text = raw.text;
            line.dash = dash;
            line.module = t[2];
            line.args.assign(t.begin() + 3, t.end());
            line.frame_ends.assign(frame_depth + 1, 0);
            if (!parse_control(t[1], line)) {
                problem(origin, "control \"" + t[1] + "\" is not one libpam knows: the line fails every login");
                // libpam treats a line it cannot parse as a failing module.
                line.on_success = line.on_ignore = {PamAction::Kind::bad, 0};
                line.on_failure = {PamAction{PamAction::Kind::bad, 0}};
            }
            stack_.auth.push_back(std::move(line));
        }
    }

private:
    void include(const std::string& origin, const std::string& name, unsigned depth, std::size_t frame_depth,
                 bool substack)
    {
        if (depth >= kMaxIncludeDepth) {
            problem(origin, "includes nest deeper than " + std::to_string(kMaxIncludeDepth) + " (a loop?)");
            return;
        }
        const std::optional<std::string> contents = read_(name);
        if (!contents) {
            problem(origin, "includes " + name + ", which does not exist: libpam fails the whole stack");
            return;
        }
        const std::size_t start = stack_.auth.size();
        append(name, *contents, depth + 1, substack ? frame_depth + 1 : frame_depth);
        if (substack)
            for (std::size_t i = start; i < stack_.auth.size(); ++i)
                stack_.auth[i].frame_ends[frame_depth + 1] = stack_.auth.size();
    }

    void problem(const std::string& origin, const std::string& what)
    {
        stack_.problems.push_back({Level::fail, "", origin + ": " + what, "correct the line (pam.conf(5))"});
    }

    const PamFileReader& read_;
    PamStack& stack_;
};

// ---- the walk through the stack ----

enum class Impression : std::uint8_t { undef, positive, negative };
enum class Outcome : std::uint8_t { success, ignore, failure };

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// What can happen from one point of the walk on.
struct Reach {
    bool success = false;        // some path ends the stack with success
    bool module_reached = false; // some path runs pam_twofactor
    std::size_t bypass = kNone;  // a success without the module ran: the line that skipped it
    bool bypassed = false;
    std::size_t wrong_code_line = kNone; // a success after the module failed: the module's line
};

class Walk {
public:
    Walk(const std::vector<PamLine>& lines, const std::vector<bool>& is_module, bool nullok,
         const std::vector<bool>& missing)
        : lines_(lines),
          is_module_(is_module),
          nullok_(nullok),
          missing_(missing),
          memo_(lines.size() * 12),
          done_(lines.size() * 12, false)
    {
    }

    Reach from(std::size_t pos, Impression imp, bool ran, bool failed)
    {
        if (pos >= lines_.size()) {
            Reach r;
            r.success = imp == Impression::positive;
            if (r.success && !ran)
                r.bypassed = true;
            if (r.success && failed)
                r.wrong_code_line = kNone - 1; // filled in by the module's line
            return r;
        }
        const std::size_t key = pos * 12 + static_cast<std::size_t>(imp) * 4 + (ran ? 2 : 0) + (failed ? 1 : 0);
        if (done_[key])
            return memo_[key];
        Reach r = step(pos, imp, ran, failed);
        memo_[key] = r;
        done_[key] = true;
        return r;
    }

private:
    Reach step(std::size_t pos, Impression imp, bool ran, bool failed)
    {
        const PamLine& line = lines_[pos];
        const bool module = is_module_[pos];
        Reach r;
        if (module && missing_[pos] && line.dash) {
            r = from(pos + 1, imp, ran, failed); // skipped silently
            if (r.bypassed && r.bypass == kNone)
                r.bypass = pos;
            return r;
        }
        std::vector<std::pair<Outcome, PamAction>> choices;
        const std::string base = module_base_name(line.module);
        const bool can_succeed = !(module && missing_[pos]) && base != "pam_deny.so";
        const bool can_fail = base != "pam_permit.so";
        const bool can_ignore = module ? nullok_ || has_arg(line, "nullok") : can_succeed && can_fail;
        if (can_succeed)
            choices.emplace_back(Outcome::success, line.on_success);
        if (can_ignore && !(module && missing_[pos]))
            choices.emplace_back(Outcome::ignore, line.on_ignore);
        if (can_fail)
            for (const PamAction& a : line.on_failure)
                choices.emplace_back(Outcome::failure, a);

        for (const auto& [outcome, action] : choices) {
            Impression next_imp = imp;
            std::size_t next = pos + 1;
            apply(action, outcome, next_imp, next, pos);
            const bool next_ran = ran || module;
            const bool next_failed = failed || (module && outcome == Outcome::failure);
            Reach child = from(next, next_imp, next_ran, next_failed);
            if (child.bypassed && child.bypass == kNone
                && (action.kind == PamAction::Kind::done || action.kind == PamAction::Kind::jump))
                child.bypass = pos;
            if (module) {
                child.module_reached = true;
                if (child.wrong_code_line == kNone - 1)
                    child.wrong_code_line = pos;
            }
            merge(r, child);
        }
        return r;
    }

    static bool has_arg(const PamLine& line, const char* arg)
    {
        return std::find(line.args.begin(), line.args.end(), arg) != line.args.end();
    }

    static void merge(Reach& into, const Reach& child)
    {
        into.success = into.success || child.success;
        into.module_reached = into.module_reached || child.module_reached;
        if (child.bypassed && !into.bypassed) {
            into.bypassed = true;
            into.bypass = child.bypass;
        }
        if (into.wrong_code_line == kNone)
            into.wrong_code_line = child.wrong_code_line;
    }

    // libpam's _pam_dispatch_aux, for the auth stack.
    void apply(const PamAction& action, Outcome outcome, Impression& imp, std::size_t& next, std::size_t pos) const
    {
        using K = PamAction::Kind;
        const std::size_t frame_end = lines_[pos].frame_ends.back();
        switch (action.kind) {
        case K::ignore:
            break;
        case K::ok:
        case K::done:
            // A non-success "ok" leaves a failing status: as good as negative.
            if (outcome != Outcome::success) {
                if (imp != Impression::negative)
                    imp = Impression::negative;
            } else if (imp == Impression::undef) {
                imp = Impression::positive;
            }
            if (action.kind == K::done)
                next = frame_end;
            break;
        case K::bad:
        case K::die:
            imp = Impression::negative;
            if (action.kind == K::die)
                next = frame_end;
            break;
        case K::reset:
            imp = Impression::undef;
            break;
        case K::jump:
            next = skip(pos, action.jump);
            break;
        }
    }

    // The line after skipping `n` modules of pos's frame (a substack counts as one).
    std::size_t skip(std::size_t pos, unsigned n) const
    {
        const std::vector<std::size_t>& frames = lines_[pos].frame_ends;
        const std::size_t end = frames.back();
        std::size_t j = pos + 1;
        for (unsigned k = 0; k < n && j < end; ++k) {
            const std::vector<std::size_t>& inner = lines_[j].frame_ends;
            j = inner.size() > frames.size() ? inner[frames.size()] : j + 1;
        }
        return std::min(j, end);
    }

    const std::vector<PamLine>& lines_;
    const std::vector<bool>& is_module_;
    bool nullok_;
    const std::vector<bool>& missing_;
    std::vector<Reach> memo_;
    std::vector<bool> done_;
};

bool is_password_module(const std::string& base)
{
    static const std::array<const char*, 6> names{"pam_unix.so", "pam_sss.so",     "pam_ldap.so",
                                                  "pam_krb5.so", "pam_winbind.so", "pam_unix2.so"};
    return std::find(names.begin(), names.end(), base) != names.end();
}

std::string control_word(const PamLine& line)
{
    const std::vector<std::string> t = tokens_of(line.text);
    return t.size() > 1 ? t[1] : "";
}

std::string module_path(const PamLine& line, const std::string& module_dir)
{
    return !line.module.empty() && line.module.front() == '/' ? line.module : module_dir + "/" + line.module;
}

} // namespace

std::string module_base_name(const std::string& module)
{
    const std::size_t slash = module.rfind('/');
    return slash == std::string::npos ? module : module.substr(slash + 1);
}

std::optional<PamStack> load_auth_stack(const std::string& service, const PamFileReader& read)
{
    const std::optional<std::string> contents = read(service);
    if (!contents)
        return std::nullopt;
    PamStack stack;
    StackLoader(read, stack).append(service, *contents, 0, 0);
    for (PamLine& line : stack.auth)
        line.frame_ends[0] = stack.auth.size();
    return stack;
}

StackReport analyse_auth_stack(const std::string& service, const PamStack& stack, const StackContext& context)
{
    StackReport report;
    const std::string check = "pam/" + service;
    auto add = [&](Level level, std::string seen, std::string fix) {
        report.findings.push_back({level, check, std::move(seen), std::move(fix)});
    };
    for (const Finding& p : stack.problems)
        add(p.level, p.seen, p.fix);

    const std::vector<PamLine>& lines = stack.auth;
    std::vector<bool> is_module(lines.size(), false);
    std::vector<bool> missing(lines.size(), false);
    std::size_t first = kNone;
    std::size_t password = kNone;
    unsigned count = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string base = module_base_name(lines[i].module);
        if (base == kModule) {
            is_module[i] = true;
            ++count;
            if (first == kNone)
                first = i;
            missing[i] = !context.module_exists(module_path(lines[i], context.module_dir));
        } else if (password == kNone && is_password_module(base)) {
            password = i;
        }
    }
    if (first == kNone) {
        add(context.expect_module ? Level::fail : Level::warn,
            std::string(kModule) + " is not in the auth stack: " + service + " logins ask no code",
            "add \"auth required pam_twofactor.so\" after the password module (or pam-auth-update --enable "
            "twofactor)");
        return report;
    }
    report.has_module = true;
    report.has_password_module = password != kNone && password < first;
    const PamLine& line = lines[first];
    const std::size_t problems_before = report.findings.size();

    if (count > 1)
        add(Level::warn,
            std::to_string(count) + " " + kModule + " lines: the code is asked " + std::to_string(count) + " times",
            "keep one (the pam-auth-update profile and an explicit line together give two)");
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!missing[i])
            continue;
        const std::string path = module_path(lines[i], context.module_dir);
        if (lines[i].dash)
            add(Level::fail,
                lines[i].origin + ": " + path
                    + " does not exist and \"-\" makes libpam skip the line: " + "logins ask no code",
                "install the module there, or correct the path");
        else
            add(Level::fail, lines[i].origin + ": " + path + " does not exist: every login fails",
                "install the module there, or correct the path");
    }

    const bool nullok
        = context.config_nullok || std::find(line.args.begin(), line.args.end(), "nullok") != line.args.end();
    Walk walk(lines, is_module, nullok, missing);
    const Reach reach = walk.from(0, Impression::undef, false, false);
    if (!reach.success) {
        if (report.findings.size() == problems_before && stack.problems.empty())
            add(Level::fail, "no path through the auth stack succeeds: every login fails",
                "check the lines before and after " + line.origin);
    } else if (reach.bypassed && reach.bypass != kNone && !is_module[reach.bypass]) {
        add(Level::fail,
            lines[reach.bypass].origin + ": \"" + lines[reach.bypass].text + "\" can end the stack with success"
                + " before " + kModule + " runs (" + line.origin + "): a login needs no code",
            std::string("move ") + kModule + " before that line, or make that line \"required\"/\"[success=ok ...]\"");
    } else if (!reach.module_reached) {
        add(Level::fail, line.origin + ": " + kModule + " is never reached: logins succeed without a code",
            "move it before the line that ends the stack");
    } else if (reach.bypassed && reach.bypass == kNone) {
        add(Level::fail, "a login can succeed without " + std::string(kModule) + " running",
            "put it in the stack as \"auth required\"");
    }
    if (reach.wrong_code_line != kNone)
        add(Level::fail,
            lines[reach.wrong_code_line].origin + ": with control \"" + control_word(lines[reach.wrong_code_line])
                + "\" a wrong code does not stop the login",
            "use \"auth required pam_twofactor.so\" (or requisite)");

    if (password != kNone && password > first)
        add(Level::warn,
            line.origin + ": the code is asked before the password (" + lines[password].origin
                + "): a password guesser can spend a user's tries and lock them out",
            "put " + std::string(kModule) + " after " + module_base_name(lines[password].module));
    if (nullok)
        add(Level::warn,
            line.origin + ": nullok" + (context.config_nullok ? " (twofactor.conf)" : "")
                + ": users who are not enrolled log in without a code",
            "enrol every user, then remove nullok");

    if (report.findings.size() == problems_before) {
        std::string seen = line.origin + ": " + kModule + ", control " + control_word(line);
        seen += report.has_password_module ? ", after " + module_base_name(lines[password].module)
                                           : ", no password module before it";
        seen += nullok ? ", nullok" : ", without nullok";
        add(Level::ok, seen, "");
    }
    return report;
}

} // namespace twofactor::doctor
