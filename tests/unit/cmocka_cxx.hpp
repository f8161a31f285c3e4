// cmocka 1.1.5 has no C++ guards: include its prerequisites, then wrap it.
#pragma once

// cmocka defines a fail() macro that breaks <ios>; pull the standard
// headers the tests use in first.
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
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

#include <string>

// cmocka's assert macros take integral values; these keep the casts in one place.
#define assert_true_msg(cond) assert_true(static_cast<bool>(cond))
