# Shared by the end-to-end tests: counters, checks, and a closing summary.
# shellcheck shell=bash
passed=0
failed=0

check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1)); echo "ok   - $1"
  else
    failed=$((failed + 1)); echo "FAIL - $1 (expected $2, got $3)"
  fi
}

check_contains() { # check_contains NAME NEEDLE FILE
  if grep -qF -- "$2" "$3"; then
    passed=$((passed + 1)); echo "ok   - $1"
  else
    failed=$((failed + 1)); echo "FAIL - $1 ('$2' not in output:)"; sed 's/^/    | /' "$3"
  fi
}

summary() {
  echo "== $passed passed, $failed failed =="
  [ "$failed" -eq 0 ]
}

# The JSON field FIELD (a list: joined by newlines) from a file.
json_field() { # json_field FILE FIELD
  /usr/bin/python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print("\n".join(v) if isinstance(v, list) else v)' "$1" "$2"
}
