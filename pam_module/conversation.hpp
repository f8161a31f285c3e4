// The module's side of the PAM conversation. One message per call: the
// layout of a multi-message array differs between PAM implementations, and
// applications handle single messages best. Replies are owned by RAII and
// wiped before they are freed, whatever path the caller takes.
#pragma once

#include "secure_memory.hpp"

#include <security/pam_modules.h>

#include <string>

namespace twofactor::pam {

// Longer answers are refused unread. Far above any code, and above
// PAM_MAX_RESP_SIZE (512), the most a password module accepts, so a longer
// answer is not something a person typed.
inline constexpr std::size_t kMaxAnswerBytes = 1024;

enum class AnswerStatus {
    ok,
    conversation_error, // no conversation function, or it failed
    no_answer,          // it succeeded but gave no reply or a NULL string
    too_long,           // more than kMaxAnswerBytes
};

struct Answer {
    AnswerStatus status = AnswerStatus::conversation_error;
    int pam_status = PAM_CONV_ERR; // what the conversation function returned
    SecureChars text;              // the reply up to its first NUL; empty unless ok
};

class Conversation {
public:
    // `silent`: PAM_SILENT was passed, so informational messages are dropped
    // (prompts still go out: without them there is nothing to check).
    Conversation(pam_handle_t* pamh, bool silent) : pamh_(pamh), silent_(silent) {}

    Answer ask(const std::string& prompt, bool echo) const;

    // PAM_TEXT_INFO / PAM_ERROR_MSG. Return false if the application failed;
    // callers treat messages as best effort.
    bool info(const std::string& text) const;
    bool error(const std::string& text) const;

private:
    bool tell(int style, const std::string& text) const;

    pam_handle_t* pamh_;
    bool silent_;
};

} // namespace twofactor::pam
