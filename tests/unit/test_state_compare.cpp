// "Same second factor" (common/state_compare.hpp): what twofactor(1) checks
// under the lock before it writes a change the user asked for minutes
// earlier. Logins meanwhile (codes spent, the replay step, failures, a
// lockout) leave it the same; anything an administrator or another run set
// up or removed does not.
#include "state_compare.hpp"

#include "crypto.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

constexpr ScryptParams kFast{10, 1, 1};

// alice with a new TOTP key, a new backup-code set, both or neither.
UserState alice(bool with_totp, bool with_codes)
{
    UserState s;
    s.user = "alice";
    if (with_totp)
        s.authenticators = {TotpState{random_bytes(20), TotpParams{}, 1700000000, 56666666}};
    if (with_codes)
        s.codes = generate_backup_codes(4, 8, kFast, 1700000000).set;
    return s;
}

void no_state_is_no_second_factor(void** /*state*/)
{
    const std::optional<UserState> none;
    assert_true(same_second_factor(none, none));
    // A state with neither method is the same as none (failures alone).
    UserState empty = alice(false, false);
    empty.failures = 2;
    assert_true(same_second_factor(none, empty));
    assert_true(same_second_factor(empty, none));
    assert_false(same_second_factor(none, alice(true, true)));
    assert_false(same_second_factor(alice(true, true), none));
}

void logins_meanwhile_change_nothing(void** /*state*/)
{
    const UserState before = alice(true, true);
    UserState after = before;
    after.codes->slots[2].used = CodeUse{1700000100, "sshd", "192.0.2.7", "ssh"};
    after.find("default")->last_step = 56666690;
    after.failures = 4;
    after.locked_until = 1700000400;
    after.last_login = LastLogin{1700000100, Method::backup_code, "sshd", "192.0.2.7", "ssh", {}};
    assert_true(same_second_factor(before, after));
    assert_true(same_second_factor(after, before));
}

void another_key_or_set_is_another_second_factor(void** /*state*/)
{
    const UserState before = alice(true, true);

    UserState new_key = before;
    new_key.find("default")->secret = random_bytes(20);
    assert_false(same_second_factor(before, new_key));
    UserState re_enrolled = before; // same secret, enrolled again later
    re_enrolled.find("default")->enrolled_at += 1;
    assert_false(same_second_factor(before, re_enrolled));
    UserState other_digits = before;
    other_digits.find("default")->params.digits = 8;
    assert_false(same_second_factor(before, other_digits));

    UserState new_set = before;
    new_set.codes = generate_backup_codes(4, 8, kFast, 1700000000).set;
    assert_false(same_second_factor(before, new_set));

    UserState totp_revoked = before;
    totp_revoked.authenticators.clear();
    assert_false(same_second_factor(before, totp_revoked));
    UserState codes_revoked = before;
    codes_revoked.codes.reset();
    assert_false(same_second_factor(before, codes_revoked));
    assert_false(same_second_factor(codes_revoked, totp_revoked));
    // Each method alone against the other alone, or against nothing.
    for (const bool totp : {false, true})
        for (const bool codes : {false, true})
            assert_true(same_second_factor(alice(totp, codes), alice(false, false)) == (!totp && !codes));
    assert_false(same_second_factor(alice(true, false), alice(false, true)));
}

// Per authenticator: adding, renaming or retyping one is another second
// factor; an overwrite keeps each one's spent step and counter.
void each_authenticator_on_its_own(void** /*state*/)
{
    const UserState before = alice(true, false);
    Authenticator token{random_bytes(20), TotpParams{}, 1700000000, std::nullopt};
    token.name = "token";
    token.type = AuthenticatorType::hotp;
    token.counter = 7;
    UserState added = before;
    added.put(token);
    assert_false(same_second_factor(before, added));
    UserState renamed = before;
    renamed.authenticators[0].name = "phone";
    assert_false(same_second_factor(before, renamed));
    UserState retyped = before;
    retyped.authenticators[0].type = AuthenticatorType::hotp;
    assert_false(same_second_factor(before, retyped));
    UserState used = added;
    used.find("token")->counter = 9;
    used.find("token")->last_used = 1700000200;
    assert_true(same_second_factor(added, used));

    // An older copy overwrites a newer one: nothing spent comes back.
    UserState newer = added;
    newer.find("token")->counter = 12;
    newer.find("default")->last_step = 56666700;
    const UserState merged = keep_spent(added, newer);
    assert_int_equal(merged.find("token")->counter, 12);
    assert_int_equal(*merged.find("default")->last_step, 56666700);
    // ...but another token of the same name is not this one.
    UserState other = added;
    other.find("token")->secret = random_bytes(20);
    assert_int_equal(keep_spent(other, newer).find("token")->counter, 7);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(no_state_is_no_second_factor),
        cmocka_unit_test(logins_meanwhile_change_nothing),
        cmocka_unit_test(another_key_or_set_is_another_second_factor),
        cmocka_unit_test(each_authenticator_on_its_own),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
