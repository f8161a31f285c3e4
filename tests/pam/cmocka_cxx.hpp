// cmocka 1.1.5 and libpamtest 1.1.4 have no C++ guards: include their
// prerequisites, then wrap them. cmocka defines a fail() macro that breaks
// <ios>, so the standard headers the tests use come first.
#pragma once

#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
#include <libpamtest.h>
}
// clang-format on

#include "pam_login.hpp"

// PAM results by name in the failure message.
#define assert_pam(actual, expected)                                                                                   \
    do {                                                                                                               \
        const int actual_ = (actual);                                                                                  \
        const int expected_ = (expected);                                                                              \
        if (actual_ != expected_)                                                                                      \
            fail_msg("got %s (%d), expected %s (%d)", pamtest::pam_name(actual_), actual_,                             \
                     pamtest::pam_name(expected_), expected_);                                                         \
    } while (0)

// String equality with both values in the failure message.
#define assert_text(actual, expected) assert_string_equal(std::string(actual).c_str(), std::string(expected).c_str())
