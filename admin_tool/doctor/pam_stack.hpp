// The auth stack of a PAM service as libpam runs it, and what it means for
// pam_twofactor: is the module there, can a login get past it without it
// (a `sufficient` module or a jump before it), does a wrong code still let
// a login in, does its file exist. Pure: files come through a reader, the
// module's existence through a callback, so the unit tests give both.
#pragma once

#include "finding.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace twofactor::doctor {

// What libpam does with one return value of a module (pam.conf(5)).
struct PamAction {
    enum class Kind { ignore, ok, bad, die, done, reset, jump } kind = Kind::bad;
    unsigned jump = 0; // for Kind::jump: how many modules to skip
};

// One auth line, with includes and substacks flattened in.
struct PamLine {
    std::string origin; // "FILE:LINE"
    std::string text;   // the line as written, comments removed
    bool dash = false;  // "-auth": skipped silently if the module is missing
    std::string module; // as written: a name or an absolute path
    std::vector<std::string> args;
    PamAction on_success;
    PamAction on_ignore;
    std::vector<PamAction> on_failure; // every action a failing return value can get
    // The ends (one past the last line) of the frames this line is in:
    // [0] the whole stack, then one per enclosing substack.
    std::vector<std::size_t> frame_ends;
};

struct PamStack {
    std::vector<PamLine> auth;
    Findings problems; // unreadable includes, lines libpam would not understand
};

// Reads a file of /etc/pam.d by the name a line gives ("sshd",
// "common-auth", or an absolute path); nullopt if it does not exist.
using PamFileReader = std::function<std::optional<std::string>(const std::string& name)>;

// The service's auth stack: `@include`, `include` and `substack` followed,
// comments and line continuations handled. nullopt if the service file
// itself does not exist.
std::optional<PamStack> load_auth_stack(const std::string& service, const PamFileReader& read);

// The module's base name on a line ("pam_twofactor.so" for
// "/lib/x86_64-linux-gnu/security/pam_twofactor.so").
std::string module_base_name(const std::string& module);

struct StackReport {
    Findings findings;
    bool has_module = false;          // pam_twofactor is in the stack
    bool has_password_module = false; // pam_unix (or sss, ldap, krb5, winbind) before it
};

struct StackContext {
    std::string module_dir; // where libpam looks for a module named without a path
    bool config_nullok = false;
    bool expect_module = false; // its absence is a fail (sshd), not a warning
    // Does this module file exist? (The real check is stat(2).)
    std::function<bool(const std::string& path)> module_exists;
};

// Everything doctor says about one service's stack, under check "pam/SERVICE".
StackReport analyse_auth_stack(const std::string& service, const PamStack& stack, const StackContext& context);

} // namespace twofactor::doctor
