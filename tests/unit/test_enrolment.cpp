// The enrolment both tools run (cli/enrolment.hpp): a new secret, the text a
// person adds to an app, the confirmation read from standard input, the
// backup-code sheet and what happens when it cannot be shown, and the one
// line a tool prints for an unexpected error.
#include "enrolment.hpp"
#include "operation_failed.hpp"

#include "totp.hpp"

#include "cmocka_cxx.hpp"
#include "std_streams.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <new>
#include <stdexcept>

using namespace twofactor;
using namespace twofactor::cli;
using twofactor::test::captured;
using twofactor::test::with_input;

namespace {

constexpr std::int64_t kNow = 1714564805; // 2024-05-01 12:00:05 UTC

Enrolment rfc_enrolment()
{
    Enrolment e;
    e.account = "alice";
    e.issuer = "Example Org";
    const std::string secret = "12345678901234567890";
    e.totp.secret = SecureBytes(secret.begin(), secret.end());
    e.totp.params = TotpParams{TotpAlgorithm::sha1, 6, 30};
    e.totp.enrolled_at = kNow;
    return e;
}

void new_enrolment_takes_the_configuration(void** /*state*/)
{
    Config config;
    config.totp = TotpParams{TotpAlgorithm::sha256, 8, 60};
    config.issuer = "Example Org";
    const Enrolment a = new_enrolment("alice", config, kNow);
    assert_string_equal(a.account.c_str(), "alice");
    assert_string_equal(a.issuer.c_str(), "Example Org");
    assert_true(a.totp.params.algorithm == TotpAlgorithm::sha256);
    assert_int_equal(a.totp.params.digits, 8);
    assert_int_equal(a.totp.params.period, 60);
    assert_int_equal(a.totp.enrolled_at, kNow);
    assert_int_equal(a.totp.secret.size(), totp_secret_length(TotpAlgorithm::sha256));
    assert_false(a.totp.last_step.has_value());
    // A new random secret each time.
    const Enrolment b = new_enrolment("alice", config, kNow);
    assert_false(a.totp.secret == b.totp.secret);
    // No issuer configured: the host name.
    config.issuer.clear();
    assert_string_equal(new_enrolment("alice", config, kNow).issuer.c_str(), host_name().c_str());
}

void enrolment_text(void** /*state*/)
{
    const Enrolment e = rfc_enrolment();
    const std::string text = captured(STDOUT_FILENO, [&] {
        OutputBuffer out;
        print_enrolment(out, e, QrStyle::none);
        out.flush();
    });
    assert_string_equal(text.c_str(),
                        "\n"
                        "otpauth://totp/Example%20Org:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=Example%20Org&algorithm=SHA1&digits=6&period=30\n"
                        "\n"
                        "Secret:    GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ\n"
                        "Type:      time-based (TOTP), SHA1, 6 digits, every 30 s\n"
                        "Name:      default\n"
                        "Issuer:    Example Org\n"
                        "Account:   alice\n");
    // With a QR code: the same text after it.
    const std::string with_qr = captured(STDOUT_FILENO, [&] {
        OutputBuffer out;
        print_enrolment(out, e, QrStyle::utf8);
        out.flush();
    });
    assert_true(with_qr.size() > text.size() && with_qr.compare(with_qr.size() - text.size(), text.size(), text) == 0);
    assert_true(with_qr.rfind("\u2588", 0) == 0);
}

Confirmation confirm_with(const std::string& input, std::int64_t now, std::string* prompts = nullptr)
{
    const Enrolment e = rfc_enrolment();
    const FixedClock clock(now);
    Confirmation result;
    const std::string err
        = captured(STDERR_FILENO, [&] { with_input(input, [&] { result = confirm_enrolment(e, clock); }); });
    if (prompts != nullptr)
        *prompts = err;
    return result;
}

std::string code_at(std::int64_t t)
{
    const Enrolment e = rfc_enrolment();
    return std::string(view(totp_generate(e.totp.secret, e.totp.params, t)));
}

void confirmation_from_a_pipe_or_file(void** /*state*/)
{
    // Standard input is a file here, not a terminal: one try.
    std::string prompts;
    const Confirmation right = confirm_with(code_at(kNow) + "\n", kNow, &prompts);
    assert_true(right.result == Confirmation::Result::confirmed);
    assert_int_equal(right.step, kNow / 30);
    // The prompt ends in a newline for a program reading it line by line.
    assert_string_equal(prompts.c_str(), "Code from the app to confirm: \n");

    // Blanks around the code are not part of it; one step of drift is.
    const Confirmation drift = confirm_with("  " + code_at(kNow - 30) + "\t\n", kNow);
    assert_true(drift.result == Confirmation::Result::confirmed);
    assert_int_equal(drift.step, kNow / 30 - 1);

    assert_true(confirm_with(code_at(kNow - 90) + "\n", kNow).result == Confirmation::Result::no_match);
    // A wrong code, then the right one: no second try off a terminal.
    assert_true(confirm_with("000000\n" + code_at(kNow) + "\n", kNow).result == Confirmation::Result::no_match);
    assert_true(confirm_with("", kNow).result == Confirmation::Result::no_input);
    // An empty line is an answer, a wrong one.
    assert_true(confirm_with("\n", kNow).result == Confirmation::Result::no_match);
}

IssuedCodes codes(std::size_t n)
{
    IssuedCodes issued;
    issued.set.issued_at = kNow;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string code = "CODE" + std::to_string(1000 + i);
        issued.codes.emplace_back(code.begin(), code.end());
    }
    return issued;
}

