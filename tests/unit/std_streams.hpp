// For tests of the command-line pieces, which read standard input and write
// standard output and error with read(2) and write(2): run a body with one
// of those descriptors on a temporary file.
#pragma once

#include "cmocka_cxx.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace twofactor::test {

// A temporary file holding `contents`, unlinked, positioned at its start.
inline int temporary_file(std::string_view contents)
{
    char path[] = "/tmp/twofactor-test-stream.XXXXXX";
    const int fd = ::mkstemp(path);
    assert_true(fd >= 0);
    ::unlink(path);
    assert_true(::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
    ::lseek(fd, 0, SEEK_SET);
    return fd;
}

// Runs `body` with descriptor `fd` (0, 1 or 2) on `file`, then puts it back.
template <typename Body>
void with_fd(int fd, int file, Body body)
{
    // cmocka's own output is buffered in stdio: out of the way first.
    std::fflush(stdout);
    std::fflush(stderr);
    const int saved = ::dup(fd);
    assert_true(saved >= 0 && ::dup2(file, fd) == fd);
    body();
    ::dup2(saved, fd);
    ::close(saved);
}

// What `body` writes to descriptor `fd`.
template <typename Body>
std::string captured(int fd, Body body)
{
    const int file = temporary_file("");
    with_fd(fd, file, body);
    std::string text;
    char buffer[4096];
    ssize_t n = 0;
    ::lseek(file, 0, SEEK_SET);
    while ((n = ::read(file, buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<std::size_t>(n));
    ::close(file);
    return text;
}

// Runs `body` with standard input reading `input`.
template <typename Body>
void with_input(std::string_view input, Body body)
{
    const int file = temporary_file(input);
    with_fd(STDIN_FILENO, file, body);
    ::close(file);
}

} // namespace twofactor::test
