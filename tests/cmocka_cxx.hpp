// cmocka for the C++ tests (tests/unit, tests/pam, tests/pg): cmocka 1.1.5
// has no C++ guards, so include its prerequisites, then wrap it. cmocka
// defines a fail() macro that breaks <ios>: the standard headers the tests
// use come first, and this header comes last in a test's includes.
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
}
// clang-format on

// String equality with both values in the failure message.
#define assert_text(actual, expected) assert_string_equal(std::string(actual).c_str(), std::string(expected).c_str())