void code_sheet(void** /*state*/)
{
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    const std::string rule(64, '-');
    const std::string text = captured(STDOUT_FILENO, [] {
        OutputBuffer out;
        print_code_sheet(out, "alice", codes(10), "Advice.\nMore advice.\n");
        out.flush();
    });
    const std::string want = rule + "\nBackup codes for alice on " + host_name()
        + "\nIssued 2024-05-01 12:00:05 UTC\n\n"
          "   1.  CODE1000   [ ]\n"
          "   2.  CODE1001   [ ]\n"
          "   3.  CODE1002   [ ]\n"
          "   4.  CODE1003   [ ]\n"
          "   5.  CODE1004   [ ]\n"
          "   6.  CODE1005   [ ]\n"
          "   7.  CODE1006   [ ]\n"
          "   8.  CODE1007   [ ]\n"
          "   9.  CODE1008   [ ]\n"
          "  10.  CODE1009   [ ]\n"
          "\nAdvice.\nMore advice.\n"
        + rule + "\n";
    assert_string_equal(text.c_str(), want.c_str());
    // Fewer than ten: no room kept for a second digit.
    const std::string short_sheet = captured(STDOUT_FILENO, [] {
        OutputBuffer out;
        print_code_sheet(out, "bob", codes(2), "");
        out.flush();
    });
    assert_true(short_sheet.find("\n  1.  CODE1000   [ ]\n  2.  CODE1001   [ ]\n\n" + rule + "\n")
                != std::string::npos);
}

void codes_not_shown_say_so(void** /*state*/)
{
    const int read_only = ::open("/dev/null", O_RDONLY);
    assert_true(read_only >= 0);
    std::string error;
    test::with_fd(STDOUT_FILENO, read_only, [&] {
        OutputBuffer out;
        print_code_sheet(out, "alice", codes(3), "");
        try {
            flush_new_codes(out, "issue again");
        } catch (const OperationFailed& e) {
            error = e.what();
        }
    });
    ::close(read_only);
    assert_true(error.rfind("cannot write to standard output: ", 0) == 0);
    const std::string tail = "; the new codes are stored but were not shown: issue again";
    assert_true(error.size() > tail.size() && error.compare(error.size() - tail.size(), tail.size(), tail) == 0);
}

void state_to_enrol_makes_one_unless_enrolled(void** /*state*/)
{
    std::optional<UserState> none;
    UserState& made = state_to_enrol(none, "alice");
    assert_true(none.has_value() && &made == &*none);
    assert_string_equal(made.user.c_str(), "alice");
    assert_false(made.enrolled());

    // Failed codes alone: replaced by a fresh state.
    std::optional<UserState> failures_only = UserState{};
    failures_only->user = "alice";
    failures_only->failures = 2;
    UserState& fresh = state_to_enrol(failures_only, "alice");
    assert_true(&fresh == &*failures_only);
    assert_int_equal(fresh.failures, 0);

    // Enrolled (here: backup codes): kept as it is, count included.
    std::optional<UserState> existing = UserState{};
    existing->user = "alice";
    existing->failures = 2;
    existing->codes = BackupCodeSet{};
    UserState& kept = state_to_enrol(existing, "alice");
    assert_true(&kept == &*existing);
    assert_int_equal(kept.failures, 2);
}

template <typename Exception>
std::string message_for(Exception e)
{
    try {
        throw e;
    } catch (...) {
        return current_failure_message();
    }
}

void failure_messages(void** /*state*/)
{
    assert_string_equal(message_for(OperationFailed("wrong code")).c_str(), "wrong code");
    assert_string_equal(message_for(std::bad_alloc()).c_str(), "out of memory");
    assert_string_equal(message_for(std::logic_error("oops")).c_str(), "internal error: oops");
    assert_string_equal(message_for(42).c_str(), "internal error");
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(new_enrolment_takes_the_configuration),
        cmocka_unit_test(enrolment_text),
        cmocka_unit_test(confirmation_from_a_pipe_or_file),
        cmocka_unit_test(code_sheet),
        cmocka_unit_test(codes_not_shown_say_so),
        cmocka_unit_test(state_to_enrol_makes_one_unless_enrolled),
        cmocka_unit_test(failure_messages),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
