// One row of a pam_bench table: a PAM service (one module under test), the
// user(s) who log in and where each login's answer comes from, and what PAM
// must return. Parsed from "key=value ..." so the script can say everything
// on one command line.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace twofactor::bench {

enum class Expect { success, auth_err, any };

struct ScriptLine {
    std::string user;
    std::string code;
    std::string label;
};

struct Case {
    std::string name;
    std::string service;

    // Who logs in: a fixed user, a random one of PREFIX000000..PREFIX(COUNT-1),
    // or the user of the next script line.
    std::string user;
    std::string user_prefix;
    unsigned user_count = 0;

    // What they type: a fixed text, the right TOTP code for the current
    // (fake) clock, a 6-digit code that matches no step within +-25 h, or the
    // code of the next script line.
    std::string code;
    std::vector<unsigned char> totp_secret; // totp=HEX
    bool wrong_totp = false;                // wrong=HEX
    std::int64_t wrong_step = -1;           // the step `wrong_cached` was picked for
    std::string wrong_cached;
    unsigned digits = 6;
    std::vector<ScriptLine> script;

    Expect expect = Expect::any;
    unsigned n = 0; // calls to time (0: the global --n)
    bool no_fsync = false;

    // Ours only: clear the failure count in this state directory every
    // `reset_every` calls (untimed), so a run of wrong codes never reaches
    // the lockout and every call does the full verification.
    std::string reset_dir;
    unsigned reset_every = 0;
    std::string reset_key_file; // the secret key file sealing reset_dir's secrets, if any
};

// "name=ours service=ours user=alice code=000000 expect=auth_err ..."
// Throws std::runtime_error naming the bad key.
Case parse_case(const std::string& spec);

// Picks user and answer for call number `index` of this case. `now` is the
// wall clock the modules will see.
struct Login {
    std::string user;
    std::string code;
    std::string label;
};
Login next_login(Case& c, std::size_t index, std::int64_t now, std::mt19937_64& rng);

std::string totp_code(const std::vector<unsigned char>& secret, std::int64_t now, unsigned digits);

} // namespace twofactor::bench
