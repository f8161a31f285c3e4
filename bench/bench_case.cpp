#include "bench_case.hpp"

#include <liboath/oath.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace twofactor::bench {

namespace {

std::vector<unsigned char> parse_hex(const std::string& hex)
{
    if (hex.empty() || hex.size() % 2 != 0)
        throw std::runtime_error("bad hex secret");
    std::vector<unsigned char> out;
    for (std::size_t i = 0; i < hex.size(); i += 2)
        out.push_back(static_cast<unsigned char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

unsigned parse_unsigned(const std::string& key, const std::string& value)
{
    std::size_t used = 0;
    const unsigned long v = std::stoul(value, &used);
    if (used != value.size() || v > 100000000UL)
        throw std::runtime_error("case: bad number for " + key);
    return static_cast<unsigned>(v);
}

std::vector<ScriptLine> read_script(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read script " + path);
    std::vector<ScriptLine> lines;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        ScriptLine s;
        if (!(fields >> s.user >> s.code))
            continue;
        fields >> s.label;
        lines.push_back(std::move(s));
    }
    return lines;
}

// A code that is none of the codes of steps now-1500..now+1500 (25 hours
// either side: google-authenticator's skew search), so every module does its
// whole wrong-code path and none "finds" a skewed clock.
std::string wrong_code(const std::vector<unsigned char>& secret, std::int64_t now, unsigned digits)
{
    std::set<std::string> taken;
    for (std::int64_t step = -1500; step <= 1500; ++step)
        taken.insert(totp_code(secret, now + step * 30, digits));
    for (unsigned v = 0;; ++v) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%0*u", static_cast<int>(digits), v);
        if (taken.count(buf) == 0)
            return buf;
    }
}

} // namespace

std::string totp_code(const std::vector<unsigned char>& secret, std::int64_t now, unsigned digits)
{
    static const bool initialised = oath_init() == OATH_OK;
    if (!initialised)
        throw std::runtime_error("oath_init failed");
    char out[16] = {};
    const int rc = oath_totp_generate(reinterpret_cast<const char*>(secret.data()), secret.size(),
                                      static_cast<time_t>(now), 30, 0, digits, out);
    if (rc != OATH_OK)
        throw std::runtime_error(std::string("oath_totp_generate: ") + oath_strerror(rc));
    return out;
}

Case parse_case(const std::string& spec)
{
    Case c;
    std::istringstream words(spec);
    std::string word;
    while (words >> word) {
        const auto eq = word.find('=');
        const std::string key = word.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
        if (key == "name")
            c.name = value;
        else if (key == "service")
            c.service = value;
        else if (key == "user")
            c.user = value;
        else if (key == "users") {
            const auto colon = value.find(':');
            if (colon == std::string::npos)
                throw std::runtime_error("case: users=PREFIX:COUNT");
            c.user_prefix = value.substr(0, colon);
            c.user_count = parse_unsigned(key, value.substr(colon + 1));
        } else if (key == "code")
            c.code = value;
        else if (key == "totp")
            c.totp_secret = parse_hex(value);
        else if (key == "wrong") {
            c.totp_secret = parse_hex(value);
            c.wrong_totp = true;
        } else if (key == "digits")
            c.digits = parse_unsigned(key, value);
        else if (key == "script")
            c.script = read_script(value);
        else if (key == "expect") {
            if (value == "success")
                c.expect = Expect::success;
            else if (value == "auth_err")
                c.expect = Expect::auth_err;
            else if (value == "any")
                c.expect = Expect::any;
            else
                throw std::runtime_error("case: expect=success|auth_err|any");
        } else if (key == "n")
            c.n = parse_unsigned(key, value);
        else if (key == "nofsync")
            c.no_fsync = true;
        else if (key == "reset") {
            const auto colon = value.rfind(':');
            if (colon == std::string::npos)
                throw std::runtime_error("case: reset=STATE_DIR:EVERY");
            c.reset_dir = value.substr(0, colon);
            c.reset_every = parse_unsigned(key, value.substr(colon + 1));
        } else if (key == "resetkey")
            c.reset_key_file = value;
        else
            throw std::runtime_error("case: unknown key '" + key + "'");
    }
    if (c.name.empty() || c.service.empty())
        throw std::runtime_error("case: name= and service= are required");
    const bool has_user = !c.user.empty() || c.user_count > 0 || !c.script.empty();
    const bool has_code = !c.code.empty() || !c.totp_secret.empty() || !c.script.empty();
    if (!has_user || !has_code)
        throw std::runtime_error("case " + c.name + ": needs a user (user=, users=, script=) and a code");
    return c;
}

Login next_login(Case& c, std::size_t index, std::int64_t now, std::mt19937_64& rng)
{
    Login login;
    if (!c.script.empty()) {
        if (index >= c.script.size())
            throw std::runtime_error("case " + c.name + ": script has only " + std::to_string(c.script.size())
                                     + " lines");
        const ScriptLine& s = c.script[index];
        login = {s.user, s.code, s.label};
    }
    if (!c.user.empty())
        login.user = c.user;
    else if (c.user_count > 0) {
        char buf[32];
        const auto pick = static_cast<unsigned>(rng() % c.user_count);
        std::snprintf(buf, sizeof buf, "%s%06u", c.user_prefix.c_str(), pick);
        login.user = buf;
    }
    if (!c.code.empty())
        login.code = c.code;
    else if (c.wrong_totp) {
        // The same answer while the clock stands still; recomputed if it moves.
        if (now / 30 != c.wrong_step) {
            c.wrong_cached = wrong_code(c.totp_secret, now, c.digits);
            c.wrong_step = now / 30;
        }
        login.code = c.wrong_cached;
    } else if (!c.totp_secret.empty())
        login.code = totp_code(c.totp_secret, now, c.digits);
    return login;
}

} // namespace twofactor::bench
