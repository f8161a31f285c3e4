// What the command-line tools print (cli/output.hpp, cli/qr.hpp): the
// printable filter every string from a state file or PAM goes through
// before it reaches a terminal, the wiping output buffer and the notices,
// times, and the shape of the terminal QR code.
#include "operation_failed.hpp"
#include "output.hpp"
#include "qr.hpp"

#include "cmocka_cxx.hpp"
#include "std_streams.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

using namespace twofactor;
using namespace twofactor::cli;
using twofactor::test::captured;

namespace {

void printable_text_stays(void** /*state*/)
{
    const std::string ascii = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~";
    assert_string_equal(printable(ascii).c_str(), ascii.c_str());
    assert_string_equal(printable("").c_str(), "");
}

void control_and_non_ascii_bytes_become_question_marks(void** /*state*/)
{
    // A remote host name chosen to retitle the terminal (OSC 0) and ring it.
    assert_string_equal(printable("\x1b]0;pwned\x07").c_str(), "?]0;pwned?");
    // CSI, DEL, tab, newline, carriage return.
    assert_string_equal(printable("\x1b[2J\x7f\t\n\r").c_str(), "?[2J????");
    // NUL inside the text; each byte of UTF-8 and of C1 controls (0x9b is CSI).
    assert_string_equal(printable(std::string_view("a\0b", 3)).c_str(), "a?b");
    assert_string_equal(printable("Z\xc3\xbcrich \x9b\xff").c_str(), "Z??rich ??");
    // Every byte outside 0x20..0x7e, one for one.
    for (int c = 0; c < 256; ++c) {
        const std::string in(1, static_cast<char>(c));
        const std::string out = printable(in);
        assert_int_equal(out.size(), 1);
        assert_int_equal(out[0], c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
}

void output_buffer_writes_on_flush_only(void** /*state*/)
{
    const std::string text = captured(STDOUT_FILENO, [] {
        OutputBuffer out;
        SecureChars secret{'S', 'E', 'C'};
        out << "a" << ' ' << std::string("b") << std::string_view("c") << secret << 7u << -3 << std::uint64_t{42}
            << std::int64_t{-5} << '\n';
        out.padded("ab", 5).padded("toolong", 3) << "|\n";
        struct stat before {};
        assert_true(::fstat(STDOUT_FILENO, &before) == 0 && before.st_size == 0);
        out.flush();
        out.flush(); // empty now: writes nothing more
    });
    assert_string_equal(text.c_str(), "a bcSEC7-342-5\nab   toolong|\n");
}

void output_buffer_reports_a_failed_write(void** /*state*/)
{
    const int read_only = ::open("/dev/null", O_RDONLY);
    assert_true(read_only >= 0);
    std::string error;
    test::with_fd(STDOUT_FILENO, read_only, [&] {
        try {
            OutputBuffer out;
            out << "lost";
            out.flush();
        } catch (const OperationFailed& e) {
            error = e.what();
        }
    });
    ::close(read_only);
    assert_true(error.rfind("cannot write to standard output: ", 0) == 0);
}

void notices_are_one_printable_line(void** /*state*/)
{
    const std::string text = captured(STDERR_FILENO, [] {
        set_program_name("twofactor-test");
        notice("user \x1b[31mred\x1b[0m\nsecond line");
    });
    assert_string_equal(text.c_str(), "twofactor-test: user ?[31mred?[0m?second line\n");
}

void times(void** /*state*/)
{
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    assert_string_equal(format_time(0).c_str(), "-");
    assert_string_equal(format_time_long(0).c_str(), "-");
    assert_string_equal(format_time(1714564805).c_str(), "2024-05-01 12:00");
    assert_string_equal(format_time_long(1714564805).c_str(), "2024-05-01 12:00:05 UTC");
    assert_false(host_name().empty());
}

void qr_styles(void** /*state*/)
{
    assert_true(parse_qr_style("utf8") == QrStyle::utf8);
    assert_true(parse_qr_style("ansi") == QrStyle::ansi);
    assert_true(parse_qr_style("none") == QrStyle::none);
    assert_false(parse_qr_style("UTF8").has_value());
    assert_false(parse_qr_style("").has_value());
}

std::vector<std::string> lines_of(const SecureChars& text)
{
    std::vector<std::string> lines;
    std::string line;
    for (char c : text) {
        if (c == '\n') {
            lines.push_back(line);
            line.clear();
        } else {
            line.push_back(c);
        }
    }
    assert_true(line.empty()); // every line ends in '\n'
    return lines;
}

// Characters (UTF-8 sequences) in `line`.
std::size_t columns(const std::string& line)
{
    std::size_t n = 0;
    for (char c : line)
        n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
    return n;
}

void qr_code_shape(void** /*state*/)
{
    const std::string uri = "otpauth://totp/host:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=host"
                            "&algorithm=SHA1&digits=6&period=30";
    const SecureChars text(uri.begin(), uri.end());
    assert_true(render_qr(text, QrStyle::none).empty());

    // A square of modules (21 + 4k wide) inside a 4-module quiet zone, two
    // module rows per line.
    const std::vector<std::string> utf8 = lines_of(render_qr(text, QrStyle::utf8));
    const std::size_t size = columns(utf8.at(0));
    assert_true(size >= 21 + 8 && (size - 8 - 21) % 4 == 0);
    assert_int_equal(utf8.size(), (size + 1) / 2);
    for (const std::string& line : utf8)
        assert_int_equal(columns(line), size);
    // The top two lines are quiet zone: light above and below, full blocks.
    std::string full;
    for (std::size_t i = 0; i < size; ++i)
        full += "\u2588";
    assert_string_equal(utf8[0].c_str(), full.c_str());
    assert_string_equal(utf8[1].c_str(), full.c_str());

    // ANSI: the same lines, each resetting the colours at its end.
    const std::vector<std::string> ansi = lines_of(render_qr(text, QrStyle::ansi));
    assert_int_equal(ansi.size(), utf8.size());
    for (const std::string& line : ansi)
        assert_true(line.size() > 4 && line.compare(line.size() - 4, 4, "\x1b[0m") == 0);
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(printable_text_stays),
        cmocka_unit_test(control_and_non_ascii_bytes_become_question_marks),
        cmocka_unit_test(output_buffer_writes_on_flush_only),
        cmocka_unit_test(output_buffer_reports_a_failed_write),
        cmocka_unit_test(notices_are_one_printable_line),
        cmocka_unit_test(times),
        cmocka_unit_test(qr_styles),
        cmocka_unit_test(qr_code_shape),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
