# The check lines and closing count shared by the shell tests (admin,
# pg, reliability.memcheck): "ok - NAME", "not ok - NAME" with an optional
# detail indented under it, and "N passed, M failed". Sourced, not run.
# shellcheck shell=bash

PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }

not_ok() { # not_ok NAME [DETAIL]
    FAILED=$((FAILED + 1))
    echo "not ok - $1"
    if [ -n "${2:-}" ]; then
        printf '%s\n' "$2" | sed 's/^/#   /'
    fi
}

summary() { # the closing line; fails if any check failed
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
