#include "terminal.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <string>

namespace twofactor::cli {

std::string stdin_tty()
{
    char buffer[256] = {};
    if (::ttyname_r(STDIN_FILENO, buffer, sizeof buffer) != 0)
        return {};
    return buffer;
}

namespace {

// The terminal settings to put back (by ~EchoOff or the signal handler), and
// whether the handler should.
termios g_saved_termios{};
volatile sig_atomic_t g_echo_off = 0;

// A signal that ends the process while echo is off (Ctrl-C, Ctrl-\, a hang
// up, kill) would leave the user's terminal without echo: put it back, then
// die of the signal as if we had not caught it (SA_RESETHAND restored the
// default action; the raised signal is delivered when this returns).
extern "C" void restore_echo_and_reraise(int signo)
{
    const int saved_errno = errno;
    if (g_echo_off != 0)
        ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
    ::raise(signo);
    errno = saved_errno;
}

constexpr int kFatalSignals[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

// Restores the terminal's echo on scope exit, whatever happens, and on a
// signal that ends the process meanwhile.
class EchoOff {
public:
    EchoOff()
    {
        if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0)
            return;
        struct sigaction action {};
        action.sa_handler = restore_echo_and_reraise;
        action.sa_flags = SA_RESETHAND;
        sigemptyset(&action.sa_mask);
        // Only where the signal would kill us: an ignored one stays ignored.
        for (std::size_t i = 0; i < std::size(kFatalSignals); ++i)
            handlers_set_[i] = ::sigaction(kFatalSignals[i], nullptr, &previous_[i]) == 0
                && previous_[i].sa_handler == SIG_DFL && ::sigaction(kFatalSignals[i], &action, nullptr) == 0;
        termios quiet = g_saved_termios;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        g_echo_off = 1;
        active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    ~EchoOff()
    {
        if (active_) {
            ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
            // The newline the user typed was not echoed either.
            if (::write(STDERR_FILENO, "\n", 1) < 0) {}
        }
        g_echo_off = 0;
        for (std::size_t i = 0; i < std::size(kFatalSignals); ++i)
            if (handlers_set_[i])
                ::sigaction(kFatalSignals[i], &previous_[i], nullptr);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    bool active_ = false;
    struct sigaction previous_[std::size(kFatalSignals)]{};
    bool handlers_set_[std::size(kFatalSignals)] = {};
};

} // namespace

std::optional<SecureChars> read_line(std::string_view prompt, Prompt when, bool hide)
{
    // A code is short; anything longer is kept only up to this and then
    // fails to verify, without growing the buffer without bound.
    constexpr std::size_t kMaxLine = 1024;
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    // Echo goes off before the prompt appears: switching it (TCSAFLUSH)
    // discards input not yet read, so an answer typed, or sent by a program,
    // as soon as the prompt shows would otherwise be echoed and then lost.
    std::optional<EchoOff> echo_off;
    if (tty && hide)
        echo_off.emplace();
    if (tty || when == Prompt::always) {
        std::string text(prompt);
        if (!tty)
            text += '\n';
        if (::write(STDERR_FILENO, text.data(), text.size()) < 0) {
            // Nowhere to prompt: still read the answer.
        }
    }

    SecureChars line;
    line.reserve(64);
    bool any = false;
    // One byte at a time, so nothing after the newline is consumed: a second
    // read_line (another attempt) sees the next line.
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (n == 0)
            break;
        any = true;
        const bool end = c == '\n';
        if (!end && line.size() < kMaxLine)
            line.push_back(c);
        wipe(&c, 1);
        if (end)
            return line;
    }
    if (!any)
        return std::nullopt;
    return line;
}

} // namespace twofactor::cli
