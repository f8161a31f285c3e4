// sshd's effective settings (the output of `sshd -T`) against what the
// module needs: PAM in use, keyboard-interactive on (the code prompt runs
// in it), the password method off (it would answer the code prompt with the
// password), AuthenticationMethods that do not let a login skip the code.
// Pure: the caller runs sshd -T.
#pragma once

#include "finding.hpp"

#include <map>
#include <string>
#include <string_view>

namespace twofactor::doctor {

// `sshd -T` prints "keyword value..." lines, keywords in lower case.
using SshdSettings = std::map<std::string, std::string>;
SshdSettings parse_sshd_settings(std::string_view output);

struct SshdNeeds {
    bool module_in_stack = false;   // /etc/pam.d/sshd asks for a code
    bool password_in_stack = false; // ... after a password
    bool auth_info = false;         // remember_by needs the key sshd used (ExposeAuthInfo)
};

// Findings under check "sshd".
Findings analyse_sshd_settings(const SshdSettings& settings, const SshdNeeds& needs);

} // namespace twofactor::doctor
