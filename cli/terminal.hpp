// What the command-line tools ask of the terminal: its name, and one line
// typed on standard input (read unbuffered into a wiping buffer, because it
// is a code or a password).
#pragma once

#include "secure_memory.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace twofactor::cli {

// The terminal on standard input ("/dev/pts/3"), or "" when it is not one.
std::string stdin_tty();

enum class Prompt {
    terminal_only, // a script piping codes in needs no prompt
    always,        // a program driving the tool through pipes waits for it:
                   // then it ends with a newline, so a line reader sees it
};

// Reads one line from standard input, without its newline, after writing
// `prompt` to standard error; with `hide` a terminal does not echo what is
// typed. nullopt at end of input.
std::optional<SecureChars> read_line(std::string_view prompt, Prompt when, bool hide);

} // namespace twofactor::cli
