#include "conversation.hpp"

#include <cstdlib>
#include <cstring>

namespace twofactor::pam {

namespace {

// Owns what the conversation function allocated: one pam_response and its
// string. The string is wiped up to its first NUL (its allocated size is
// unknown to us) and freed, then the array is freed.
class Reply {
public:
    Reply() = default;
    Reply(const Reply&) = delete;
    Reply& operator=(const Reply&) = delete;
    ~Reply()
    {
        if (response_ == nullptr)
            return;
        if (response_->resp != nullptr) {
            wipe(response_->resp, std::strlen(response_->resp));
            std::free(response_->resp);
        }
        std::free(response_);
    }

    pam_response** out() { return &response_; }
    const char* text() const { return response_ != nullptr ? response_->resp : nullptr; }

private:
    pam_response* response_ = nullptr;
};

int converse(pam_handle_t* pamh, int style, const std::string& text, Reply& reply)
{
    const void* item = nullptr;
    if (pam_get_item(pamh, PAM_CONV, &item) != PAM_SUCCESS || item == nullptr)
        return PAM_CONV_ERR;
    const auto* conv = static_cast<const pam_conv*>(item);
    if (conv->conv == nullptr)
        return PAM_CONV_ERR;
    pam_message message{};
    message.msg_style = style;
    message.msg = text.c_str();
    const pam_message* messages[] = {&message};
    // Whatever the function returns, anything it put in the reply is freed
    // (and wiped) by Reply, as libpam's own pam_prompt does.
    return conv->conv(1, messages, reply.out(), conv->appdata_ptr);
}

} // namespace

Answer Conversation::ask(const std::string& prompt, bool echo) const
{
    Answer answer;
    Reply reply;
    answer.pam_status = converse(pamh_, echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, prompt, reply);
    if (answer.pam_status != PAM_SUCCESS) {
        answer.status = AnswerStatus::conversation_error;
        return answer;
    }
    const char* text = reply.text();
    if (text == nullptr) {
        answer.status = AnswerStatus::no_answer;
        return answer;
    }
    // The reply is a C string: bytes after an embedded NUL are not part of it.
    const std::size_t length = ::strnlen(text, kMaxAnswerBytes + 1);
    if (length > kMaxAnswerBytes) {
        answer.status = AnswerStatus::too_long;
        return answer;
    }
    answer.text.assign(text, text + length);
    answer.status = AnswerStatus::ok;
    return answer;
}

bool Conversation::tell(int style, const std::string& text) const
{
    if (silent_)
        return true;
    Reply reply;
    return converse(pamh_, style, text, reply) == PAM_SUCCESS;
}

bool Conversation::info(const std::string& text) const { return tell(PAM_TEXT_INFO, text); }

bool Conversation::error(const std::string& text) const { return tell(PAM_ERROR_MSG, text); }

} // namespace twofactor::pam
