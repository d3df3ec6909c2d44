#!/bin/bash
# The sources follow the repository's .clang-format.
. "$(dirname "$0")/lib.sh"
command -v clang-format >/dev/null || skip "clang-format not installed (apt-get install clang-format)"
cd "$TOP_SRCDIR"
bad=0
# Committed files only (work in progress is not judged); every C file when not in a git checkout.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files '*.c' '*.h')
else
  files=$(find src tests bench fuzz -name '*.[ch]' 2>/dev/null)
fi
for f in $files; do
  [ -f "$f" ] || continue
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
check "every C file is clang-formatted" test "$bad" -eq 0
finish
