#include "pam_login.hpp"

#include "fixture.hpp"

#include "cmocka_cxx.hpp"

#include <dlfcn.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace pamtest {

namespace {

struct Script {
    const std::vector<Reply>* replies;
    std::size_t next;
    LoginResult* result;
};

void free_replies(pam_response* replies, int n)
{
    for (int i = 0; i < n; ++i)
        std::free(replies[i].resp);
    std::free(replies);
}

extern "C" int scripted_conversation(int num_msg, const pam_message** msg, pam_response** resp, void* appdata)
{
    auto* script = static_cast<Script*>(appdata);
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(num_msg), sizeof(pam_response)));
    if (replies == nullptr)
        return PAM_BUF_ERR;
    for (int i = 0; i < num_msg; ++i) {
        const int style = msg[i]->msg_style;
        const std::string text = msg[i]->msg != nullptr ? msg[i]->msg : "";
        if (style == PAM_TEXT_INFO) {
            script->result->infos.push_back(text);
            continue;
        }
        if (style == PAM_ERROR_MSG) {
            script->result->errors.push_back(text);
            continue;
        }
        script->result->prompts.push_back(Prompt{style, text});
        if (script->next >= script->replies->size()) {
            script->result->extra_prompt = true;
            free_replies(replies, num_msg);
            return PAM_CONV_ERR;
        }
        const Reply& reply = (*script->replies)[script->next++];
        switch (reply.kind) {
        case Reply::Kind::text: {
            auto* copy = static_cast<char*>(std::malloc(reply.text.size() + 1));
            if (copy == nullptr) {
                free_replies(replies, num_msg);
                return PAM_BUF_ERR;
            }
            std::memcpy(copy, reply.text.data(), reply.text.size()); // NULs and all
            copy[reply.text.size()] = '\0';
            replies[i].resp = copy;
            break;
        }
        case Reply::Kind::null_string:
            replies[i].resp = nullptr;
            break;
        case Reply::Kind::null_array:
            free_replies(replies, num_msg);
            *resp = nullptr;
            return PAM_SUCCESS;
        case Reply::Kind::conv_error:
            free_replies(replies, num_msg);
            return PAM_CONV_ERR;
        }
    }
    *resp = replies;
    return PAM_SUCCESS;
}

// Installed as PAM_FAIL_DELAY: libpam calls it instead of sleeping, with the
// (randomised) delay the modules asked for. Tests stay fast and can assert it.
extern "C" void record_fail_delay(int /*status*/, unsigned delay_us, void* appdata)
{
    static_cast<Script*>(appdata)->result->fail_delay_us = delay_us;
}

pam_handle_t* start(const LoginRequest& request, pam_conv* conv)
{
    pam_handle_t* ph = nullptr;
    const int rc = pam_start(request.service.c_str(), request.user.c_str(), conv, &ph);
    if (rc != PAM_SUCCESS)
        fail_msg("pam_start(%s): %s", request.service.c_str(), pam_name(rc));
    if (!request.rhost.empty())
        pam_set_item(ph, PAM_RHOST, request.rhost.c_str());
    if (!request.tty.empty())
        pam_set_item(ph, PAM_TTY, request.tty.c_str());
    pam_set_item(ph, PAM_FAIL_DELAY, reinterpret_cast<const void*>(&record_fail_delay));
    for (const std::string& entry : request.pam_env)
        if (pam_putenv(ph, entry.c_str()) != PAM_SUCCESS)
            fail_msg("pam_putenv failed");
    return ph;
}

} // namespace

