#include "reauthentication.hpp"

#include "terminal.hpp"

#include "secure_memory.hpp"

#include <security/pam_appl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

namespace twofactor::self_service {
namespace {

// The reply array handed to PAM. Until released, it is owned here and each
// answer is wiped before it is freed, whatever path the conversation takes.
class Replies {
public:
    explicit Replies(int count)
        : count_(count),
          replies_(static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response))))
    {
    }
    ~Replies()
    {
        if (replies_ == nullptr)
            return;
        for (int i = 0; i < count_; ++i)
            if (replies_[i].resp != nullptr) {
                wipe(replies_[i].resp, std::strlen(replies_[i].resp));
                std::free(replies_[i].resp);
            }
        std::free(replies_);
    }
    Replies(const Replies&) = delete;
    Replies& operator=(const Replies&) = delete;

    explicit operator bool() const { return replies_ != nullptr; }

    bool set(int i, const SecureChars& text)
    {
        auto* copy = static_cast<char*>(std::malloc(text.size() + 1));
        if (copy == nullptr)
            return false;
        std::memcpy(copy, text.data(), text.size());
        copy[text.size()] = '\0';
        replies_[i].resp = copy;
        replies_[i].resp_retcode = 0;
        return true;
    }

    pam_response* release() { return std::exchange(replies_, nullptr); }

private:
    int count_;
    pam_response* replies_;
};

// Messages from modules go to the terminal as text: control bytes other
// than newline and tab are dropped.
void show(const char* text)
{
    std::string line;
    for (const char* p = text; p != nullptr && *p != '\0'; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c >= 0x20 || c == '\n' || c == '\t')
            line.push_back(*p);
    }
    line.push_back('\n');
    if (::write(STDERR_FILENO, line.data(), line.size()) < 0) {
        // Best effort: a message that cannot be shown changes no decision.
    }
}

// What the conversation saw, for the message after a failure.
struct ConversationState {
    bool input_ended = false;
};

int converse(int count, const pam_message** messages, pam_response** replies, ConversationState& state)
{
    if (count <= 0 || count > PAM_MAX_NUM_MSG || messages == nullptr || replies == nullptr)
        return PAM_CONV_ERR;
    *replies = nullptr;
    Replies answers(count);
    if (!answers)
        return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const pam_message* m = messages[i]; // Linux-PAM layout: an array of pointers
        if (m == nullptr)
            return PAM_CONV_ERR;
        switch (m->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON: {
            const std::optional<SecureChars> line = cli::read_line(m->msg != nullptr ? m->msg : "", cli::Prompt::always,
                                                                   m->msg_style == PAM_PROMPT_ECHO_OFF);
            if (!line) {
                state.input_ended = true;
                return PAM_CONV_ERR; // end of input: give up rather than answer ""
            }
            if (!answers.set(i, *line))
                return PAM_BUF_ERR;
            break;
        }
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            show(m->msg);
            break;
        default:
            return PAM_CONV_ERR;
        }
    }
    *replies = answers.release();
    return PAM_SUCCESS;
}

extern "C" {
// No exception may cross into libpam.
static int twofactor_converse(int count, const struct pam_message** messages, struct pam_response** replies,
                              void* appdata)
{
    try {
        return converse(count, messages, replies, *static_cast<ConversationState*>(appdata));
    } catch (...) {
        return PAM_CONV_ERR;
    }
}
}

// pam_end() with the last status, whatever path we leave by.
class PamSession {
public:
    explicit PamSession(pam_handle_t* pamh) : pamh_(pamh) {}
    ~PamSession() { ::pam_end(pamh_, status_); }
    PamSession(const PamSession&) = delete;
    PamSession& operator=(const PamSession&) = delete;
    pam_handle_t* get() const { return pamh_; }
    int record(int status) { return status_ = status; }

private:
    pam_handle_t* pamh_;
    int status_ = PAM_SUCCESS;
};

Reauthentication refused(std::string reason, std::string message)
{
    return Reauthentication{false, "reason=" + std::move(reason), std::move(message)};
}

Reauthentication authentication_failed(int status)
{
    switch (status) {
    case PAM_AUTH_ERR:
    case PAM_USER_UNKNOWN:
    case PAM_CRED_INSUFFICIENT:
        return refused("reauthentication_failed", "authentication failed; nothing changed");
    case PAM_MAXTRIES:
        return refused("reauthentication_locked_out",
                       "too many failed verification codes; nothing changed (try again later)");
    case PAM_AUTHINFO_UNAVAIL:
        return refused(
            "reauthentication_unavailable",
            "your password or second-factor state cannot be checked; nothing changed (ask your administrator)");
    case PAM_CONV_ERR:
    case PAM_ABORT:
        return refused("reauthentication_aborted", "authentication aborted (no answer); nothing changed");
    default:
        return refused("reauthentication_error pam_status=" + std::to_string(status),
                       "authentication could not be completed; nothing changed (ask your administrator)");
    }
}

} // namespace

Reauthentication reauthenticate(const std::string& user, const std::string& tty)
{
    struct stat st {};
    if (::stat(kPamServiceFile, &st) != 0 || !S_ISREG(st.st_mode))
        return refused("pam_service_missing",
                       std::string("the PAM service '") + kPamService + "' is not set up (" + kPamServiceFile
                           + " is missing); ask your administrator");

    // This runs with root's real uid too (Privileges::raise), so that the
    // caller cannot stop the process while a module holds a connection. With
    // a real uid of 0, pam_unix reads /etc/shadow itself instead of running
    // unix_chkpwd, which for a caller other than root checks only the
    // caller's own password. That limit holds here all the same: the user
    // is the real uid's own account (own_user_name), given to pam_start so
    // that no module asks for a name, and checked unchanged once the stack
    // has run. A module that trusts a real uid of 0 (pam_rootok) must never
    // be in this stack: twofactor(1) says so.
    ConversationState state;
    const pam_conv conversation{twofactor_converse, &state};
    pam_handle_t* pamh = nullptr;
    const int started = ::pam_start(kPamService, user.c_str(), &conversation, &pamh);
    if (started != PAM_SUCCESS || pamh == nullptr)
        return refused("pam_start_failed", "authentication could not be started; ask your administrator");
    PamSession session(pamh);

    if (!tty.empty() && session.record(::pam_set_item(pamh, PAM_TTY, tty.c_str())) != PAM_SUCCESS)
        return refused("pam_set_item_failed", "authentication could not be started; ask your administrator");
    if (session.record(::pam_set_item(pamh, PAM_RUSER, user.c_str())) != PAM_SUCCESS)
        return refused("pam_set_item_failed", "authentication could not be started; ask your administrator");

    // No empty password, whatever nullok the stack has.
    if (const int rc = session.record(::pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK)); rc != PAM_SUCCESS)
        // Modules report a conversation that ended in different ways
        // (pam_unix: PAM_AUTHTOK_ERR): what we saw decides the message.
        return authentication_failed(state.input_ended ? PAM_CONV_ERR : rc);

    const int account = session.record(::pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK));
    if (account == PAM_NEW_AUTHTOK_REQD)
        return refused("password_expired", "your password has expired; change it with passwd(1) first");
    if (account != PAM_SUCCESS)
        return refused("account_unavailable", "your account may not be used now; nothing changed");

    // A module may rewrite PAM_USER; the proof must be for this account.
    const void* item = nullptr;
    if (::pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == nullptr
        || user != static_cast<const char*>(item))
        return refused("pam_user_changed", "authentication was for another account; nothing changed");
    return Reauthentication{true, {}, {}};
}

} // namespace twofactor::self_service
