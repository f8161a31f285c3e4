// The module's pure parts: where forward_pass splits an answer, how a log
// line encodes its values, and the exact texts the user sees.
#include "forward_pass.hpp"
#include "log_line.hpp"
#include "messages.hpp"

#include "cmocka_cxx.hpp"

using twofactor::view;
using namespace twofactor::pam;

namespace {

void assert_split(std::string_view answer, const CodeShapes& shapes, const char* password, const char* code)
{
    const SplitAnswer s = split_forward_pass(answer, shapes);
    assert_text(std::string(view(s.password)), password);
    assert_text(std::string(view(s.code)), code);
}

void split_totp_first(void** /*state*/)
{
    const CodeShapes both{6u, 8u};
    assert_split("pw123456", both, "pw", "123456");
    assert_split("hunter2024123456", both, "hunter2024", "123456");
    assert_split("123456", both, "", "123456");
    assert_split(" pw \t123456", both, " pw \t", "123456"); // the password is kept byte for byte
}

void split_backup_when_the_tail_is_not_digits(void** /*state*/)
{
    const CodeShapes both{6u, 8u};
    assert_split("pwABCD1234", both, "pw", "ABCD1234");
    assert_split("pwabcd1234", both, "pw", "abcd1234");
    // The documented limit: a backup code ending in six digits reads as TOTP.
    assert_split("pwAB123456", both, "pwAB", "123456");
}

void split_by_what_the_user_has(void** /*state*/)
{
    assert_split("pw12345678", CodeShapes{std::nullopt, 8u}, "pw", "12345678");
    assert_split("pw12345678", CodeShapes{8u, std::nullopt}, "pw", "12345678");
    assert_split("pwABCDEFGHJK", CodeShapes{std::nullopt, 10u}, "pw", "ABCDEFGHJK");
    assert_split("pw1234567", CodeShapes{8u, std::nullopt}, "pw1234567", "");
}

void split_too_short_or_nothing_possible(void** /*state*/)
{
    assert_split("pw", CodeShapes{6u, 8u}, "pw", "");
    assert_split("", CodeShapes{6u, 8u}, "", "");
    assert_split("secret123456", CodeShapes{}, "secret123456", "");
}

void lockout_minutes_round_up(void** /*state*/)
{
    constexpr std::int64_t now = 1000000;
    assert_text(lockout_message(now + 300, now), "Too many failed verification codes; try again in 5 minutes.");
    assert_text(lockout_message(now + 290, now), "Too many failed verification codes; try again in 5 minutes.");
    assert_text(lockout_message(now + 61, now), "Too many failed verification codes; try again in 2 minutes.");
    assert_text(lockout_message(now + 60, now), "Too many failed verification codes; try again in 1 minute.");
    assert_text(lockout_message(now + 1, now), "Too many failed verification codes; try again in 1 minute.");
    assert_text(lockout_message(now, now), "Too many failed verification codes; try again in 1 minute.");
    assert_text(lockout_message(now - 5, now), "Too many failed verification codes; try again in 1 minute.");
}

void remaining_code_messages(void** /*state*/)
{
    std::vector<std::string> m = backup_code_messages(9, 10, 3);
    assert_int_equal(m.size(), 1);
    assert_text(m[0], "Backup code accepted; 9 of 10 backup codes remain.");

    m = backup_code_messages(4, 10, 3);
    assert_int_equal(m.size(), 1);

    m = backup_code_messages(3, 10, 3);
    assert_int_equal(m.size(), 2);
    assert_text(m[1], "Only 3 backup codes left; ask your administrator for a new set.");

    m = backup_code_messages(1, 10, 3);
    assert_int_equal(m.size(), 2);
    assert_text(m[0], "Backup code accepted; 1 of 10 backup codes remains.");
    assert_text(m[1], "Only 1 backup code left; ask your administrator for a new set.");

    m = backup_code_messages(0, 10, 3);
    assert_int_equal(m.size(), 1);
    assert_text(m[0],
                "Backup code accepted; none of your 10 backup codes remain. Ask your administrator for a new set.");

    m = backup_code_messages(2, 10, 0);
    assert_int_equal(m.size(), 1);
}

// pam_twofactor(8), LOGGING: ' ', '=', '%' and every byte outside
// printable ASCII are %XX; empty is "-", a lone "-" is %2D; cut with "...".
void log_values_hold_no_space_or_equals(void** /*state*/)
{
    assert_text(log_value("alice"), "alice");
    assert_text(log_value("x' accepted user=root method=totp"), "x'%20accepted%20user%3Droot%20method%3Dtotp");
    assert_text(log_value(std::string("a\nb\tc\r\0d", 8)), "a%0Ab%09c%0D%00d");
    assert_text(log_value("50%\x7f\xc3\xa9"), "50%25%7F%C3%A9");
    assert_text(log_value("[::1]:22/pts/0@host+x_y-z.\"'"), "[::1]:22/pts/0@host+x_y-z.\"'");
    assert_text(log_value(""), "-");
    assert_text(log_value("-"), "%2D");
    assert_text(log_value("--"), "--");
    assert_text(log_value(std::string(200, 'a')), std::string(128, 'a') + "...");
    assert_text(log_value(std::string(10, ' '), 4), "%20%20%20%20...");
}

void log_lines_are_event_then_fields(void** /*state*/)
{
    const LoginFields who{"bob smith", "sshd", "", "ssh"};
    assert_text(decision_line("denied", who, {}).add("reason", "wrong_code").text(),
                "denied user=bob%20smith service=sshd rhost=- tty=ssh method=- reason=wrong_code");
    const std::string long_error(600, 'e');
    assert_text(LogLine("error").add("reason", "x").detail(long_error).text(),
                "error reason=x detail=" + std::string(512, 'e') + "...");
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(split_totp_first),
        cmocka_unit_test(split_backup_when_the_tail_is_not_digits),
        cmocka_unit_test(split_by_what_the_user_has),
        cmocka_unit_test(split_too_short_or_nothing_possible),
        cmocka_unit_test(lockout_minutes_round_up),
        cmocka_unit_test(remaining_code_messages),
        cmocka_unit_test(log_values_hold_no_space_or_equals),
        cmocka_unit_test(log_lines_are_event_then_fields),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