std::string LoginResult::log_text() const
{
    std::string out;
    for (const LogLine& line : log)
        out += line.text + "\n";
    return out;
}

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// %XX to the byte; nullopt on a malformed escape.
std::optional<std::string> percent_decoded(const std::string& text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

bool is_word(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

} // namespace

std::string LoginResult::decoded_log_text() const
{
    std::string out;
    for (const LogLine& line : log)
        out += percent_decoded(line.text).value_or(line.text) + "\n";
    return out;
}

std::optional<std::string> ParsedLogLine::value(const std::string& key) const
{
    for (const auto& [k, v] : fields)
        if (k == key)
            return v;
    return std::nullopt;
}

std::optional<ParsedLogLine> parse_log_line(const std::string& text)
{
    std::vector<std::string> tokens;
    std::size_t start = 0;
    for (;;) {
        const std::size_t space = text.find(' ', start);
        tokens.push_back(text.substr(start, space == std::string::npos ? space : space - start));
        if (space == std::string::npos)
            break;
        start = space + 1;
    }
    ParsedLogLine out;
    out.event = tokens[0];
    if (!is_word(out.event))
        return std::nullopt;
    for (std::size_t i = 1; i < tokens.size(); ++i) {
        const std::string& token = tokens[i];
        const std::size_t eq = token.find('=');
        if (eq == std::string::npos)
            return std::nullopt;
        const std::string key = token.substr(0, eq);
        const std::string raw = token.substr(eq + 1);
        if (!is_word(key) || out.value(key) || raw.empty() || raw.find('=') != std::string::npos)
            return std::nullopt;
        for (const char c : raw)
            if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                return std::nullopt;
        const std::optional<std::string> value = percent_decoded(raw);
        if (!value)
            return std::nullopt;
        out.fields.emplace_back(key, raw == "-" ? std::string() : *value);
    }
    return out;
}

std::optional<std::string> LoginResult::env_value(const std::string& name) const
{
    for (const std::string& e : env)
        if (e.compare(0, name.size() + 1, name + "=") == 0)
            return e.substr(name.size() + 1);
    return std::nullopt;
}

LoginResult login(const LoginRequest& request)
{
    LoginResult result;
    take_syslog();
    Script script{&request.replies, 0, &result};
    pam_conv conv{scripted_conversation, &script};
    pam_handle_t* ph = start(request, &conv);

    // KEEPHANDLE first: libpamtest then never calls pam_end itself, whatever
    // pam_authenticate returns, and we read the environment before ending.
    // The expected value is only libpamtest's; the tests assert result.rc.
    pam_testcase cases[2] = {};
    cases[0].pam_operation = PAMTEST_KEEPHANDLE;
    cases[1].pam_operation = PAMTEST_AUTHENTICATE;
    cases[1].expected_rv = PAM_SUCCESS;
    cases[1].flags = request.flags;
    const pamtest_err err
        = _pamtest_conv(request.service.c_str(), request.user.c_str(), scripted_conversation, &script, cases, 2, ph);
    if (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE)
        fail_msg("libpamtest: %s", pamtest_strerror(err));
    result.rc = cases[1].op_rv;

    if (char** env = pam_getenvlist(ph)) {
        for (char** e = env; *e != nullptr; ++e)
            result.env.emplace_back(*e);
        pamtest_free_env(env);
    }
    pam_end(ph, result.rc);
    result.log = take_syslog();
    return result;
}

LoginResult login_with(const std::string& user, const std::string& answer, const std::string& service)
{
    LoginRequest request;
    request.service = service;
    request.user = user;
    request.replies = {Reply::of(answer)};
    return login(request);
}

int call_module_directly(const std::string& user, const std::vector<std::string>& args,
                         const std::vector<Reply>& replies, LoginResult* out)
{
    LoginResult local;
    LoginResult& result = out != nullptr ? *out : local;
    take_syslog();
    const std::string module = env_or_die("TWOFACTOR_PAM_MODULE");
    void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
        fail_msg("dlopen %s: %s", module.c_str(), dlerror());
    using Entry = int (*)(pam_handle_t*, int, int, const char**);
    auto entry = reinterpret_cast<Entry>(dlsym(handle, "pam_sm_authenticate"));
    if (entry == nullptr)
        fail_msg("no pam_sm_authenticate in %s", module.c_str());

    LoginRequest request;
    request.user = user;
    request.replies = replies;
    Script script{&request.replies, 0, &result};
    pam_conv conv{scripted_conversation, &script};
    pam_handle_t* ph = start(request, &conv);
    std::vector<const char*> argv;
    for (const std::string& a : args)
        argv.push_back(a.c_str());
    result.rc = entry(ph, 0, static_cast<int>(argv.size()), argv.data());
    pam_end(ph, result.rc);
    dlclose(handle);
    result.log = take_syslog();
    return result.rc;
}

void assert_log_free_of(const LoginResult& result, const std::vector<std::string>& secrets)
{
    for (const LogLine& line : result.log) {
        std::string upper = line.text;
        std::string lower = line.text;
        std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        for (const std::string& secret : secrets) {
            if (secret.empty())
                continue;
            std::string s_upper = secret;
            std::transform(s_upper.begin(), s_upper.end(), s_upper.begin(),
                           [](unsigned char c) { return std::toupper(c); });
            if (upper.find(s_upper) != std::string::npos || lower.find(secret) != std::string::npos)
                fail_msg("a secret appears in the log: %s", line.text.c_str());
        }
    }
}

const char* pam_name(int rc)
{
    switch (rc) {
    case PAM_SUCCESS:
        return "PAM_SUCCESS";
    case PAM_AUTH_ERR:
        return "PAM_AUTH_ERR";
    case PAM_MAXTRIES:
        return "PAM_MAXTRIES";
    case PAM_AUTHINFO_UNAVAIL:
        return "PAM_AUTHINFO_UNAVAIL";
    case PAM_USER_UNKNOWN:
        return "PAM_USER_UNKNOWN";
    case PAM_CONV_ERR:
        return "PAM_CONV_ERR";
    case PAM_SERVICE_ERR:
        return "PAM_SERVICE_ERR";
    case PAM_IGNORE:
        return "PAM_IGNORE";
    case PAM_PERM_DENIED:
        return "PAM_PERM_DENIED";
    case PAM_BUF_ERR:
        return "PAM_BUF_ERR";
    case PAM_SYSTEM_ERR:
        return "PAM_SYSTEM_ERR";
    case PAM_ABORT:
        return "PAM_ABORT";
    case PAM_INCOMPLETE:
        return "PAM_INCOMPLETE";
    case PAM_CRED_INSUFFICIENT:
        return "PAM_CRED_INSUFFICIENT";
    default:
        return "other";
    }
}

} // namespace pamtest
