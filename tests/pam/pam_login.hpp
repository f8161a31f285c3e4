// One pam_authenticate through real libpam (pam_wrapper redirects it to the
// generated services) with a scripted conversation: every prompt, message,
// the fail delay libpam asked for, and every pam_syslog line are recorded.
#pragma once

#include <optional>
#include <string>
#include <vector>

// libpamtest 1.1.4 has no C++ guards.
extern "C" {
#include <libpamtest.h>
}

namespace pamtest {

// One scripted answer to one prompt.
struct Reply {
    enum class Kind {
        text,        // malloc'd copy of `text`, NULs included, plus a terminator
        null_string, // a reply array whose string is NULL
        null_array,  // PAM_SUCCESS but no reply array at all
        conv_error,  // the conversation function fails with PAM_CONV_ERR
    };
    Kind kind = Kind::text;
    std::string text;

    static Reply of(std::string text) { return Reply{Kind::text, std::move(text)}; }
    static Reply with(Kind kind) { return Reply{kind, {}}; }
};

struct Prompt {
    int style = 0; // PAM_PROMPT_ECHO_OFF / PAM_PROMPT_ECHO_ON
    std::string text;
};

struct LogLine {
    int priority = 0;
    std::string text;
};

struct LoginRequest {
    std::string service = "twofactor";
    std::string user = "alice";
    std::vector<Reply> replies;
    std::string rhost = "203.0.113.5";
    std::string tty = "ssh";
    int flags = 0;
    // "NAME=value" entries put in the PAM environment before the stack
    // runs, as sshd puts SSH_AUTH_INFO_0 there (pam_putenv).
    std::vector<std::string> pam_env;
};

struct LoginResult {
    int rc = -1;
    std::vector<Prompt> prompts;
    std::vector<std::string> infos;
    std::vector<std::string> errors;
    bool extra_prompt = false;    // the module asked more than was scripted
    unsigned fail_delay_us = 0;   // what libpam handed our delay function
    std::vector<std::string> env; // the PAM environment afterwards
    std::vector<LogLine> log;     // pam_syslog lines during this login
    std::string log_text() const; // all of them, one per line
    // The same with every %XX of the values decoded: to find an error text,
    // not to check the format.
    std::string decoded_log_text() const;
    std::optional<std::string> env_value(const std::string& name) const;
};

LoginResult login(const LoginRequest& request);

// A log line read by the grammar pam_twofactor(8) documents: an event word,
// then key=value fields separated by single spaces, every key at most once,
// no space or '=' in a value, %XX escapes decoded. nullopt if the line
// breaks the grammar.
struct ParsedLogLine {
    std::string event;
    std::vector<std::pair<std::string, std::string>> fields;
    std::optional<std::string> value(const std::string& key) const;
};
std::optional<ParsedLogLine> parse_log_line(const std::string& text);

// Shorthand: one text answer.
LoginResult login_with(const std::string& user, const std::string& answer, const std::string& service = "twofactor");

// The module called directly through dlopen/dlsym (under a handle from
// pam_start), for return codes that libpam's stack logic would rewrite
// (a lone PAM_IGNORE).
int call_module_directly(const std::string& user, const std::vector<std::string>& args,
                         const std::vector<Reply>& replies, LoginResult* out = nullptr);

// Fails the test unless no pam_syslog line so far contains any of `secrets`
// (also checked in upper and lower case).
void assert_log_free_of(const LoginResult& result, const std::vector<std::string>& secrets);

// Syslog capture (syslog_capture.cpp): lines logged since the last take.
std::vector<LogLine> take_syslog();

const char* pam_name(int rc);

} // namespace pamtest

// PAM results by name in the failure message (cmocka's fail_msg: include
// cmocka_cxx.hpp too).
#define assert_pam(actual, expected)                                                                                   \
    do {                                                                                                               \
        const int actual_ = (actual);                                                                                  \
        const int expected_ = (expected);                                                                              \
        if (actual_ != expected_)                                                                                      \
            fail_msg("got %s (%d), expected %s (%d)", pamtest::pam_name(actual_), actual_,                             \
                     pamtest::pam_name(expected_), expected_);                                                         \
    } while (0)
