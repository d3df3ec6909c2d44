#!/bin/bash
# The sources follow the repository's .clang-format.
. "$(dirname "$0")/lib.sh"
command -v clang-format >/dev/null || skip "clang-format not installed (apt-get install clang-format)"
cd "$TOP_SRCDIR"
bad=0
for f in src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/integration/*.c bench/*.c; do
  [ -f "$f" ] || continue
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
check "every C file is clang-formatted" test "$bad" -eq 0
finish
