// The audit trail of self-service: one syslog line (facility authpriv, ident
// "twofactor") for every operation a user attempts, naming the user, the
// operation and the outcome. Fixed words and numbers only; never a code, a
// secret or a hash.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace twofactor::self_service {

enum class Outcome { success, refused, failed };

struct AuditSubject {
    std::string user;
    uid_t uid = 0;
    std::string tty; // "" when standard input is not a terminal
};

void open_audit_log();

// "user=alice uid=1000 tty=/dev/pts/3 operation=new-codes outcome=success DETAIL"
void audit(const AuditSubject& subject, std::string_view operation, Outcome outcome, std::string_view detail = {});

// A line before the user is known (refused at start).
void audit_early(std::string_view text);

} // namespace twofactor::self_service
