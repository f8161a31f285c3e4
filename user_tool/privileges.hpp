// The setuid twofactor(1) runs as the invoking user: root's uids are taken
// back only inside a Privileged scope (PAM re-authentication, reading the
// configuration and the state store, the store write), and given up for
// good before the results are printed. Inside the scope the caller can
// neither signal nor stop the process; outside it, it holds no connection.
// Any failure to change ids ends the process at once: it never continues
// with ids it did not ask for.
#pragma once

#include <sys/types.h>

namespace twofactor::self_service {

class Privileges {
public:
    // Records the real ids. The effective uid must be 0 (installed setuid
    // root, or run by root).
    Privileges();

    uid_t uid() const { return uid_; }
    gid_t gid() const { return gid_; }

    // Real and effective ids = the caller's; the saved set-user-ID stays 0.
    // Terminal stops held back by raise() are delivered.
    void lower();
    // Real, effective and saved uid = 0, so the caller may not signal the
    // process; effective gid = 0 (files created are root:root); terminal
    // stops (Ctrl-Z) held back until lower().
    void raise();
    // Real, effective and saved ids = the real ids; raise() is impossible after.
    void drop_permanently();

private:
    uid_t uid_;
    gid_t gid_;
    bool permanent_ = false;
};

// Root's effective ids for the lifetime of the scope.
class Privileged {
public:
    explicit Privileged(Privileges& privileges) : privileges_(privileges) { privileges_.raise(); }
    ~Privileged() { privileges_.lower(); }
    Privileged(const Privileged&) = delete;
    Privileged& operator=(const Privileged&) = delete;

private:
    Privileges& privileges_;
};

} // namespace twofactor::self_service
