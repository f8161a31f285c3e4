// The verifier through a real file store: lockout and its expiry, reset on
// success, unenrolled users, policy switches, and a set replaced between the
// KDF and the lock.
#include "backup_codes.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "errors.hpp"
#include "file_state_store.hpp"
#include "store_fixture.hpp"
#include "totp.hpp"
#include "verifier.hpp"

#include "cmocka_cxx.hpp"

using namespace twofactor;

namespace {

const ScryptParams kFast{10, 8, 1};
constexpr std::int64_t kNow = 1800000000;

struct Fixture {
    TempStateDir dir;
    FileStateStore store{dir.path};
    FixedClock clock{kNow};
    VerifyPolicy policy;
    SecureBytes secret = random_bytes(20);
    IssuedCodes issued = generate_backup_codes(10, 8, kFast, kNow);

    Fixture()
    {
        store.update("alice", [&](std::optional<UserState>& st) {
            st = UserState{};
            st->authenticators = {TotpState{secret, TotpParams{}, kNow, std::nullopt}};
            st->codes = issued.set;
            return true;
        });
    }
    VerifyResult verify(std::string_view code, const std::string& user = "alice")
    {
        Verifier v(store, policy, clock);
        return v.verify(user, code, LoginContext{"sshd", "198.51.100.7", "ssh"});
    }
    std::string totp_now() const { return std::string(view(totp_generate(secret, TotpParams{}, clock.now()))); }
};

void totp_and_backup_code_accepted(void** /*state*/)
{
    Fixture f;
    VerifyResult r = f.verify(f.totp_now());
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_int_equal(*r.method, Method::totp);
    r = f.verify(view(f.issued.codes[0]));
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_int_equal(*r.method, Method::backup_code);
    assert_int_equal(r.codes_remaining, 9);
    assert_int_equal(r.codes_total, 10);
    const auto st = f.store.load("alice");
    assert_int_equal(st->last_login->method, Method::backup_code);
    assert_string_equal(st->last_login->rhost.c_str(), "198.51.100.7");
    assert_string_equal(st->codes->slots[0].used->service.c_str(), "sshd");
}

void lockout_after_max_failures(void** /*state*/)
{
    Fixture f;
    for (int i = 1; i <= 4; ++i) {
        const VerifyResult r = f.verify("000000");
        assert_int_equal(r.verdict, Verdict::wrong_code);
        assert_false(r.lockout_started);
        assert_int_equal(f.store.load("alice")->failures, static_cast<unsigned>(i));
    }
    VerifyResult r = f.verify("ZZZZZZZZ");
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_true(r.lockout_started);
    assert_int_equal(r.locked_until, kNow + 300);

    // Locked: even the right codes are refused, without consuming them or running the KDF.
    const auto kdf_before = scrypt_evaluations();
    const std::string before = f.dir.read("alice");
    r = f.verify(f.totp_now());
    assert_int_equal(r.verdict, Verdict::locked_out);
    r = f.verify(view(f.issued.codes[1]));
    assert_int_equal(r.verdict, Verdict::locked_out);
    assert_int_equal(scrypt_evaluations(), kdf_before);
    assert_true(f.dir.read("alice") == before);

    f.clock.advance(299);
    assert_int_equal(f.verify(view(f.issued.codes[1])).verdict, Verdict::locked_out);
    f.clock.advance(1);
    r = f.verify(view(f.issued.codes[1]));
    assert_int_equal(r.verdict, Verdict::accepted);
    const auto st = f.store.load("alice");
    assert_int_equal(st->failures, 0);
    assert_int_equal(st->locked_until, 0);
}

void success_resets_the_count(void** /*state*/)
{
    Fixture f;
    for (int i = 0; i < 4; ++i)
        (void)f.verify("111111");
    assert_int_equal(f.verify(f.totp_now()).verdict, Verdict::accepted);
    for (int i = 0; i < 4; ++i)
        assert_int_equal(f.verify("111111").verdict, Verdict::wrong_code);
    assert_int_equal(f.store.load("alice")->failures, 4);
}

void unenrolled_and_unknown_users(void** /*state*/)
{
    Fixture f;
    assert_int_equal(f.verify("123456", "bob").verdict, Verdict::not_enrolled);
    assert_false(f.store.load("bob").has_value()); // nothing created
    f.store.update("carol", [](std::optional<UserState>& st) {
        st = UserState{};
        return true;
    });
    assert_int_equal(f.verify("123456", "carol").verdict, Verdict::not_enrolled);
    bool threw = false;
    try {
        (void)f.verify("123456", "../alice");
    } catch (const InvalidUserName&) {
        threw = true;
    }
    assert_true(threw);
}

void policy_switches(void** /*state*/)
{
    Fixture f;
    f.policy.totp = false;
    assert_int_equal(f.verify(f.totp_now()).verdict, Verdict::wrong_code);
    f.policy.totp = true;
    f.policy.backup_codes = false;
    const auto kdf_before = scrypt_evaluations();
    assert_int_equal(f.verify(view(f.issued.codes[0])).verdict, Verdict::wrong_code);
    assert_int_equal(scrypt_evaluations(), kdf_before);
    f.policy.backup_codes = true;
    assert_int_equal(f.verify(view(f.issued.codes[0])).verdict, Verdict::accepted);
}

void wrong_code_costs_one_kdf_like_a_right_one(void** /*state*/)
{
    Fixture f;
    f.policy.max_failures = 100;
    auto before = scrypt_evaluations();
    (void)f.verify("WRONGCDE");
    assert_int_equal(scrypt_evaluations() - before, 1);
    before = scrypt_evaluations();
    (void)f.verify(view(f.issued.codes[4]));
    assert_int_equal(scrypt_evaluations() - before, 1);
}

// The set is replaced after the KDF ran for the old one: the old code must
// not be accepted against the new set, and a code of the new set typed with
// a KDF output for the old salt is not accepted either.
void set_replaced_between_kdf_and_lock(void** /*state*/)
{
    Fixture f;
    UserState snapshot = *f.store.load("alice");
    const DerivedCode old_derived = derive_backup_code(*snapshot.codes, f.issued.codes[2]);
    const IssuedCodes fresh = generate_backup_codes(10, 8, kFast, kNow);
    f.store.update("alice", [&](std::optional<UserState>& st) {
        st->codes = fresh.set;
        return true;
    });
    UserState current = *f.store.load("alice");
    const VerifyResult r = decide(current, view(f.issued.codes[2]), old_derived, kNow, f.policy, {});
    assert_int_equal(r.verdict, Verdict::wrong_code);
    // The old code through the full path: refused; the new one accepted.
    assert_int_equal(f.verify(view(f.issued.codes[2])).verdict, Verdict::wrong_code);
    assert_int_equal(f.verify(view(fresh.codes[2])).verdict, Verdict::accepted);
}

// The module hands the verifier the state it read before prompting. While
// the user typed, anything may have happened; the snapshot can make the
// verifier refuse, never accept what the state under the lock does not allow.
void stale_snapshot_never_accepts(void** /*state*/)
{
    Fixture f;
    const LoginContext context{"sshd", "198.51.100.7", "ssh"};
    Verifier v(f.store, f.policy, f.clock);
    const std::optional<UserState> before = f.store.load("alice");

    // Code 0 used by another login meanwhile: refused with the old snapshot.
    assert_int_equal(f.verify(view(f.issued.codes[0])).verdict, Verdict::accepted);
    assert_int_equal(v.verify("alice", view(f.issued.codes[0]), context, before).verdict, Verdict::wrong_code);
    // The TOTP step used meanwhile: a replay, refused.
    const std::string code = f.totp_now();
    assert_int_equal(f.verify(code).verdict, Verdict::accepted);
    const VerifyResult replay = v.verify("alice", code, context, before);
    assert_int_equal(replay.verdict, Verdict::wrong_code);
    assert_true(replay.replayed);
    // Locked meanwhile: refused as locked, nothing consumed.
    f.store.update("alice", [&](std::optional<UserState>& st) {
        st->locked_until = kNow + 60;
        return true;
    });
    assert_int_equal(v.verify("alice", view(f.issued.codes[1]), context, before).verdict, Verdict::locked_out);
    f.store.update("alice", [&](std::optional<UserState>& st) {
        st->locked_until = 0;
        return true;
    });
    // Removed meanwhile: not enrolled.
    f.store.update("alice", [&](std::optional<UserState>& st) {
        st.reset();
        return true;
    });
    assert_int_equal(v.verify("alice", view(f.issued.codes[1]), context, before).verdict, Verdict::not_enrolled);
    // And a snapshot of "no state" is not enrolled even for a user who has one.
    Fixture g;
    Verifier w(g.store, g.policy, g.clock);
    assert_int_equal(w.verify("alice", view(g.issued.codes[1]), context, std::nullopt).verdict, Verdict::not_enrolled);
    assert_int_equal(g.store.load("alice")->codes->remaining(), 10);
}

void last_code_and_whitespace(void** /*state*/)
{
    Fixture f;
    IssuedCodes one = generate_backup_codes(1, 8, kFast, kNow);
    f.store.update("alice", [&](std::optional<UserState>& st) {
        st->codes = one.set;
        return true;
    });
    std::string typed = "  " + std::string(view(one.codes[0])) + "\t";
    for (char& c : typed)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    VerifyResult r = f.verify(typed);
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_int_equal(r.codes_remaining, 0);
    // With no codes left, a backup-shaped input runs no KDF.
    const auto before = scrypt_evaluations();
    assert_int_equal(f.verify(typed).verdict, Verdict::wrong_code);
    assert_int_equal(scrypt_evaluations(), before);
}

// With the decoy on (as VerifyPolicy::from sets it), a user without codes
// costs one KDF for a backup-shaped input, like a user with codes.
void decoy_kdf_hides_who_has_codes(void** /*state*/)
{
    Fixture f;
    f.policy = VerifyPolicy::from(Config{});
    f.policy.decoy_kdf = kFast;
    f.store.update("totponly", [&](std::optional<UserState>& st) {
        st = UserState{};
        st->authenticators = {TotpState{f.secret, TotpParams{}, kNow, std::nullopt}};
        return true;
    });
    for (const char* user : {"alice", "nobody-here", "totponly"}) {
        const auto before = scrypt_evaluations();
        (void)f.verify("WRONGCDE", user);
        if (scrypt_evaluations() - before != 1)
            fail_msg("%s: %llu KDF evaluations", user, static_cast<unsigned long long>(scrypt_evaluations() - before));
    }
    const auto before = scrypt_evaluations();
    (void)f.verify("123456", "nobody-here"); // not backup-shaped: no KDF for anyone
    assert_int_equal(scrypt_evaluations(), before);
}

// count_unenrolled (the module, for an account, without nullok): a wrong
// code for a user with no second factor is counted and locks out exactly as
// for an enrolled user, in a state that holds the count and nothing else.
void unenrolled_accounts_are_counted_like_enrolled_ones(void** /*state*/)
{
    Fixture f;
    f.policy.count_unenrolled = true;
    for (int i = 1; i <= 5; ++i) {
        const VerifyResult enrolled = f.verify("000000");
        const VerifyResult bob = f.verify("000000", "bob");
        assert_int_equal(enrolled.verdict, Verdict::wrong_code);
        assert_int_equal(bob.verdict, Verdict::not_enrolled);
        assert_int_equal(bob.lockout_started, enrolled.lockout_started);
        assert_int_equal(bob.locked_until, enrolled.locked_until);
        const std::optional<UserState> st = f.store.load("bob");
        assert_true(st.has_value());
        assert_false(st->enrolled());
        assert_int_equal(st->failures, f.store.load("alice")->failures);
    }
    assert_int_equal(f.store.load("bob")->locked_until, kNow + 300);
    const std::string before = f.dir.read("bob");
    assert_int_equal(f.verify("000000", "bob").verdict, Verdict::locked_out);
    assert_int_equal(f.verify(f.totp_now()).verdict, Verdict::locked_out);
    assert_true(f.dir.read("bob") == before); // a locked attempt writes nothing
    // What is written reads back as not enrolled, with only the count.
    const UserState bob = *f.store.load("bob");
    assert_false(!bob.authenticators.empty() || bob.codes || bob.last_login);
    assert_string_equal(bob.user.c_str(), "bob");

    // Over when the lockout ends; counted from one again.
    f.clock.advance(300);
    const VerifyResult again = f.verify("000000", "bob");
    assert_int_equal(again.verdict, Verdict::not_enrolled);
    assert_false(again.lockout_started);
    assert_int_equal(f.store.load("bob")->failures, 1);
    assert_int_equal(f.store.load("bob")->locked_until, 0);

    // Without count_unenrolled (twofactor-admin verify, nullok) nothing is
    // counted or created, whatever is there.
    f.policy.count_unenrolled = false;
    assert_int_equal(f.verify("000000", "bob").verdict, Verdict::not_enrolled);
    assert_int_equal(f.store.load("bob")->failures, 1);
    assert_int_equal(f.verify("000000", "carol").verdict, Verdict::not_enrolled);
    assert_false(f.store.load("carol").has_value());
}

// A counted unenrolled user costs what an enrolled one does: one KDF for a
// code-shaped answer (the decoy), none for a TOTP-shaped one, none when
// locked.
void unenrolled_accounts_cost_the_same_kdf_work(void** /*state*/)
{
    Fixture f;
    f.policy = VerifyPolicy::from(Config{});
    f.policy.decoy_kdf = kFast;
    f.policy.count_unenrolled = true;
    f.policy.max_failures = 3;
    const auto cost = [&](const char* typed, const std::string& user) {
        const auto before = scrypt_evaluations();
        (void)f.verify(typed, user);
        return scrypt_evaluations() - before;
    };
    for (const char* user : {"alice", "bob"}) {
        if (cost("WRONGCDE", user) != 1 || cost("123456", user) != 0 || cost("WRONGCDE", user) != 1)
            fail_msg("%s: not one KDF per code-shaped answer, none for a TOTP-shaped one", user);
        if (f.store.load(user)->locked_until == 0)
            fail_msg("%s: not locked after three failures", user);
        if (cost("WRONGCDE", user) != 0)
            fail_msg("%s: a locked attempt ran the KDF", user);
    }
}

// A code of a step minutes away is still a wrong code, counted, never
// accepted; its offset is reported and kept. One from the future is spent,
// so telling the user "N minutes ahead" gives nobody a code for later.
void clock_skew_is_reported_never_accepted(void** /*state*/)
{
    Fixture f;
    const TotpParams p;
    const std::string behind(view(totp_generate(f.secret, p, kNow - 300)));
    VerifyResult r = f.verify(behind);
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_true(r.skew_seconds.has_value());
    assert_int_equal(*r.skew_seconds, -300);
    auto st = f.store.load("alice");
    assert_int_equal(st->failures, 1);
    assert_int_equal(st->last_skew->at, kNow);
    assert_int_equal(st->last_skew->seconds, -300);
    assert_false(st->find("default")->last_step.has_value()); // a past step spends nothing

    const std::string ahead(view(totp_generate(f.secret, p, kNow + 240)));
    r = f.verify(ahead);
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_int_equal(*r.skew_seconds, 240);
    st = f.store.load("alice");
    assert_int_equal(st->failures, 2);
    assert_int_equal(*st->find("default")->last_step, static_cast<std::uint64_t>((kNow + 240) / 30));
    // Four minutes later that code is refused as used.
    f.clock.set(kNow + 240);
    r = f.verify(ahead);
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_true(r.replayed);
    assert_false(r.skew_seconds.has_value());

    // A plain wrong code has no skew, and leaves the last one seen alone.
    f.clock.set(kNow + 300);
    const std::string right = f.totp_now();
    r = f.verify(right == "000000" ? "000001" : "000000");
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_false(r.skew_seconds.has_value());
    assert_int_equal(f.store.load("alice")->last_skew->seconds, 240);
    assert_int_equal(f.verify(right).verdict, Verdict::accepted);
}

// Imported google-authenticator scratch codes are 8 digits, which is also
// the shape of an 8-digit TOTP code: such an answer is tried as TOTP first
// (it fails unless it is the current code) and then as a backup code, in
// the same attempt, and counts as one attempt.
void digit_only_backup_code_beside_eight_digit_totp(void** /*state*/)
{
    Fixture f;
    const TotpParams eight{TotpAlgorithm::sha1, 8, 30};
    const std::vector<SecureChars> scratch{to_secure("12345678"), to_secure("87654321")};
    f.store.update("alice", [&](std::optional<UserState>& st) {
        st->put(TotpState{f.secret, eight, kNow, std::nullopt});
        st->codes = hash_backup_codes(scratch, 8, kFast, kNow);
        return true;
    });
    const std::string totp = std::string(view(totp_generate(f.secret, eight, kNow)));
    if (totp == "12345678" || totp == "87654321")
        return; // a one-in-fifty-million coincidence: nothing to tell apart
    VerifyResult r = f.verify("12345678");
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_int_equal(*r.method, Method::backup_code);
    assert_int_equal(r.codes_remaining, 1);
    r = f.verify("12345678");
    assert_int_equal(r.verdict, Verdict::wrong_code);
    assert_int_equal(f.store.load("alice")->failures, 1U);
    r = f.verify(totp);
    assert_int_equal(r.verdict, Verdict::accepted);
    assert_int_equal(*r.method, Method::totp);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(totp_and_backup_code_accepted),
        cmocka_unit_test(lockout_after_max_failures),
        cmocka_unit_test(success_resets_the_count),
        cmocka_unit_test(unenrolled_and_unknown_users),
        cmocka_unit_test(policy_switches),
        cmocka_unit_test(wrong_code_costs_one_kdf_like_a_right_one),
        cmocka_unit_test(set_replaced_between_kdf_and_lock),
        cmocka_unit_test(stale_snapshot_never_accepts),
        cmocka_unit_test(last_code_and_whitespace),
        cmocka_unit_test(decoy_kdf_hides_who_has_codes),
        cmocka_unit_test(unenrolled_accounts_are_counted_like_enrolled_ones),
        cmocka_unit_test(unenrolled_accounts_cost_the_same_kdf_work),
        cmocka_unit_test(clock_skew_is_reported_never_accepted),
        cmocka_unit_test(digit_only_backup_code_beside_eight_digit_totp),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
